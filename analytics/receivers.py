"""The batch-finish hook: roll the batch (and the batch it undoes, retries or resumes) up on commit."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from analytics.services import batch_rollups_refresh
from batch.models import Batch
from batch.runner.finalize import batch_finished

log = logging.getLogger("analytics")


@receiver(batch_finished, dispatch_uid="analytics-rollup-on-finish")
def rollup_on_finish(sender: Any, *, batch: Batch, **kwargs: Any) -> None:
    """After commit, so the roll-up reads the committed final state and never slows or breaks the
    finishing transaction; `robust` logs a failure instead of raising (analytics_rebuild repairs)."""
    ids = [batch.pk, *(i for i in (batch.undo_of_id, batch.retry_of_id, batch.resume_of_id) if i)]
    transaction.on_commit(lambda: batch_rollups_refresh(batch_ids=ids), robust=True)
