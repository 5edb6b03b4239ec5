"""The runner: claims ready chunks of one batch and executes each in its own transaction.

Up to `runner_slots` runners work a batch at once. A runner holds a PostgreSQL session advisory lock
for its slot, so a slot has at most one live runner however many jobs are queued for it, and a crashed
runner's slot frees itself when its connection drops. Each chunk is claimed with
SELECT ... FOR UPDATE SKIP LOCKED inside the transaction that does its work, so a crash rolls the chunk
back and leaves it claimable; nothing is lost and nothing runs twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Min, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.operations import executor_for
from batch.operations.base import Context
from batch.request import resolve_refs
from batch.sql import copy_insert, values_update
from batch.undo import batch_rollback_start, batch_undo_finished
from hockeyhub.logs import bound
from hockeyhub.metrics import observe_chunk_duration

log = logging.getLogger("batch")

ADVISORY_NAMESPACE = 0x4842  # "HB"
IDLE_SLEEP_SECONDS = 0.05
# SQLSTATEs worth another attempt: serialization failure, deadlock, lock timeout, connection trouble.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "08000", "08003", "08006", "57P01"}


def is_transient(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES


@contextmanager
def runner_slot(batch_id: int, slot: int) -> Iterator[bool]:
    """Hold the slot's advisory lock for the runner's life; yield False if another runner has it."""
    key = batch_id * 64 + slot
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, key])


def slot_is_free(batch_id: int, slot: int) -> bool:
    """Return True when no live runner holds the slot (the check takes and drops the lock)."""
    key = batch_id * 64 + slot
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, key])
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, key])
    return free


def run_batch(*, batch_id: int, slot: int = 0) -> str:
    """Work the batch until nothing is left for this runner; return why it stopped."""
    with bound(batch_id=batch_id, slot=slot), runner_slot(batch_id, slot) as acquired:
        if not acquired:
            return "slot-busy"
        attempts: dict[int, int] = {}
        while True:
            batch = Batch.objects.only("status", "options", "failed", "kind").get(pk=batch_id)
            if batch.is_final:
                return "final"
            if batch.status == Batch.Status.CANCELLING or must_stop(batch):
                batch_finalize(batch_id=batch_id)
                return "stopped"
            outcome = run_next_chunk(batch_id=batch_id, attempts=attempts)
            if outcome == "empty":
                batch_finalize(batch_id=batch_id)
                return "done"
            if outcome == "wait":
                time.sleep(IDLE_SLEEP_SECONDS)


def must_stop(batch: Batch) -> bool:
    """A failure stops the batch when stopOnError, or rollbackOnError (which then undoes it), is on."""
    options = batch.options
    return bool(batch.failed and (options.get("stop_on_error") or options.get("rollback_on_error")))


def run_next_chunk(*, batch_id: int, attempts: dict[int, int]) -> str:
    """Claim and execute one ready chunk. Return "ran", "wait" (all ready chunks held) or "empty"."""
    claimed: list[int] = []
    started = time.monotonic()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.BATCH_LOCK_TIMEOUT_MS}ms"])
            pending = BatchChunk.objects.filter(batch_id=batch_id, status=BatchChunk.Status.PENDING)
            level = pending.aggregate(level=Min("level"))["level"]
            if level is None:
                return "empty"
            chunk = pending.filter(level=level).order_by("seq").select_for_update(skip_locked=True).first()
            if chunk is None:
                return "wait"
            claimed.append(chunk.pk)
            with bound(chunk_id=chunk.pk, chunk_seq=chunk.seq):
                execute_chunk(batch_id=batch_id, chunk=chunk, attempt=attempts.get(chunk.pk, 0) + 1)
        attempts.pop(chunk.pk, None)
        observe_chunk_duration(time.monotonic() - started)  # committed: claim to commit, across workers
        return "ran"
    except DatabaseError as exc:
        if not claimed or not is_transient(exc):
            raise
        chunk_id = claimed[0]
        attempts[chunk_id] = attempts.get(chunk_id, 0) + 1
        batch = Batch.objects.only("options").get(pk=batch_id)
        allowed = (
            batch.options.get("retry_attempts", 3) if batch.options.get("retry_failed_operations") else 0
        )
        if attempts[chunk_id] > allowed:
            log.warning(
                "batch %s chunk %s: giving up after %s attempts: %s",
                batch_id,
                chunk_id,
                attempts[chunk_id],
                exc,
            )
            fail_chunk(batch_id=batch_id, chunk_id=chunk_id, exc=exc, attempts=attempts.pop(chunk_id))
            return "ran"
        delay = backoff_seconds(attempts[chunk_id])
        log.info(
            "batch %s chunk %s: transient %s, retry %s in %.2fs",
            batch_id,
            chunk_id,
            getattr(exc.__cause__, "sqlstate", ""),
            attempts[chunk_id],
            delay,
        )
        time.sleep(delay)
        return "ran"


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: base * 2^(attempt-1), scaled by a random 0.5-1.0."""
    base = settings.BATCH_RETRY_BASE_DELAY_MS / 1000
    return base * (2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


@dataclass
class Outcome:
    status: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] | None = None


