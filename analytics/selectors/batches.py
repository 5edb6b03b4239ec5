"""Batch figures for a set of teams over a range of the club's local days, from the roll-ups only.

Every function is one or two grouped queries over a roll-up table on its (team, day) index: its cost
follows the number of batches in range, never their items.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum

from analytics.models import ITEM_FIELDS, BatchErrorRollup, BatchRollup, BatchTypeRollup
from batch.models import Batch, OperationType

GROUPS = ("day", "week", "type", "user")
DAY_SERIES_LIMIT = 800  # days/weeks filled with zeros for a continuous chart; longer ranges are sparse

ST = Batch.Status
OUTCOMES: dict[str, Q] = {
    "completed": Q(status=ST.COMPLETED),
    "with_errors": Q(status=ST.COMPLETED_WITH_ERRORS),
    "failed": Q(status=ST.FAILED),
    "cancelled": Q(status=ST.CANCELLED),
    "undone": Q(status__in=[ST.UNDONE, ST.ROLLED_BACK]),
}


class Percentile(Aggregate):
    """PostgreSQL percentile_cont(p) WITHIN GROUP (ORDER BY expr): linear interpolation between ranks."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(kw_only=True)
class _ItemOutcomes:
    """A figure's items by outcome, with their success rate (a row of a series and the totals alike)."""

    items: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    conflicted: int = 0

    @property
    def success_rate(self) -> float | None:
        return round(self.succeeded / self.items, 4) if self.items else None


@dataclass
class SeriesRow(_ItemOutcomes):
    key: str
    label: str
    batches: int = 0
    completed: int = 0
    with_errors: int = 0
    failed_batches: int = 0
    cancelled_batches: int = 0
    undone_batches: int = 0


def _in_range(qs: QuerySet, team_ids: list[int], first: dt.date, last: dt.date) -> QuerySet:
    return qs.filter(team_id__in=team_ids, day__gte=first, day__lte=last)


def _outcome_counts() -> dict[str, Count]:
    """Batches by outcome: a roll-up table has one row per batch (BatchRollup) or per batch and type."""
    names = {
        "completed": "completed",
        "with_errors": "with_errors",
        "failed": "failed_batches",
        "cancelled": "cancelled_batches",
        "undone": "undone_batches",
    }
    return {names[k]: Count("pk", filter=q) for k, q in OUTCOMES.items()}


