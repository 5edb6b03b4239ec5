"""The measured costs: a fixed ms per chunk and ms per operation by type, fitted from what recent chunks
took, cached per process for a minute.

The cache is this module's `_cost_cache` (tests reset it: `batch.selectors.costs._cost_cache = None`).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.contrib.postgres.aggregates import RegrIntercept, RegrSlope
from django.db.models import Avg, Count, Max, Min
from django.utils import timezone

from batch.models import BatchChunk, OperationType

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
# A per-item cost is fitted only from chunks whose sizes spread this far (largest at least twice the
# smallest and this many items apart); a history of equal tiny chunks cannot tell a chunk's fixed cost
# from its items' cost, so it teaches the fixed cost only.
FIT_MIN_CHUNKS = 3
FIT_MIN_SPREAD = 8
MIN_ITEM_MS = 0.02


COST_CACHE_SECONDS = 60
_cost_cache: tuple[float, dict[str, float]] | None = None


@dataclass(frozen=True)
class Fit:
    """What the chunks of one operation type took: chunk_ms = fixed_ms + item_ms × items."""

    op_type: str
    chunks: int
    item_ms: float
    fixed_ms: float
    fitted: bool  # False: too little spread in chunk sizes; item_ms is the default, fixed_ms the rest


def fit_costs() -> list[Fit]:
    """Least squares over recent single-type chunks, per operation type (one aggregate query)."""
    since = timezone.now() - dt.timedelta(days=COST_HISTORY_DAYS)
    rows = (
        BatchChunk.objects.filter(
            status=BatchChunk.Status.DONE,
            finished_at__gte=since,
            duration_ms__isnull=False,
            item_count__gt=0,
        )
        .exclude(op_type="")
        .values("op_type")
        .annotate(
            n=Count("id"),
            slope=RegrSlope("duration_ms", "item_count"),
            intercept=RegrIntercept("duration_ms", "item_count"),
            mean_x=Avg("item_count"),
            mean_y=Avg("duration_ms"),
            low=Min("item_count"),
            high=Max("item_count"),
        )
    )
    fits = []
    for row in rows:
        default = DEFAULT_COSTS_MS.get(row["op_type"], 1.0)
        spread = row["high"] >= 2 * row["low"] and row["high"] - row["low"] >= FIT_MIN_SPREAD
        slope = row["slope"]
        if row["n"] >= FIT_MIN_CHUNKS and spread and slope is not None and slope > 0:
            item_ms, fixed_ms, fitted = (
                max(float(slope), MIN_ITEM_MS),
                max(float(row["intercept"]), 0.0),
                True,
            )
        else:
            item_ms = default
            fixed_ms, fitted = max(float(row["mean_y"]) - default * float(row["mean_x"]), 0.0), False
        fits.append(Fit(row["op_type"], row["n"], item_ms, fixed_ms, fitted))
    return fits


def measured_costs() -> dict[str, float]:
    """Return ms per operation by type and the fixed ms per chunk ("_chunk"): fitted from what recent
    chunks took (fit_costs) where there is history, defaults elsewhere.

    One aggregate query, at most once a minute per process (every submit and dry run asks; the answer
    moves slowly). The fixed cost is the chunk-weighted mean of the types' fixed costs.
    """
    global _cost_cache
    now = time.monotonic()
    if _cost_cache is not None and now - _cost_cache[0] < COST_CACHE_SECONDS:
        return dict(_cost_cache[1])
    costs = dict(DEFAULT_COSTS_MS)
    fits = fit_costs()
    for fit in fits:
        costs[fit.op_type] = fit.item_ms
    chunks = sum(f.chunks for f in fits)
    if chunks:
        costs["_chunk"] = sum(f.fixed_ms * f.chunks for f in fits) / chunks
    _cost_cache = (now, costs)
    return dict(costs)