def execute_chunk(*, batch_id: int, chunk: BatchChunk, attempt: int) -> None:
    """Run the chunk's items and write their outcomes, change log and the batch counters.

    Called inside the chunk's transaction. Queries: a constant handful plus each executor's prepare.
    """
    started = time.monotonic()
    batch = Batch.objects.select_related("team", "created_by").get(pk=batch_id)
    items = list(BatchItem.objects.filter(chunk=chunk, status=BatchItem.Status.PENDING).order_by("seq"))
    outcomes: dict[int, Outcome] = {}
    ctx = Context(team=batch.team, user=batch.created_by, options=batch.options, dry_run=False, batch=batch)

    ready = resolve_dependencies(items, outcomes)
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
    add_counts(batch_id, [o.status for o in outcomes.values()], chunks_done=1)


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


def change_row(change: BatchChange, now: Any) -> dict[str, Any]:
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


def add_counts(batch_id: int, statuses: Sequence[str], *, chunks_done: int) -> None:
    """Move the batch counters in the caller's transaction, and mark it RUNNING on first progress."""
    S = BatchItem.Status  # noqa: N806
    counts = dict.fromkeys((S.SUCCEEDED, S.FAILED, S.SKIPPED, S.CANCELLED, S.CONFLICT), 0)
    for status in statuses:
        counts[status] += 1
    now = timezone.now()
    Batch.objects.filter(pk=batch_id).update(
        succeeded=F("succeeded") + counts[S.SUCCEEDED],
        failed=F("failed") + counts[S.FAILED],
        skipped=F("skipped") + counts[S.SKIPPED],
        cancelled=F("cancelled") + counts[S.CANCELLED],
        conflicted=F("conflicted") + counts[S.CONFLICT],
        done_chunks=F("done_chunks") + chunks_done,
        last_progress_at=now,
        started_at=Coalesce(F("started_at"), Value(now)),
        status=Case(When(status=Batch.Status.QUEUED, then=Value(Batch.Status.RUNNING)), default=F("status")),
    )


def resolve_dependencies(items: list[BatchItem], outcomes: dict[int, Outcome]) -> list[BatchItem]:
    """Skip items whose dependencies did not succeed; fill $refs of the rest. One query."""
    dep_ids = {d for item in items for d in item.depends_on}
    deps = {}
    if dep_ids:
        deps = {d.pk: d for d in BatchItem.objects.filter(pk__in=dep_ids).only("op_id", "status", "result")}
    ready = []
    for item in items:
        failed = [deps[d] for d in item.depends_on if deps[d].status != BatchItem.Status.SUCCEEDED]
        if failed:
            first = failed[0]
            outcomes[item.pk] = Outcome(
                status=BatchItem.Status.SKIPPED,
                error=ItemError(
                    code=ErrorCode.DEPENDENCY_FAILED,
                    message=f"dependency {first.op_id!r} ended {first.status}",
                    details={"dependencies": {d.op_id: d.status for d in failed}},
                    recoverable=True,
                    suggested_action=f"Fix {first.op_id!r} first, then retry the failed items.",
                ).as_dict(),
            )
            continue
        if item.depends_on:
            results = {deps[d].op_id: (deps[d].result or {}).get("id") for d in item.depends_on}
            item.data = resolve_refs(item.data, results)
        ready.append(item)
    return ready