def batch_series(*, team_ids: list[int], first: dt.date, last: dt.date, group: str) -> list[SeriesRow]:
    """Batches by outcome and items by outcome per day, ISO week (Monday), operation type or user."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    items = {name: Sum(name) for name in ITEM_FIELDS}
    if group == "type":
        rows = (
            _in_range(BatchTypeRollup.objects, team_ids, first, last)
            .values("type")
            .annotate(batches=Count("pk"), n=Sum("items"), **_outcome_counts(), **items)
            .order_by("type")
        )
        labels = dict(OperationType.choices)
        return [_row(r, key=r["type"], label=labels.get(r["type"], r["type"])) for r in rows]
    key = {"day": "day", "week": "week", "user": "user_id"}[group]
    extra = {"username": F("user__username")} if group == "user" else {}
    rows = (
        _in_range(BatchRollup.objects, team_ids, first, last)
        .values(key, **extra)
        .annotate(batches=Count("batch_id"), n=Sum("total_items"), **_outcome_counts(), **items)
        .order_by(key)
    )
    if group == "user":
        out = [_row(r, key=str(r["user_id"] or ""), label=r["username"] or "(deleted user)") for r in rows]
        return sorted(out, key=lambda r: (-r.batches, r.label))
    found = {r[key]: _row(r, key=r[key].isoformat(), label=r[key].isoformat()) for r in rows}
    step = dt.timedelta(days=7 if group == "week" else 1)
    start = first - dt.timedelta(days=first.weekday()) if group == "week" else first
    if (last - start) / step > DAY_SERIES_LIMIT:
        return list(found.values())
    out, day = [], start
    while day <= last:
        out.append(found.get(day) or SeriesRow(key=day.isoformat(), label=day.isoformat()))
        day += step
    return out


def _row(r: dict[str, Any], *, key: str, label: str) -> SeriesRow:
    return SeriesRow(
        key=key,
        label=label,
        batches=r["batches"],
        completed=r["completed"],
        with_errors=r["with_errors"],
        failed_batches=r["failed_batches"],
        cancelled_batches=r["cancelled_batches"],
        undone_batches=r["undone_batches"],
        items=r["n"] or 0,
        **{name: r[name] or 0 for name in ITEM_FIELDS},
    )


@dataclass
class Summary(_ItemOutcomes):
    batches: int = 0
    automated_batches: int = 0
    automated_items: int = 0
    manual_batches: int = 0
    manual_items: int = 0
    retried_batches: int = 0
    undone_batches: int = 0
    duration_p50_ms: float | None = None
    duration_p95_ms: float | None = None
    estimate_ratio_p50: float | None = None
    estimate_ratio_p95: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)


def batch_summary(*, team_ids: list[int], first: dt.date, last: dt.date) -> Summary:
    """Totals over the range, the split of automated and hand-started batches, follow-ups, and the
    median and 95th percentile of batch wall time and of actual/estimated time. One query."""
    auto = Q(automated=True)
    timed = Q(duration_ms__isnull=False)
    estimated = Q(duration_ms__isnull=False, estimate_ms__gt=0)
    ratio = F("duration_ms") / F("estimate_ms")
    r = _in_range(BatchRollup.objects, team_ids, first, last).aggregate(
        batches=Count("batch_id"),
        items=Sum("total_items"),
        **{name: Sum(name) for name in ITEM_FIELDS},
        automated_batches=Count("batch_id", filter=auto),
        automated_items=Sum("total_items", filter=auto),
        retried_batches=Count("batch_id", filter=Q(retried=True)),
        undone_batches=Count("batch_id", filter=Q(undone=True)),
        duration_p50_ms=Percentile("duration_ms", 0.5, filter=timed),
        duration_p95_ms=Percentile("duration_ms", 0.95, filter=timed),
        estimate_ratio_p50=Percentile(ratio, 0.5, filter=estimated),
        estimate_ratio_p95=Percentile(ratio, 0.95, filter=estimated),
        **{f"outcome_{k}": Count("batch_id", filter=q) for k, q in OUTCOMES.items()},
    )
    summary = Summary(
        batches=r["batches"],
        items=r["items"] or 0,
        **{name: r[name] or 0 for name in ITEM_FIELDS},
        automated_batches=r["automated_batches"],
        automated_items=r["automated_items"] or 0,
        retried_batches=r["retried_batches"],
        undone_batches=r["undone_batches"],
        duration_p50_ms=r["duration_p50_ms"],
        duration_p95_ms=r["duration_p95_ms"],
        estimate_ratio_p50=r["estimate_ratio_p50"],
        estimate_ratio_p95=r["estimate_ratio_p95"],
        outcomes={k: r[f"outcome_{k}"] for k in OUTCOMES},
    )
    summary.manual_batches = summary.batches - summary.automated_batches
    summary.manual_items = summary.items - summary.automated_items
    return summary


@dataclass
class TypeRow:
    type: str
    label: str
    batches: int
    items: int
    succeeded: int
    failed: int
    timed_items: int
    work_ms: float
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    throughput_p50: float | None
    throughput_p95: float | None
    estimate_ms_per_item: float | None
    actual_ms_per_item: float | None

    @property
    def estimate_ratio(self) -> float | None:
        if self.estimate_ms_per_item and self.actual_ms_per_item is not None:
            return round(self.actual_ms_per_item / self.estimate_ms_per_item, 3)
        return None


def batch_types(*, team_ids: list[int], first: dt.date, last: dt.date) -> list[TypeRow]:
    """Per operation type: items, the median and 95th percentile over batches of the type's work time
    and throughput (items per second of work), and the estimated against the measured ms per item.

    A batch's work time for a type is the sum of its items' shares of their chunks' time; items without
    a measured time (never run) count in `items`, not in time or throughput. One query.
    """
    worked = Q(work_ms__gt=0, timed_items__gt=0)
    with_estimate = Q(estimate_ms_per_item__isnull=False)
    throughput = F("timed_items") * 1000.0 / F("work_ms")
    rows = (
        _in_range(BatchTypeRollup.objects, team_ids, first, last)
        .values("type")
        .annotate(
            batches=Count("pk"),  # one row per (batch, type)
            n=Sum("items"),
            ok=Sum("succeeded"),
            bad=Sum("failed"),
            timed=Sum("timed_items"),
            work=Sum("work_ms"),
            d50=Percentile("work_ms", 0.5, filter=worked),
            d95=Percentile("work_ms", 0.95, filter=worked),
            t50=Percentile(throughput, 0.5, filter=worked),
            t95=Percentile(throughput, 0.95, filter=worked),
            est_weighted=Sum(F("estimate_ms_per_item") * F("timed_items"), filter=with_estimate),
            est_timed=Sum("timed_items", filter=with_estimate),
        )
        .order_by("type")
    )
    labels = dict(OperationType.choices)
    out = []
    for r in rows:
        timed_items = r["timed"] or 0
        out.append(
            TypeRow(
                type=r["type"],
                label=labels.get(r["type"], r["type"]),
                batches=r["batches"],
                items=r["n"] or 0,
                succeeded=r["ok"] or 0,
                failed=r["bad"] or 0,
                timed_items=timed_items,
                work_ms=r["work"] or 0.0,
                duration_p50_ms=r["d50"],
                duration_p95_ms=r["d95"],
                throughput_p50=r["t50"],
                throughput_p95=r["t95"],
                estimate_ms_per_item=(r["est_weighted"] / r["est_timed"]) if r["est_timed"] else None,
                actual_ms_per_item=(r["work"] / timed_items) if timed_items else None,
            )
        )
    return out


@dataclass
class ErrorRow:
    code: str
    items: int
    batches: int
    retried_batches: int
    undone_batches: int
    actions: list[tuple[str, int]]

    @property
    def retry_rate(self) -> float | None:
        return round(self.retried_batches / self.batches, 4) if self.batches else None

    @property
    def undo_rate(self) -> float | None:
        return round(self.undone_batches / self.batches, 4) if self.batches else None


TOP_ACTIONS = 3


def batch_errors(*, team_ids: list[int], first: dt.date, last: dt.date) -> list[ErrorRow]:
    """Items by error code, most frequent first, with the suggested actions they carried (most given
    first; "" gathers a batch's rarer ones) and how many of their batches were retried or undone.

    One query, grouped by code and action: a batch's marker row (first_of_code) sits in exactly one of
    its code's action groups, so the per-code batch counts are sums over the groups."""
    rows = (
        _in_range(BatchErrorRollup.objects, team_ids, first, last)
        .values("code", "suggested_action")
        .annotate(
            n=Sum("count"),
            batches=Count("pk", filter=Q(first_of_code=True)),
            retried=Count("pk", filter=Q(first_of_code=True, retried=True)),
            undone=Count("pk", filter=Q(first_of_code=True, undone=True)),
        )
        .order_by()
    )
    heads: dict[str, ErrorRow] = {}
    for r in rows:
        head = heads.setdefault(r["code"], ErrorRow(r["code"], 0, 0, 0, 0, []))
        head.items += r["n"]
        head.batches += r["batches"]
        head.retried_batches += r["retried"]
        head.undone_batches += r["undone"]
        head.actions.append((r["suggested_action"], r["n"]))
    out = sorted(heads.values(), key=lambda e: (-e.items, e.code))
    for row in out:
        row.actions = sorted(row.actions, key=lambda a: (-a[1], a[0]))[:TOP_ACTIONS]
    return out
