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
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.operations import executor_for
from batch.operations.base import ChangeRow, Context
from batch.queueing import enqueue_runner, queue, waiting_batches
from batch.request import resolve_refs
from batch.sql import copy_insert, values_update
from batch.undo import batch_rollback_start, batch_undo_finished
from hockeyhub.logs import bound
from hockeyhub.metrics import observe_chunk_duration

log = logging.getLogger("batch")

ADVISORY_NAMESPACE = 0x4842  # "HB": (namespace * 256 + slot, batch_id) is a runner slot
# Reads the slot locks back from pg_locks (alias l); the batch id is l.objid.
SLOT_LOCKS_SQL = (
    f"l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid::bigint / 256 = {ADVISORY_NAMESPACE}"
)
CHUNK_NAMESPACE = 0x4843  # (namespace, chunk id) is a claimed chunk
CLIENT_CHECK_INTERVAL = "1s"
# How many ready chunks a claim looks at: enough to get past those other runners of the batch hold.
CLAIM_WINDOW = 32
IDLE_SLEEP_SECONDS = 0.05
# SQLSTATEs worth another attempt: serialization failure, deadlock, lock timeout, connection trouble.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "08000", "08003", "08006", "57P01"}


def is_transient(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES


def slot_lock_key(batch_id: int, slot: int) -> tuple[int, int]:
    """Return the two int4 keys of a runner slot's advisory lock: (namespace and slot, batch id).

    The batch id gets a whole int4 (ids up to 2^31 - 1); packing it with the slot into one int4 would
    overflow from batch 33,554,432 on."""
    if not 0 <= slot < 256:
        raise ValueError(f"runner slot {slot} out of range 0..255")
    return ADVISORY_NAMESPACE * 256 + slot, batch_id


@contextmanager
def runner_slot(batch_id: int, slot: int) -> Iterator[bool]:
    """Hold the slot's advisory lock for the runner's life; yield False if another runner has it."""
    key = slot_lock_key(batch_id, slot)
    with connection.cursor() as cursor:
        # A backend waiting on a row lock does not notice its client died; this makes it check, so a
        # killed runner's locks (its slot, its chunk) go within a second, not when the wait ends.
        cursor.execute("SET client_connection_check_interval = %s", [CLIENT_CHECK_INTERVAL])
        cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", key)
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", key)


def slot_is_free(batch_id: int, slot: int) -> bool:
    """Return True when no live runner holds the slot (the check takes and drops the lock)."""
    key = slot_lock_key(batch_id, slot)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", key)
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", key)
    return free


def run_turn(*, batch_id: int, slot: int) -> str:
    """One runner job: give way if the team has more than its share, else run a slice; re-enqueue after.

    The job re-enqueues its slot only after `run_batch` released the slot's lock, so the next job for
    the slot never finds it busy.
    """
    if over_team_share(batch_id):
        enqueue_runner(batch_id=batch_id, slot=slot)
        return "deferred"
    outcome = run_batch(batch_id=batch_id, slot=slot, slice_seconds=settings.BATCH_TIME_SLICE_MS / 1000)
    if outcome == "yielded":
        enqueue_runner(batch_id=batch_id, slot=slot)
    return outcome


def run_batch(*, batch_id: int, slot: int = 0, slice_seconds: float | None = None) -> str:
    """Work the batch until nothing is left for this runner; return why it stopped.

    With `slice_seconds`, stop with "yielded" after the first chunk that ends past the slice if
    another job waits in the queue (with nobody waiting, the runner goes on for another slice).
    """
    with bound(batch_id=batch_id, slot=slot), runner_slot(batch_id, slot) as acquired:
        if not acquired:
            return "slot-busy"
        deadline = None if slice_seconds is None else time.monotonic() + slice_seconds
        while True:
            batch = Batch.objects.only("status", "options", "failed", "kind").get(pk=batch_id)
            if batch.is_final:
                return "final"
            if batch.status == Batch.Status.CANCELLING or must_stop(batch):
                batch_finalize(batch_id=batch_id)
                return "stopped"
            outcome = run_next_chunk(batch_id=batch_id)
            if outcome == "empty":
                batch_finalize(batch_id=batch_id)
                return "done"
            if outcome == "wait":
                time.sleep(IDLE_SLEEP_SECONDS)
            if deadline is not None and time.monotonic() >= deadline:
                if queue().count:
                    return "yielded"
                deadline = time.monotonic() + slice_seconds


def over_team_share(batch_id: int) -> bool:
    """True when another team's runner waits in the queue while this team runs more runners than it.

    Undo and rollback runners never give way. Queries: 3 and one Redis read, only when jobs wait.
    """
    waiting = set(waiting_batches()) - {batch_id}
    if not waiting:
        return False
    batch = Batch.objects.only("team_id", "kind").get(pk=batch_id)
    if batch.kind == Batch.Kind.UNDO:
        return False
    running = running_per_team()
    mine = running.get(batch.team_id, 0)
    if mine == 0:
        return False
    teams = set(
        Batch.objects.filter(pk__in=waiting, status__in=Batch.ACTIVE_STATUSES)
        .exclude(team_id=batch.team_id)
        .values_list("team_id", flat=True)
    )
    return any(running.get(team, 0) < mine for team in teams)


def running_per_team() -> dict[int, int]:
    """Return live runners per team, read from the slot locks PostgreSQL holds (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.team_id, count(*) FROM pg_locks l "
            "JOIN batch_batch b ON b.id = l.objid::bigint "
            f"WHERE l.granted AND {SLOT_LOCKS_SQL} "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "GROUP BY b.team_id"
        )
        return dict(cursor.fetchall())


def must_stop(batch: Batch) -> bool:
    """A failure stops the batch when stopOnError, or rollbackOnError (which then undoes it), is on."""
    options = batch.options
    return bool(batch.failed and (options.get("stop_on_error") or options.get("rollback_on_error")))


@dataclass(frozen=True)
class Claim:
    chunk_id: int
    attempt: int  # this try's number, counting every earlier try (crashed or transient)
    transient_failures: int

    @property
    def crashes(self) -> int:
        """Earlier tries that neither committed nor recorded a transient failure: their runner died."""
        return self.attempt - 1 - self.transient_failures


def claim_chunk(batch_id: int) -> Claim | str:
    """Claim the first free ready chunk and record the try; return a Claim, "wait" or "empty".

    The claim is a session advisory lock on the chunk (it dies with the runner's connection), so the
    try can be counted in its own committed statement before the work starts; the work transaction
    then row-locks the chunk and re-checks it is still pending. Queries: 3 (+1 per held chunk skipped).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM batch_batchchunk WHERE batch_id = %s AND status = 'PENDING' AND level = "
            "(SELECT min(level) FROM batch_batchchunk WHERE batch_id = %s AND status = 'PENDING') "
            "ORDER BY seq LIMIT %s",
            [batch_id, batch_id, CLAIM_WINDOW],
        )
        candidates = [row[0] for row in cursor.fetchall()]
        if not candidates:
            return "empty"
        for chunk_id in candidates:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CHUNK_NAMESPACE, chunk_key(chunk_id)])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute(
                "UPDATE batch_batchchunk SET attempts = attempts + 1 WHERE id = %s AND status = 'PENDING' "
                "RETURNING attempts, transient_failures",
                [chunk_id],
            )
            row = cursor.fetchone()
            if row is None:  # finished between the look-up and the lock
                release_chunk(chunk_id)
                continue
            return Claim(chunk_id=chunk_id, attempt=row[0], transient_failures=row[1])
    return "wait"