def run_group(executor: Any, group: list[BatchItem], ctx: Context, outcomes: dict[int, Outcome]) -> None:
    """prepare → check each → apply the passing ones in bulk; on a bulk failure, one savepoint per item."""
    ctx.cache = {}
    executor.prepare(group, ctx)
    passing = [item for item in group if check_item(executor, item, ctx, outcomes)]
    if not passing:
        return
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            results = executor.apply(passing, ctx)
    except DatabaseError as exc:
        if is_transient(exc):
            raise
        log.info(
            "bulk apply of %s %s items failed (%s); falling back to one savepoint each",
            len(passing),
            executor.type,
            exc,
        )
        del ctx.changes[mark:]
        for item in passing:
            apply_one(executor, item, ctx, outcomes)
        return
    for item in passing:
        outcomes[item.pk] = Outcome(status=BatchItem.Status.SUCCEEDED, result=results.get(item.op_id))


def check_item(executor: Any, item: BatchItem, ctx: Context, outcomes: dict[int, Outcome]) -> bool:
    try:
        executor.check(item, ctx)
    except ItemError as error:
        outcomes[item.pk] = Outcome(status=error.status, error=error.as_dict())
        return False
    return True


def apply_one(executor: Any, item: BatchItem, ctx: Context, outcomes: dict[int, Outcome]) -> None:
    """Re-run one item from scratch in its own savepoint, so one bad row spares its neighbours."""
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            ctx.cache = {}
            executor.prepare([item], ctx)
            executor.check(item, ctx)
            result = executor.apply([item], ctx)
    except ItemError as error:
        del ctx.changes[mark:]
        outcomes[item.pk] = Outcome(status=error.status, error=error.as_dict())
    except (IntegrityError, DatabaseError) as exc:
        if is_transient(exc):
            raise
        del ctx.changes[mark:]
        outcomes[item.pk] = Outcome(
            status=BatchItem.Status.FAILED,
            error=ItemError(
                code=ErrorCode.VALIDATION if isinstance(exc, IntegrityError) else ErrorCode.INTERNAL,
                message=f"the database refused the change: {str(exc).splitlines()[0]}",
                suggested_action="Check the operation's data against the current state of the workout.",
            ).as_dict(),
        )
    else:
        outcomes[item.pk] = Outcome(status=BatchItem.Status.SUCCEEDED, result=result.get(item.op_id))


def fail_chunk(*, batch_id: int, chunk_id: int, exc: BaseException, attempts: int) -> None:
    """After the last retry: fail the chunk's pending items with a recoverable transient error."""
    error = ItemError(
        code=ErrorCode.TRANSIENT_EXHAUSTED,
        message=f"the database stayed busy after {attempts} attempts: {str(exc).splitlines()[0]}",
        details={"attempts": attempts, "sqlstate": getattr(exc.__cause__, "sqlstate", None)},
        recoverable=True,
        suggested_action="Retry the failed items when the conflicting work has finished.",
    ).as_dict()
    with transaction.atomic():
        chunk = BatchChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.status != BatchChunk.Status.PENDING:
            return
        items = BatchItem.objects.filter(chunk_id=chunk_id, status=BatchItem.Status.PENDING)
        count = items.update(
            status=BatchItem.Status.FAILED, error=error, attempts=attempts, finished_at=timezone.now()
        )
        BatchChunk.objects.filter(pk=chunk_id).update(
            status=BatchChunk.Status.DONE, attempts=attempts, finished_at=timezone.now()
        )
        add_counts(batch_id, [BatchItem.Status.FAILED] * count, chunks_done=1)


