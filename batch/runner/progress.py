"""The batch's counters and its stop rule: what every runner, failure path and finalizer shares."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.models import Batch, BatchItem


def must_stop(batch: Batch) -> bool:
    """A failure stops the batch when stopOnError, or rollbackOnError (which then undoes it), is on."""
    return bool(batch.failed and stops_on_error(batch.options))


def stops_on_error(options: dict) -> bool:
    """True when a failing item must stop the batch: stopOnError, or rollbackOnError."""
    return bool(options.get("stop_on_error") or options.get("rollback_on_error"))


def add_counts(batch_id: int, statuses: Sequence[str], *, chunks_done: int, warned: int = 0) -> None:
    """Move the batch counters in the caller's transaction, and mark it RUNNING on first progress.

    warned: how many of these items ended with a warning (Batch.warned)."""
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
        warned=F("warned") + warned,
        done_chunks=F("done_chunks") + chunks_done,
        last_progress_at=now,
        started_at=Coalesce(F("started_at"), Value(now)),
        status=Case(When(status=Batch.Status.QUEUED, then=Value(Batch.Status.RUNNING)), default=F("status")),
    )
