"""The reconciler: PostgreSQL holds the truth, so re-create whatever runners Redis or a crash lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from batch.models import Batch, BatchChunk
from batch.queueing import enqueue_runner, queued_slots
from batch.runner import batch_finalize, slot_is_free

log = logging.getLogger("batch")

RECOVERABLE = (Batch.Status.QUEUED, Batch.Status.RUNNING, Batch.Status.CANCELLING, Batch.Status.ROLLING_BACK)


@dataclass(frozen=True)
class Recovery:
    batch_id: int
    action: str  # "finalized", "enqueued N", "alive"


def batch_recover(*, batch_ids: list[int] | None = None) -> list[Recovery]:
    """For each unfinished batch: finalize it if no chunk is pending, else enqueue a runner for every
    slot that has neither a live runner (advisory lock) nor a waiting job. Queries: a few per batch."""
    qs = Batch.objects.filter(status__in=RECOVERABLE).only("pk", "runner_slots", "status")
    if batch_ids is not None:
        qs = qs.filter(pk__in=batch_ids)
    report = []
    for batch in qs.order_by("pk"):
        if not BatchChunk.objects.filter(batch=batch, status=BatchChunk.Status.PENDING).exists():
            batch_finalize(batch_id=batch.pk)
            report.append(Recovery(batch.pk, "finalized"))
            continue
        waiting = queued_slots(batch.pk)
        missing = [s for s in range(batch.runner_slots) if s not in waiting and slot_is_free(batch.pk, s)]
        for slot in missing:
            enqueue_runner(batch_id=batch.pk, slot=slot)
        if missing:
            log.info("batch %s: re-enqueued runners for slots %s", batch.pk, missing)
        report.append(Recovery(batch.pk, f"enqueued {len(missing)}" if missing else "alive"))
    return report


def batch_nudge(batch: Batch) -> list[Recovery]:
    """Reconcile one batch if it looks stalled: active, and no progress for BATCH_STALL_SECONDS.

    Cheap when healthy (no query); called by the progress poll, so a batch someone is watching heals
    itself even when no reconciler process runs.
    """
    if batch.status not in RECOVERABLE:
        return []
    last = batch.last_progress_at or batch.queued_at or batch.created_at
    if last is None or (timezone.now() - last).total_seconds() < settings.BATCH_STALL_SECONDS:
        return []
    return batch_recover(batch_ids=[batch.pk])
