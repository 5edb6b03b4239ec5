"""Reads about batches: progress, results, history and the measured per-type costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, QuerySet
from django.utils import timezone

from batch.models import Batch, BatchItem, OperationType

# Milliseconds per operation for one runner, from bench/batch_bench.py on a 2-core machine (chunk size
# 250-500; see docs/operations.md); "_chunk" is the fixed cost of claiming and committing one chunk.
# Used until this installation has its own history (measured_costs).
DEFAULT_COSTS_MS: dict[str, float] = {
    OperationType.CREATE: 0.35,
    OperationType.UPDATE: 0.4,
    OperationType.DELETE: 0.5,
    OperationType.ARCHIVE: 0.4,
    OperationType.ASSIGN: 1.0,
    OperationType.SCHEDULE: 1.0,
    OperationType.DUPLICATE: 1.5,
    OperationType.TEMPLATE: 2.0,
    OperationType.REVERT: 0.6,
    "_chunk": 11.0,
}
COST_HISTORY_DAYS = 30


def measured_costs() -> dict[str, float]:
    """Return ms per operation by type: recent history where there is some, defaults elsewhere.

    One aggregate query over recent succeeded items.
    """
    costs = dict(DEFAULT_COSTS_MS)
    since = timezone.now() - dt.timedelta(days=COST_HISTORY_DAYS)
    rows = (
        BatchItem.objects.filter(
            status=BatchItem.Status.SUCCEEDED, finished_at__gte=since, duration_ms__isnull=False
        )
        .values("type")
        .annotate(avg=Avg("duration_ms"))
    )
    for row in rows:
        costs[row["type"]] = max(float(row["avg"]), 0.05)
    return costs


PROGRESS_FIELDS = (
    "id",
    "team_id",
    "created_by_id",
    "kind",
    "status",
    "description",
    "options",
    "total_items",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
    "conflicted",
    "total_chunks",
    "done_chunks",
    "created_at",
    "started_at",
    "last_progress_at",
    "queued_at",
    "finished_at",
    "cancel_requested_at",
    "undo_deadline",
    "undo_of_id",
    "retry_of_id",
    "error",
)


@dataclass(frozen=True)
class Progress:
    batch: Batch

    @property
    def processed(self) -> int:
        return self.batch.processed

    @property
    def remaining(self) -> int:
        return max(self.batch.total_items - self.processed, 0)

    @property
    def percent(self) -> float:
        total = self.batch.total_items
        return 100.0 if not total else round(100.0 * self.processed / total, 1)

    def percent_of(self, count: int) -> float:
        total = self.batch.total_items
        return 0.0 if not total else round(100.0 * count / total, 2)

    @property
    def elapsed_seconds(self) -> float | None:
        start = self.batch.started_at
        if start is None:
            return None
        end = self.batch.finished_at or timezone.now()
        return max((end - start).total_seconds(), 0.001)

    @property
    def throughput(self) -> float | None:
        """Operations per second since the batch started."""
        elapsed = self.elapsed_seconds
        if not elapsed or not self.processed:
            return None
        return round(self.processed / elapsed, 1)

    @property
    def eta_seconds(self) -> float | None:
        rate = self.throughput
        if self.batch.is_final or not rate:
            return None
        return round(self.remaining / rate, 1)

    def as_dict(self) -> dict[str, Any]:
        b = self.batch
        return {
            "id": b.pk,
            "status": b.status,
            "total": b.total_items,
            "successful": b.succeeded,
            "failed": b.failed,
            "skipped": b.skipped,
            "cancelled": b.cancelled,
            "conflicts": b.conflicted,
            "remaining": self.remaining,
            "percent": self.percent,
            "throughput": self.throughput,
            "etaSeconds": self.eta_seconds,
            "chunks": {"done": b.done_chunks, "total": b.total_chunks},
        }


def batch_progress(*, batch_id: int, team_ids: Any = None) -> Progress:
    """Return progress from the Batch row alone: one query, no joins."""
    qs = Batch.objects.only(*PROGRESS_FIELDS)
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    return Progress(qs.get(pk=batch_id))


def batches_for_team(*, team: Any) -> QuerySet[Batch]:
    return Batch.objects.filter(team=team).select_related("created_by", "undo_of").order_by("-created_at")


def batch_items(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    qs = BatchItem.objects.filter(batch=batch).defer("data").order_by("seq")
    if status:
        qs = qs.filter(status=status)
    return qs


def batch_summary(*, batch: Batch, include_results: bool = True) -> dict[str, Any]:
    """Return the final summary shape: {id, status, summary, results[]}; results streamed per 2000."""
    summary: dict[str, Any] = {
        "id": batch.pk,
        "status": batch.status,
        "summary": {
            "total": batch.total_items,
            "successful": batch.succeeded,
            "failed": batch.failed,
            "skipped": batch.skipped,
            "cancelled": batch.cancelled,
            "conflicts": batch.conflicted,
        },
    }
    if batch.error:
        summary["error"] = batch.error
    if include_results:
        results = []
        for item in (
            batch_items(batch=batch).only("op_id", "type", "status", "error", "result").iterator(2000)
        ):
            entry: dict[str, Any] = {"id": item.op_id, "type": item.type, "status": item.status}
            if item.error:
                entry["error"] = item.error
            if item.result is not None:
                entry["result"] = item.result
            results.append(entry)
        summary["results"] = results
    return summary
