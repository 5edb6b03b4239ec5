"""Writes of analytics: its roll-ups, and nothing else.

`batch_rollups_refresh` runs after a batch's finishing transaction commits (analytics.receivers);
`rollups_rebuild` re-derives a date range from the rows (`manage.py analytics_rebuild`). Both go through
`_rollup`, which reads a set of batches with four grouped queries and replaces their roll-up rows, so
a rebuild of a season costs the same handful of statements per slice as one batch does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KT

from analytics.models import ITEM_FIELDS, BatchErrorRollup, BatchRollup, BatchTypeRollup
from analytics.selectors.load import monday
from batch.models import Batch, BatchItem
from workouts.calendar import at, local_day

# A batch keeps this many suggested actions per (type, error code); the rest count under "".
ACTIONS_PER_CODE = 3
REBUILD_SLICE = 2000
_LOCK_KEY = 0x616E616C  # "anal": serializes roll-up writers (finish hooks and a rebuild)

S = BatchItem.Status
ITEM_COUNTS = {
    "succeeded": Count("id", filter=Q(status=S.SUCCEEDED)),
    "failed": Count("id", filter=Q(status=S.FAILED)),
    "skipped": Count("id", filter=Q(status=S.SKIPPED)),
    "cancelled": Count("id", filter=Q(status=S.CANCELLED)),
    "conflicted": Count("id", filter=Q(status=S.CONFLICT)),
}


def is_automated(source: str) -> bool:
    return source in settings.ANALYTICS_AUTOMATED_SOURCES


def _ms(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds() * 1000


def _rollup(batch_ids: list[int]) -> int:
    """Replace the roll-ups of these batches (those final; others lose theirs). Return rows written."""
    batches = list(
        Batch.objects.filter(pk__in=batch_ids, status__in=Batch.FINAL_STATUSES).values(
            "pk",
            "team_id",
            "created_by_id",
            "kind",
            "source",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "estimate",
            "total_items",
            *ITEM_FIELDS,
        )
    )
    final = [b["pk"] for b in batches]
    follow: dict[int, set[str]] = defaultdict(set)
    for field, flag in (("retry_of", "retried"), ("undo_of", "undone"), ("resume_of", "resumed")):
        for original in (
            Batch.objects.filter(**{f"{field}__in": final}).values_list(f"{field}_id", flat=True).distinct()
        ):
            follow[original].add(flag)
    types = (
        BatchItem.objects.filter(batch_id__in=final)
        .values("batch_id", "type")
        .annotate(items=Count("id"), timed=Count("duration_ms"), work=Sum("duration_ms"), **ITEM_COUNTS)
        .order_by()
    )
    errors = (
        BatchItem.objects.filter(batch_id__in=final, error__isnull=False)
        .values("batch_id", "type", code=KT("error__code"), action=KT("error__suggestedAction"))
        .annotate(n=Count("id"))
        .order_by()
    )

    heads: dict[int, BatchRollup] = {}
    for b in batches:
        day = local_day(b["created_at"])
        seconds = (b["estimate"] or {}).get("seconds")
        heads[b["pk"]] = BatchRollup(
            batch_id=b["pk"],
            team_id=b["team_id"],
            user_id=b["created_by_id"],
            kind=b["kind"],
            source=b["source"],
            automated=is_automated(b["source"]),
            status=b["status"],
            day=day,
            week=monday(day),
            created_at=b["created_at"],
            finished_at=b["finished_at"],
            total_items=b["total_items"],
            **{name: b[name] for name in ITEM_FIELDS},
            duration_ms=_ms(b["finished_at"] - b["started_at"])
            if b["started_at"] and b["finished_at"]
            else None,
            queue_ms=_ms(b["started_at"] - b["created_at"]) if b["started_at"] else None,
            estimate_ms=float(seconds) * 1000 if isinstance(seconds, int | float) else None,
            retried="retried" in follow[b["pk"]],
            undone="undone" in follow[b["pk"]],
            resumed="resumed" in follow[b["pk"]],
        )
    per_type_ms = {b["pk"]: (b["estimate"] or {}).get("perTypeMs") or {} for b in batches}
    type_rows = []
    for row in types.iterator(chunk_size=5000):
        head = heads[row["batch_id"]]
        estimate = per_type_ms[row["batch_id"]].get(row["type"])
        type_rows.append(
            BatchTypeRollup(
                batch_id=row["batch_id"],
                **_copied(head),
                automated=head.automated,
                status=head.status,
                type=row["type"],
                items=row["items"],
                **{name: row[name] for name in ITEM_FIELDS},
                timed_items=row["timed"],
                work_ms=row["work"] or 0.0,
                estimate_ms_per_item=float(estimate) if isinstance(estimate, int | float) else None,
            )
        )
    error_rows = _error_rows(heads, errors.iterator(chunk_size=5000))

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    BatchRollup.objects.filter(batch_id__in=batch_ids).delete()
    BatchTypeRollup.objects.filter(batch_id__in=batch_ids).delete()
    BatchErrorRollup.objects.filter(batch_id__in=batch_ids).delete()
    BatchRollup.objects.bulk_create(heads.values(), batch_size=2000)
    BatchTypeRollup.objects.bulk_create(type_rows, batch_size=2000)
    BatchErrorRollup.objects.bulk_create(error_rows, batch_size=2000)
    return len(heads) + len(type_rows) + len(error_rows)


def _copied(head: BatchRollup) -> dict[str, Any]:
    """The batch's team, user, local day and week, which every roll-up row carries (models.py says why)."""
    return {"team_id": head.team_id, "user_id": head.user_id, "day": head.day, "week": head.week}


