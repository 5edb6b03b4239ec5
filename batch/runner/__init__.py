"""The runner: claims ready chunks of one batch and executes each in its own transaction.

Up to `runner_slots` runners work a batch at once. A runner holds a PostgreSQL session advisory lock
for its slot, so a slot has at most one live runner however many jobs are queued for it, and a crashed
runner's slot frees itself when its connection drops. Each chunk is claimed with
SELECT ... FOR UPDATE SKIP LOCKED inside the transaction that does its work, so a crash rolls the chunk
back and leaves it claimable; nothing is lost and nothing runs twice.

The package reads bottom-up: `progress` (counters, the stop rule) and `claims` (claiming a chunk),
`failures` (retries, internal errors, crashed chunks), `items` (a chunk's items, bulk then one by one),
`chunks` (one try of one chunk), `finalize` (the final state and the finish hook), and `slots` (slot
locks, a job's turn, fair shares). The package re-exports only what modules outside it import from
`batch.runner`; anything else (and a patch) names its module (e.g. `batch.runner.chunks.execute_chunk`).
"""

from __future__ import annotations

from batch.runner.chunks import run_next_chunk
from batch.runner.finalize import batch_finalize
from batch.runner.slots import (
    SLOT_LOCKS_SQL,
    over_team_share,
    run_batch,
    run_turn,
    runner_slot,
    slot_is_free,
    slot_lock_key,
)

__all__ = [
    "SLOT_LOCKS_SQL",
    "batch_finalize",
    "over_team_share",
    "run_batch",
    "run_next_chunk",
    "run_turn",
    "runner_slot",
    "slot_is_free",
    "slot_lock_key",
]
