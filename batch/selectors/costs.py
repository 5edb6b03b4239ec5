"""The measured per-type costs: ms per operation, from recent history, cached per process for a minute.

The cache is this module's `_cost_cache` (tests reset it: `batch.selectors.costs._cost_cache = None`).
"""

from __future__ import annotations

import datetime as dt
import time

from django.db.models import Avg
from django.utils import timezone

from batch.models import BatchItem, OperationType

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


COST_CACHE_SECONDS = 60
_cost_cache: tuple[float, dict[str, float]] | None = None


def measured_costs() -> dict[str, float]:
    """Return ms per operation by type: recent history where there is some, defaults elsewhere.

    One aggregate query over recent succeeded items, at most once a minute per process (every submit
    and dry run asks; the answer moves slowly).
    """
    global _cost_cache
    now = time.monotonic()
    if _cost_cache is not None and now - _cost_cache[0] < COST_CACHE_SECONDS:
        return dict(_cost_cache[1])
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
    _cost_cache = (now, costs)
    return dict(costs)
