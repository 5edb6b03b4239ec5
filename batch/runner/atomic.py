"""rollbackOnError: the whole batch in one transaction, so no other session ever sees part of it.

One runner (slot 0; the batch gets one slot) runs every chunk in order inside a single transaction.
The first failing item stops it (the rest of its chunk does not run) and the transaction rolls back:
nothing the batch did was ever visible. A second, short transaction then records what happened — the
failing item FAILED, the items that ran SKIPPED / ROLLED_BACK, the rest SKIPPED / STOPPED_ON_ERROR —
and the finish hook ends the batch ROLLED_BACK with nothing to undo. A cancel rolls the work back too
(every item CANCELLED). Requests are refused up front above BATCH_ATOMIC_MAX_ITEMS operations or with an
operation that cannot be undone (batch.validation.check_all_or_nothing).

The batch row is not written while the transaction is open (its counters move once, at the end), so
a cancel or a progress poll never waits on it; the progress bar moves only when the batch ends.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChunk, BatchItem
from batch.runner.chunks import write_chunk
from batch.runner.failures import (
    ConnectionLost,
    backoff_seconds,
    connection_lost,
    error_reference,
    fail_chunk,
    internal_error,
    is_transient,
    transient_exhausted,
)
from batch.runner.finalize import batch_finalize
from batch.runner.items import Outcome
from batch.runner.progress import add_counts
from batch.sql import values_update

log = logging.getLogger("batch")


def all_or_nothing(options: dict[str, Any]) -> bool:
    return bool(options.get("rollback_on_error"))


class Stop(Exception):
    """Ends the batch's transaction (rolling it back): an item failed, or the batch was cancelled."""

    def __init__(self, *, cancelled: bool, ran: dict[int, Outcome], chunk_ids: list[int]) -> None:
        super().__init__("cancelled" if cancelled else "failed")
        self.cancelled = cancelled
        self.ran = ran
        self.chunk_ids = chunk_ids


def run_all_or_nothing(*, batch_id: int) -> str:
    """Run the batch as one transaction; return "done" (committed) or "stopped" (rolled back)."""
    now = timezone.now()
    Batch.objects.filter(pk=batch_id, status=Batch.Status.QUEUED).update(
        status=Batch.Status.RUNNING, started_at=Coalesce(F("started_at"), Value(now)), last_progress_at=now
    )
    batch = Batch.objects.select_related("team", "created_by").get(pk=batch_id)
    attempt = count_try(batch_id)
    if attempt - 1 >= settings.BATCH_CHUNK_MAX_CRASHES:
        fail_everything(batch_id, crashed(attempt - 1), attempts=attempt)
        batch_finalize(batch_id=batch_id)
        return "stopped"
    allowed = batch.options.get("retry_attempts", 3) if batch.options.get("retry_failed_operations") else 0
    failures = 0
    while True:
        try:
            run_in_one_transaction(batch, attempt)
            outcome = "done"
            break
        except Stop as stop:
            record_stop(batch_id, stop)
            outcome = "stopped"
            break
        except DatabaseError as exc:
            if connection_lost(exc):
                raise ConnectionLost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
            failures += 1
            if not is_transient(exc) or failures > allowed:
                log.warning(
                    "batch %s: all-or-nothing run gave up after %s tries: %s", batch_id, failures, exc
                )
                error = transient_exhausted(
                    exc, failures, suggestion="Submit the batch again when the conflicting work has finished."
                )
                fail_everything(batch_id, error, attempts=attempt)
                outcome = "stopped"
                break
            time.sleep(backoff_seconds(failures))
        except Exception as exc:  # noqa: BLE001 - a bug ends the batch (rolled back), not the runner
            ref = error_reference()
            log.exception("batch %s: internal error in an all-or-nothing run [ref %s]", batch_id, ref)
            fail_everything(batch_id, internal_error(exc, ref), attempts=attempt)
            outcome = "stopped"
            break
    batch_finalize(batch_id=batch_id)
    return outcome