def _error_rows(heads: dict[int, BatchRollup], rows: Iterable[dict]) -> list[BatchErrorRollup]:
    grouped: dict[tuple[int, str, str], list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        key = (row["batch_id"], row["type"], row["code"] or "UNKNOWN")
        grouped[key].append(((row["action"] or "")[:300], row["n"]))
    out = []
    seen: set[tuple[int, str]] = set()
    for (batch_id, op_type, code), actions in grouped.items():
        actions.sort(key=lambda a: (-a[1], a[0]))
        kept = actions[:ACTIONS_PER_CODE]
        rest = sum(n for _, n in actions[ACTIONS_PER_CODE:])
        merged: dict[str, int] = defaultdict(int)
        for action, n in kept:
            merged[action] += n
        if rest:
            merged[""] += rest
        head = heads[batch_id]
        first = (batch_id, code) not in seen
        seen.add((batch_id, code))
        out.extend(
            BatchErrorRollup(
                batch_id=batch_id,
                **_copied(head),
                type=op_type,
                code=code[:40],
                suggested_action=action,
                count=n,
                retried=head.retried,
                undone=head.undone,
                first_of_code=first and index == 0,
            )
            for index, (action, n) in enumerate(merged.items())
        )
    return out


def batch_rollups_refresh(*, batch_ids: list[int]) -> int:
    """Roll these batches up again (a batch that finished, and the original of an undo/retry/resume)."""
    with transaction.atomic(durable=True):
        return _rollup(sorted(set(batch_ids)))


@dataclass
class RebuildReport:
    batches: int = 0
    rows: int = 0


def rollups_rebuild(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None, progress=None
) -> RebuildReport:
    """Re-derive the roll-ups of the batches submitted on these local days (inclusive; open ends).

    Batches still present are rolled up from their rows, in slices of REBUILD_SLICE, one transaction
    each. Roll-ups of purged batches (whose rows are gone) are kept: they are the only record left.
    """
    batches = Batch.objects.order_by("pk")
    if date_from:
        batches = batches.filter(created_at__gte=at(date_from, dt.time.min))
    if date_to:
        batches = batches.filter(created_at__lt=at(date_to + dt.timedelta(days=1), dt.time.min))
    report = RebuildReport()
    last = 0
    while ids := list(batches.filter(pk__gt=last).values_list("pk", flat=True)[:REBUILD_SLICE]):
        with transaction.atomic(durable=True):
            report.rows += _rollup(ids)
        report.batches += len(ids)
        last = ids[-1]
        if progress:
            progress(report)
    # A rebuild rewrites the tables: fresh statistics keep the dashboard's grouped plans hashed, not sorted.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_batchrollup, analytics_batchtyperollup, analytics_batcherrorrollup")
    return report