def close_remaining(batch: Batch, *, status: str, error: dict[str, Any]) -> bool:
    """End the pending items of every chunk no runner holds; return True if none is left pending."""
    chunks = list(
        BatchChunk.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, status=BatchChunk.Status.PENDING)
        .values_list("pk", flat=True)
    )
    if chunks:
        count = BatchItem.objects.filter(chunk_id__in=chunks, status=BatchItem.Status.PENDING).update(
            status=status, error=error, finished_at=timezone.now()
        )
        BatchChunk.objects.filter(pk__in=chunks).update(
            status=BatchChunk.Status.DONE, finished_at=timezone.now()
        )
        add_counts(batch.pk, [status] * count, chunks_done=len(chunks))
    return not BatchChunk.objects.filter(batch=batch, status=BatchChunk.Status.PENDING).exists()


def batch_finalize(*, batch_id: int) -> Batch:
    """Set the batch's final state once nothing is pending; safe to call from any runner, any time."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.is_final or batch.status == Batch.Status.ROLLING_BACK:  # its undo settles it
            return batch
        if batch.status == Batch.Status.CANCELLING:
            done = close_remaining(
                batch,
                status=BatchItem.Status.CANCELLED,
                error=ItemError(
                    code=ErrorCode.CANCELLED,
                    message="the batch was cancelled before this item ran",
                    recoverable=True,
                    suggested_action="Resume the batch to run the rest.",
                ).as_dict(),
            )
        elif must_stop(batch):
            option = "rollbackOnError" if batch.options.get("rollback_on_error") else "stopOnError"
            done = close_remaining(
                batch,
                status=BatchItem.Status.SKIPPED,
                error=ItemError(
                    code=ErrorCode.STOPPED_ON_ERROR,
                    message=f"skipped: an earlier item failed and {option} is on",
                    recoverable=True,
                    suggested_action="Fix the failed item, retry it, then resume the batch to run the rest.",
                ).as_dict(),
            )
        else:
            done = not BatchChunk.objects.filter(batch=batch, status=BatchChunk.Status.PENDING).exists()
        if not done:
            return batch
        batch.refresh_from_db()
        batch.status = final_status(batch)
        batch.finished_at = timezone.now()
        batch.undo_deadline = batch.finished_at + timezone.timedelta(hours=settings.BATCH_UNDO_WINDOW_HOURS)
        batch.save(update_fields=["status", "finished_at", "undo_deadline"])
        on_finished(batch)
        log.info(
            "batch %s finished: %s (%s ok, %s failed, %s skipped, %s cancelled)",
            batch.pk,
            batch.status,
            batch.succeeded,
            batch.failed,
            batch.skipped,
            batch.cancelled,
        )
    return batch


def final_status(batch: Batch) -> str:
    if batch.status == Batch.Status.CANCELLING:
        return Batch.Status.CANCELLED
    # Conflicts (an undo that found later edits) are failures too: "Completed" means all succeeded.
    if batch.failed + batch.conflicted == 0:
        return Batch.Status.COMPLETED
    if batch.succeeded == 0:
        return Batch.Status.FAILED
    return Batch.Status.COMPLETED_WITH_ERRORS


def on_finished(batch: Batch) -> None:
    """The finish hook, in the finalizing transaction with the batch row locked and its final state set.

    An undo that ends settles its original (UNDONE / ROLLED_BACK / partly undone). A batch with
    rollbackOnError that ends with a failed item starts its rollback: it becomes ROLLING_BACK and an
    undo batch of its committed changes is enqueued on commit.
    """
    if batch.kind == Batch.Kind.UNDO:
        if batch.undo_of_id:
            batch_undo_finished(batch)
    elif batch.options.get("rollback_on_error") and batch.failed:
        batch_rollback_start(batch)