def run_in_one_transaction(batch: Batch, attempt: int) -> None:
    """Every pending chunk in order, in one transaction; raise Stop (rolling it all back) on a failure
    or a cancel. Queries: each chunk's, plus one cancel check per chunk."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.BATCH_LOCK_TIMEOUT_MS}ms"])
        chunks = list(
            BatchChunk.objects.filter(batch=batch, status=BatchChunk.Status.PENDING).order_by("level", "seq")
        )
        ran: dict[int, Outcome] = {}
        warned = 0
        chunk_ids: list[int] = []
        for chunk in chunks:
            # A plain read sees a cancel committed by another session since the last chunk.
            if Batch.objects.filter(pk=batch.pk, status=Batch.Status.CANCELLING).exists():
                raise Stop(cancelled=True, ran={}, chunk_ids=[])
            written = write_chunk(batch=batch, chunk=chunk, attempt=attempt)
            ran.update(written.outcomes)
            warned += written.warned
            chunk_ids.append(chunk.pk)
            if any(o.status == BatchItem.Status.FAILED for o in written.outcomes.values()):
                raise Stop(cancelled=False, ran=ran, chunk_ids=chunk_ids)
        add_counts(batch.pk, [o.status for o in ran.values()], chunks_done=len(chunk_ids), warned=warned)


def record_stop(batch_id: int, stop: Stop) -> None:
    """After the rollback: say what each item that ran did (nothing of it was kept)."""
    if stop.cancelled:
        return  # batch_finalize cancels every item: none was kept
    S = BatchItem.Status  # noqa: N806
    failed = [pk for pk, o in stop.ran.items() if o.status == S.FAILED]
    failing = BatchItem.objects.only("op_id", "seq").filter(pk__in=failed).order_by("seq").first()
    now = timezone.now()
    rolled_back = ItemError(
        code=ErrorCode.ROLLED_BACK,
        message=(
            f"ran, then rolled back with the whole batch when operation {failing.op_id!r} failed "
            "(rollbackOnError): nothing of it was kept"
        ),
        details={"failedOperation": failing.op_id},
        recoverable=True,
        suggested_action=f"Fix {failing.op_id!r}, then submit the batch again.",
    ).as_dict()
    rows = []
    for pk, outcome in stop.ran.items():
        kept = outcome.status == S.FAILED or (
            outcome.error is not None and outcome.error.get("code") == ErrorCode.STOPPED_ON_ERROR
        )
        rows.append(
            {
                "pk": pk,
                "status": outcome.status if kept else S.SKIPPED,
                "result": None,
                "error": outcome.error if kept else rolled_back,
                "finished_at": now,
            }
        )
    with transaction.atomic():
        values_update(BatchItem, rows, ["status", "result", "error", "finished_at"])
        BatchChunk.objects.filter(pk__in=stop.chunk_ids).update(
            status=BatchChunk.Status.DONE, finished_at=now
        )
        add_counts(batch_id, [r["status"] for r in rows], chunks_done=len(stop.chunk_ids))
        batch_finalize(batch_id=batch_id)  # in the same transaction: no one sees these rows before the end


def count_try(batch_id: int) -> int:
    """Count this try on every pending chunk, committed before the work; return the try's number."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE batch_batchchunk SET attempts = attempts + 1 WHERE batch_id = %s AND status = 'PENDING' "
            "RETURNING attempts",
            [batch_id],
        )
        return max((row[0] for row in cursor.fetchall()), default=1)


def fail_everything(batch_id: int, error: dict[str, Any], *, attempts: int) -> None:
    """Fail every pending item (the batch then ends ROLLED_BACK: nothing was written)."""
    for chunk_id in BatchChunk.objects.filter(
        batch_id=batch_id, status=BatchChunk.Status.PENDING
    ).values_list("pk", flat=True):
        fail_chunk(batch_id=batch_id, chunk_id=chunk_id, error=error, attempts=attempts)


def crashed(crashes: int) -> dict[str, Any]:
    return ItemError(
        code=ErrorCode.RUNNER_CRASHED,
        message=f"the worker running this all-or-nothing batch died {crashes} times (out of memory, killed)",
        details={"crashes": crashes},
        recoverable=False,
        suggested_action="Split the request into smaller ones or report it to your administrator.",
    ).as_dict()
