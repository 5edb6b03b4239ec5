"""Purge: change logs past their undo deadline, then old finished batches, in bounded slices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchChunk, BatchItem

PURGE_SLICE = 100


@dataclass
class PurgeReport:
    change_logs: int = 0  # batches whose change log was removed
    changes: int = 0
    batches: int = 0  # finished batches deleted with their chunks and items
    items: int = 0
    dry_run: bool = False


def batch_purge(*, dry_run: bool = False, now: dt.datetime | None = None) -> PurgeReport:
    """Remove change logs past their undo deadline (those batches are no longer undoable), then delete
    finished batches older than BATCH_RESULT_RETENTION_DAYS. Works in slices of PURGE_SLICE batches,
    one transaction each, so memory and lock time stay bounded."""
    now = now or timezone.now()
    report = PurgeReport(dry_run=dry_run)
    expired = (
        Batch.objects.filter(undo_deadline__lt=now, purged_at__isnull=True, status__in=Batch.FINAL_STATUSES)
        .exclude(undos__status__in=Batch.ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    cutoff = now - dt.timedelta(days=settings.BATCH_RESULT_RETENTION_DAYS)
    old = (
        Batch.objects.filter(finished_at__lt=cutoff, status__in=Batch.FINAL_STATUSES)
        .exclude(undos__status__in=Batch.ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if dry_run:
        ids = list(expired)
        report.change_logs = len(ids)
        report.changes = BatchChange.objects.filter(batch_id__in=ids).count()
        old_ids = list(old)
        report.batches = len(old_ids)
        report.items = BatchItem.objects.filter(batch_id__in=old_ids).count()
        return report
    while ids := list(expired[:PURGE_SLICE]):
        with transaction.atomic():
            report.changes += BatchChange.objects.filter(batch_id__in=ids).delete()[0]
            report.change_logs += Batch.objects.filter(pk__in=ids).update(purged_at=now)
    while ids := list(old[:PURGE_SLICE]):
        with transaction.atomic():
            # Raw deletes: the ORM would load every item of a 100,000-item batch to cascade it.
            with connection.cursor() as cursor:
                for model in (BatchChange, BatchItem, BatchChunk):
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE batch_id = ANY(%s)", [ids])
                    if model is BatchItem:
                        report.items += cursor.rowcount
            Batch.objects.filter(pk__in=ids).delete()
            report.batches += len(ids)
    return report
