"""One try of one chunk: claim it, execute it in its own transaction, write its outcomes and change log."""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.operations import executor_for
from batch.operations.base import ChangeRow, Context
from batch.runner.claims import claim_chunk, release_chunk
from batch.runner.failures import (
    ConnectionLost,
    connection_lost,
    crashed_error,
    error_reference,
    fail_chunk,
    internal_error,
    is_transient,
    retry_transient,
)
from batch.runner.items import Outcome, resolve_dependencies, run_group, run_until_failure
from batch.runner.progress import add_counts, stops_on_error
from batch.sql import copy_insert, values_update
from hockeyhub.logs import bound
from hockeyhub.metrics import observe_chunk_duration

log = logging.getLogger("batch")


def run_next_chunk(*, batch_id: int) -> str:
    """Claim and execute one ready chunk. Return "ran", "wait" (all ready chunks held) or "empty"."""
    claim = claim_chunk(batch_id)
    if isinstance(claim, str):
        return claim
    lost = False
    try:
        if claim.crashes >= settings.BATCH_CHUNK_MAX_CRASHES:
            log.error(
                "batch %s chunk %s: its runner died %s times; failing its items as RUNNER_CRASHED",
                batch_id,
                claim.chunk_id,
                claim.crashes,
            )
            fail_chunk(
                batch_id=batch_id, chunk_id=claim.chunk_id, error=crashed_error(claim), attempts=claim.attempt
            )
            return "ran"
        started = time.monotonic()
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.BATCH_LOCK_TIMEOUT_MS}ms"])
                # No ordering: the model's default (batch, seq) would join the batch row and lock it
                # too, for the whole chunk, serializing every runner of the batch.
                chunk = (
                    BatchChunk.objects.select_for_update(of=("self",))
                    .filter(pk=claim.chunk_id, status=BatchChunk.Status.PENDING)
                    .order_by()
                    .first()
                )
                if chunk is None:  # a cancel or stop closed it since the claim
                    return "ran"
                with bound(chunk_id=chunk.pk, chunk_seq=chunk.seq):
                    execute_chunk(batch_id=batch_id, chunk=chunk, attempt=claim.attempt)
            observe_chunk_duration(time.monotonic() - started)  # committed: claim to commit, across workers
            return "ran"
        except DatabaseError as exc:
            if connection_lost(exc):
                lost = True
                raise ConnectionLost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
            if not is_transient(exc):
                raise
            retry_transient(batch_id=batch_id, claim=claim, exc=exc)
            return "ran"
    except ConnectionLost:
        raise  # the chunk rolled back with the session; run_turn hands the slot to a new runner
    except Exception as exc:  # noqa: BLE001 - a bug in one chunk must not take the runner down
        ref = error_reference()
        log.exception("batch %s chunk %s: internal error [ref %s]", batch_id, claim.chunk_id, ref)
        fail_chunk(
            batch_id=batch_id, chunk_id=claim.chunk_id, error=internal_error(exc, ref), attempts=claim.attempt
        )
        return "ran"
    finally:
        if not lost:  # a lost session took its chunk lock with it
            release_chunk(claim.chunk_id)


def execute_chunk(*, batch_id: int, chunk: BatchChunk, attempt: int) -> None:
    """Run the chunk's items and write their outcomes, change log and the batch counters.

    Called inside the chunk's transaction. Queries: a constant handful plus each executor's prepare.
    """
    batch = Batch.objects.select_related("team", "created_by").get(pk=batch_id)
    written = write_chunk(batch=batch, chunk=chunk, attempt=attempt)
    add_counts(batch_id, [o.status for o in written.outcomes.values()], chunks_done=1, warned=written.warned)


class ChunkWrite(NamedTuple):
    outcomes: dict[int, Outcome]
    warned: int  # items that ended with a warning (the batch's amber count)


def write_chunk(*, batch: Batch, chunk: BatchChunk, attempt: int) -> ChunkWrite:
    """Run the chunk's pending items and write their outcomes, change log and the chunk's DONE state;
    return the outcomes and how many items warned (the caller moves the batch counters).

    With stopOnError (or rollbackOnError) the chunk stops at its first failing item, in item order:
    the items after it do not commit and end SKIPPED / STOPPED_ON_ERROR (`run_until_failure`).
    """
    started = time.monotonic()
    items = list(BatchItem.objects.filter(chunk=chunk, status=BatchItem.Status.PENDING).order_by("seq"))
    outcomes: dict[int, Outcome] = {}
    ctx = Context(team=batch.team, user=batch.created_by, options=batch.options, dry_run=False, batch=batch)

    ready = resolve_dependencies(items, outcomes)
    if stops_on_error(batch.options):
        run_until_failure(ready, ctx, outcomes)
    else:
        by_type: dict[str, list[BatchItem]] = {}
        for item in ready:
            by_type.setdefault(item.type, []).append(item)
        for op_type, group in by_type.items():
            run_group(executor_for(op_type), group, ctx, outcomes)

    now = timezone.now()
    elapsed_ms = int((time.monotonic() - started) * 1000)
    per_item_ms = (time.monotonic() - started) * 1000 / max(len(items), 1)
    rows = []
    for item in items:
        outcome = outcomes[item.pk]
        notes = ctx.notes.get(item.op_id, {})
        rows.append(
            {
                "pk": item.pk,
                "status": outcome.status,
                "result": outcome.result,
                "error": outcome.error,
                "warnings": notes.get("warnings", []),
                "attempts": attempt,
                "finished_at": now,
                "duration_ms": per_item_ms,
            }
        )
    values_update(
        BatchItem, rows, ["status", "result", "error", "warnings", "attempts", "finished_at", "duration_ms"]
    )
    if ctx.changes:
        copy_insert(BatchChange, [change_row(c, now) for c in ctx.changes], CHANGE_FIELDS)
    BatchChunk.objects.filter(pk=chunk.pk).update(
        status=BatchChunk.Status.DONE, attempts=attempt, finished_at=now, duration_ms=elapsed_ms
    )
    return ChunkWrite(outcomes, warned=sum(1 for row in rows if row["warnings"]))


CHANGE_FIELDS = [
    "batch",
    "item",
    "model",
    "object_id",
    "action",
    "before",
    "after",
    "version_after",
    "undoable",
    "created_at",
]


def change_row(change: ChangeRow, now: Any) -> dict[str, Any]:
    return {
        "batch": change.batch_id,
        "item": change.item_id,
        "model": change.model,
        "object_id": change.object_id,
        "action": change.action,
        "before": change.before,
        "after": change.after,
        "version_after": change.version_after,
        "undoable": change.undoable,
        "created_at": now,
    }
