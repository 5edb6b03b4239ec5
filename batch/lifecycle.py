"""What happens when a batch ends: undo bookkeeping and rollback-on-error (see batch/undo.py)."""

from __future__ import annotations

from batch.models import Batch


def batch_finished(batch: Batch) -> None:
    """Called inside the finalizing transaction, with the batch row locked and its final state set.

    An undo that ends settles its original (UNDONE / ROLLED_BACK / partly undone). A batch with
    rollbackOnError that ends with a failed item starts its rollback: it becomes ROLLING_BACK and an
    undo batch of its committed changes is enqueued on commit.
    """
    from batch.undo import batch_rollback_start, batch_undo_finished

    if batch.kind == Batch.Kind.UNDO:
        if batch.undo_of_id:
            batch_undo_finished(batch)
        return
    if batch.options.get("rollback_on_error") and batch.failed:
        batch_rollback_start(batch)