def release_chunk(chunk_id: int) -> None:
    if connection.connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CHUNK_NAMESPACE, chunk_key(chunk_id)])


def chunk_key(chunk_id: int) -> int:
    """The lock key must fit an int4; a rare collision only makes a free chunk look held for a moment."""
    return chunk_id % 2**31


def run_next_chunk(*, batch_id: int) -> str:
    """Claim and execute one ready chunk. Return "ran", "wait" (all ready chunks held) or "empty"."""
    claim = claim_chunk(batch_id)
    if isinstance(claim, str):
        return claim
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
            if not is_transient(exc):
                raise
            retry_transient(batch_id=batch_id, claim=claim, exc=exc)
            return "ran"
    except Exception as exc:  # noqa: BLE001 - a bug in one chunk must not take the runner down
        ref = error_reference()
        log.exception("batch %s chunk %s: internal error [ref %s]", batch_id, claim.chunk_id, ref)
        fail_chunk(
            batch_id=batch_id, chunk_id=claim.chunk_id, error=internal_error(exc, ref), attempts=claim.attempt
        )
        return "ran"
    finally:
        release_chunk(claim.chunk_id)


def retry_transient(*, batch_id: int, claim: Claim, exc: DatabaseError) -> None:
    """Record the transient failure; past the batch's retry budget fail the chunk, else back off."""
    failures = claim.transient_failures + 1
    BatchChunk.objects.filter(pk=claim.chunk_id).update(transient_failures=failures)
    batch = Batch.objects.only("options").get(pk=batch_id)
    allowed = batch.options.get("retry_attempts", 3) if batch.options.get("retry_failed_operations") else 0
    if failures > allowed:
        log.warning(
            "batch %s chunk %s: giving up after %s attempts: %s", batch_id, claim.chunk_id, failures, exc
        )
        error = ItemError(
            code=ErrorCode.TRANSIENT_EXHAUSTED,
            message=f"the database stayed busy after {failures} attempts: {str(exc).splitlines()[0]}",
            details={"attempts": failures, "sqlstate": getattr(exc.__cause__, "sqlstate", None)},
            recoverable=True,
            suggested_action="Retry the failed items when the conflicting work has finished.",
        ).as_dict()
        fail_chunk(batch_id=batch_id, chunk_id=claim.chunk_id, error=error, attempts=claim.attempt)
        return
    delay = backoff_seconds(failures)
    log.info(
        "batch %s chunk %s: transient %s, retry %s in %.2fs",
        batch_id,
        claim.chunk_id,
        getattr(exc.__cause__, "sqlstate", ""),
        failures,
        delay,
    )
    time.sleep(delay)


