"""What happens when a batch ends. Undo and rollback-on-error extend this."""

from __future__ import annotations

from batch.models import Batch


def batch_finished(batch: Batch) -> None:
    """Called inside the finalizing transaction, with the batch row locked and its final state set."""
