"""A batch's progress from its row alone, the operation it runs next, and a team's batch history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from batch.models import Batch, BatchItem

PROGRESS_FIELDS = (
    "id",
    "team_id",
    "created_by_id",
    "kind",
    "status",
    "description",
    "options",
    *Batch.COUNTERS,
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
    "estimate",
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

    @property
    def ran(self) -> int:
        """Items that ran (cancelled ones never did)."""
        return self.processed - self.batch.cancelled

    @property
    def percent_shown(self) -> float:
        """The figure people see: the share that ran once a cancel took items away, else done."""
        total = self.batch.total_items
        if self.batch.cancelled and total:
            return round(100.0 * self.ran / total, 1)
        return self.percent

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

    @property
    def estimate_check(self) -> dict[str, Any] | None:
        """Once the batch ended: what the dry run estimated, what it took, and how far off that was
        (`offPercent` > 0: it took longer). None when there is no estimate or it never started."""
        estimated = (self.batch.estimate or {}).get("seconds")
        took = self.elapsed_seconds
        if (
            not self.batch.is_final
            or not isinstance(estimated, (int, float))
            or estimated <= 0
            or took is None
        ):
            return None
        off = round(100.0 * (took - estimated) / estimated)
        if abs(off) < 10:
            words = "about as estimated"
        elif off > 0:
            words = f"{off} % longer than estimated" if off < 100 else f"{took / estimated:.1f}× the estimate"
        else:
            words = f"{-off} % quicker than estimated"
        return {
            "estimatedSeconds": estimated,
            "tookSeconds": round(took, 2),
            "offPercent": off,
            "words": words,
        }

    def as_dict(self) -> dict[str, Any]:
        b = self.batch
        return {
            "id": b.pk,
            "status": b.status,
            **b.counts(),
            "remaining": self.remaining,
            "percent": self.percent,
            "percentComplete": self.percent_shown,
            "throughput": self.throughput,
            "etaSeconds": self.eta_seconds,
            "estimatedTimeRemaining": self.eta_seconds,
            "chunks": {"done": b.done_chunks, "total": b.total_chunks},
        }


def current_operation(*, batch: Batch) -> dict[str, str] | None:
    """The next operation a runner will take (lowest pending position); one indexed query."""
    if batch.is_final:
        return None
    row = (
        BatchItem.objects.filter(batch_id=batch.pk, status=BatchItem.Status.PENDING)
        .order_by("chunk__level", "chunk__seq", "seq")
        .values("op_id", "type")
        .first()
    )
    return {"id": row["op_id"], "type": row["type"]} if row else None


def batch_progress(*, batch_id: int, team_ids: Any = None) -> Progress:
    """Return progress from the Batch row alone: one query, no joins."""
    qs = Batch.objects.only(*PROGRESS_FIELDS)
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    return Progress(qs.get(pk=batch_id))


def batches_for_team(*, team: Any) -> QuerySet[Batch]:
    return Batch.objects.filter(team=team).select_related("created_by", "undo_of").order_by("-created_at")
