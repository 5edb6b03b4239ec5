"""A batch's items and results: the listing people read, named items streamed, the summary shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from batch.models import Batch, BatchChange, BatchItem, OperationType
from batch.selectors.names import WORKOUT_MODEL, Named, item_names


def batch_items(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    qs = BatchItem.objects.filter(batch=batch).defer("data").order_by("seq")
    if status:
        qs = qs.filter(status=status)
    return qs


def batch_items_for_people(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    """Return a batch's items as people read them: problems first (failed and conflicts, then skipped,
    cancelled, succeeded), grouped by the workout they are about, then in request order."""
    S = BatchItem.Status
    change_workout = (
        BatchChange.objects.filter(pk=OuterRef("change_id"))
        .annotate(
            w=Case(
                When(model=WORKOUT_MODEL, then=Cast("object_id", TextField())),
                default=Coalesce(
                    KT("after__workout_id"), KT("before__workout_id"), Value(""), output_field=TextField()
                ),
                output_field=TextField(),
            )
        )
        .values("w")[:1]
    )
    qs = batch_items(batch=batch, status=status).annotate(
        rank=Case(
            When(status__in=[S.FAILED, S.CONFLICT], then=Value(0)),
            When(status=S.SKIPPED, then=Value(1)),
            When(status=S.CANCELLED, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        change_id=Cast(KT("data__changeId"), BigIntegerField()),
        workout_key=Case(
            When(type=OperationType.REVERT, then=Subquery(change_workout)),
            default=Coalesce(
                KT("data__workoutId"), KT("result__workoutId"), Value(""), output_field=TextField()
            ),
            output_field=TextField(),
        ),
    )
    return qs.order_by("rank", "workout_key", "seq")


NAMED_SLICE = 2000


def named_items(items: QuerySet[BatchItem], *, team_id: int) -> Iterator[tuple[BatchItem, Named]]:
    """Yield (item, Named) streaming the queryset in slices of NAMED_SLICE (item_names per slice)."""
    chunk: list[BatchItem] = []
    for item in items.iterator(NAMED_SLICE):
        chunk.append(item)
        if len(chunk) >= NAMED_SLICE:
            names = item_names(chunk, team_id=team_id)
            yield from ((i, names[i.op_id]) for i in chunk)
            chunk = []
    if chunk:
        names = item_names(chunk, team_id=team_id)
        yield from ((i, names[i.op_id]) for i in chunk)


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
        items = batch_items(batch=batch).only(*RESULT_FIELDS)
        for item, named in named_items(items, team_id=batch.team_id):
            results.append(result_entry(item, named))
        summary["results"] = results
    return summary


RESULT_FIELDS = ("op_id", "type", "status", "data", "error", "result", "metadata", "retry_count")


def result_entry(item: BatchItem, named: Any) -> dict[str, Any]:
    """Return one item's result in the exchange shape (load the item with RESULT_FIELDS)."""
    entry: dict[str, Any] = {
        "id": item.op_id,
        "type": item.type,
        "status": item.status,
        "target": named.target.as_dict(),
    }
    if item.error:
        entry["error"] = item.error
    if item.result is not None:
        entry["result"] = item.result
    # The operation's own metadata comes back as it was sent (the exchange format's promise).
    if item.metadata:
        entry["metadata"] = item.metadata
    if item.retry_count:
        entry["retryCount"] = item.retry_count
    return entry
