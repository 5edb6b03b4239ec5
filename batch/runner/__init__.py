"""The runner: claims ready chunks of one batch and executes each in its own transaction.

Up to `runner_slots` runners work a batch at once. A runner holds a PostgreSQL session advisory lock
for its slot, so a slot has at most one live runner however many jobs are queued for it, and a crashed
runner's slot frees itself when its connection drops. Each chunk is claimed with
SELECT ... FOR UPDATE SKIP LOCKED inside the transaction that does its work, so a crash rolls the chunk
back and leaves it claimable; nothing is lost and nothing runs twice.

The package reads bottom-up: `progress` (counters, the stop rule) and `claims` (claiming a chunk),
`failures` (retries, internal errors, crashed chunks), `items` (a chunk's items, bulk then one by one),
`chunks` (one try of one chunk), `finalize` (the final state and the finish hook), and `slots` (slot
locks, a job's turn, fair shares). The names below are re-exported for `batch.runner` importers; a
patch must name the module that looks the name up (e.g. `batch.runner.chunks.execute_chunk`).
"""

from __future__ import annotations

from batch.runner.chunks import CHANGE_FIELDS, change_row, execute_chunk, run_next_chunk
from batch.runner.claims import CHUNK_NAMESPACE, CLAIM_WINDOW, Claim, chunk_key, claim_chunk, release_chunk
from batch.runner.failures import (
    TRANSIENT_SQLSTATES,
    backoff_seconds,
    crashed_error,
    error_reference,
    fail_chunk,
    internal_error,
    is_transient,
    retry_transient,
)
from batch.runner.finalize import batch_finalize, close_remaining, final_status, on_finished
from batch.runner.items import Outcome, apply_one, check_item, resolve_dependencies, run_group
from batch.runner.progress import add_counts, must_stop
from batch.runner.slots import (
    ADVISORY_NAMESPACE,
    CLIENT_CHECK_INTERVAL,
    IDLE_SLEEP_SECONDS,
    SLOT_LOCKS_SQL,
    over_team_share,
    run_batch,
    run_turn,
    runner_slot,
    running_per_team,
    slot_is_free,
    slot_lock_key,
)

__all__ = [
    "ADVISORY_NAMESPACE",
    "CHANGE_FIELDS",
    "CHUNK_NAMESPACE",
    "CLAIM_WINDOW",
    "CLIENT_CHECK_INTERVAL",
    "IDLE_SLEEP_SECONDS",
    "SLOT_LOCKS_SQL",
    "TRANSIENT_SQLSTATES",
    "Claim",
    "Outcome",
    "add_counts",
    "apply_one",
    "backoff_seconds",
    "batch_finalize",
    "change_row",
    "check_item",
    "chunk_key",
    "claim_chunk",
    "close_remaining",
    "crashed_error",
    "error_reference",
    "execute_chunk",
    "fail_chunk",
    "final_status",
    "internal_error",
    "is_transient",
    "must_stop",
    "on_finished",
    "over_team_share",
    "release_chunk",
    "resolve_dependencies",
    "retry_transient",
    "run_batch",
    "run_group",
    "run_next_chunk",
    "run_turn",
    "runner_slot",
    "running_per_team",
    "slot_is_free",
    "slot_lock_key",
]