def error_reference() -> str:
    """A short id that appears both in the item's error and in the log line with the traceback."""
    return uuid.uuid4().hex[:12]


def internal_error(exc: BaseException, ref: str) -> dict[str, Any]:
    return ItemError(
        code=ErrorCode.INTERNAL,
        message=f"an internal error stopped this item ({type(exc).__name__}; reference {ref})",
        details={"reference": ref, "exception": type(exc).__name__},
        recoverable=False,
        suggested_action=f"Report reference {ref} to your administrator; the rest of the batch went on.",
    ).as_dict()


def crashed_error(claim: Claim) -> dict[str, Any]:
    return ItemError(
        code=ErrorCode.RUNNER_CRASHED,
        message=f"the worker running this item's chunk died {claim.crashes} times (out of memory or killed)",
        details={"crashes": claim.crashes, "chunk": claim.chunk_id},
        recoverable=False,
        suggested_action="Split the operation into smaller requests or report it to your administrator.",
    ).as_dict()


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
    """prepare → check each → apply the passing ones in bulk, in one savepoint.

    If that fails for any reason but a transient database fault (a refused row, or a bug that raises),
    the group falls back to one savepoint per item, so one bad item spares its neighbours.
    """
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            ctx.cache = {}
            executor.prepare(group, ctx)
            passing = [item for item in group if check_item(executor, item, ctx, outcomes)]
            results = executor.apply(passing, ctx) if passing else {}
    except Exception as exc:
        if isinstance(exc, DatabaseError) and is_transient(exc):
            raise
        log.info(
            "bulk run of %s %s items failed (%s: %s); falling back to one savepoint each",
            len(group),
            executor.type,
            type(exc).__name__,
            exc,
        )
        del ctx.changes[mark:]
        for item in group:
            outcomes.pop(item.pk, None)
            ctx.notes.pop(item.op_id, None)
        for item in group:
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
    """Re-run one item from scratch in its own savepoint; whatever it raises ends only this item."""
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
    except DatabaseError as exc:
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
    except Exception as exc:  # noqa: BLE001 - an executor bug fails this item, not the runner
        del ctx.changes[mark:]
        ref = error_reference()
        log.exception(
            "batch %s item %s (%s): internal error [ref %s]",
            getattr(ctx.batch, "pk", None),
            item.op_id,
            executor.type,
            ref,
        )
        outcomes[item.pk] = Outcome(status=BatchItem.Status.FAILED, error=internal_error(exc, ref))
    else:
        outcomes[item.pk] = Outcome(status=BatchItem.Status.SUCCEEDED, result=result.get(item.op_id))


def fail_chunk(*, batch_id: int, chunk_id: int, error: dict[str, Any], attempts: int) -> None:
    """End a chunk that cannot run (retries exhausted, runner crashes, a bug): fail its pending items."""
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
    from webhooks.services import webhook_batch_event

    if batch.kind == Batch.Kind.UNDO:
        if batch.undo_of_id:
            batch_undo_finished(batch)
            # The original's end (UNDONE, ROLLED_BACK) is the event; an undo batch has none of its own.
            original = Batch.objects.select_related("team").filter(pk=batch.undo_of_id).first()
            if original is not None and original.status in (Batch.Status.UNDONE, Batch.Status.ROLLED_BACK):
                webhook_batch_event(batch=original)
        return
    if batch.options.get("rollback_on_error") and batch.failed:
        batch_rollback_start(batch)
    webhook_batch_event(batch=batch)  # none while ROLLING_BACK: the rollback's end sends batch.failed
