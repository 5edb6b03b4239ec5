"""Finishing a batch: close what no runner holds, set the final state, run the finish hook."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChunk, BatchItem
from batch.runner.progress import add_counts, must_stop
from batch.undo import batch_rollback_start, batch_undo_finished

log = logging.getLogger("batch")
# Sent with `batch` in the finalizing transaction once its final state is set (apps above batch listen).
batch_finished = Signal()


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
        stopped = must_stop(batch) and batch.status != Batch.Status.CANCELLING
        batch.status = final_status(batch)
        batch.finished_at = timezone.now()
        batch.undo_deadline = batch.finished_at + timezone.timedelta(hours=settings.BATCH_UNDO_WINDOW_HOURS)
        if stopped and not batch.options.get("rollback_on_error"):
            batch.error = {**(batch.error or {}), **stop_report(batch)}
        batch.save(update_fields=["status", "finished_at", "undo_deadline", "error"])
        on_finished(batch)
        batch_finished.send(sender=Batch, batch=batch)
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


def stop_report(batch: Batch) -> dict[str, Any]:
    """Where a stopOnError batch stopped: its first failing item (request order), and what did not run."""
    failing = (
        BatchItem.objects.filter(batch=batch, status=BatchItem.Status.FAILED)
        .order_by("finished_at", "seq")
        .only("op_id", "seq", "type", "error")
        .first()
    )
    if failing is None:
        return {}
    error = failing.error or {}
    not_run = BatchItem.objects.filter(batch=batch, error__code=ErrorCode.STOPPED_ON_ERROR).count()
    return {
        "reason": "stopOnError",
        "opId": failing.op_id,
        "type": failing.type,
        "code": error.get("code"),
        "stoppedAt": failing.seq + 1,
        "notRun": not_run,
        "message": f"stopped at item {failing.seq + 1} ({failing.op_id!r}): {error.get('message', 'failed')};"
        f" {not_run} operation{'s' if not_run != 1 else ''} after it did not run",
    }


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
