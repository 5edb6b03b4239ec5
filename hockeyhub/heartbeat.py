"""Worker heartbeats kept by the app itself, so /healthz counts live workers right after Redis lost its
data (a FLUSHDB, a restart without persistence): RQ registers a worker once, at birth, in sets a flush
empties; each heartbeat here writes the worker's own key again, with a TTL, so a flushed Redis knows
every live worker again within one heartbeat (at most HEARTBEAT_SECONDS while idle).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

HEARTBEAT_SECONDS = 15  # batch_worker runs RQ with worker_ttl = HEARTBEAT_SECONDS + 15
FRESH_SECONDS = 60  # a worker whose last heartbeat is older than this is not counted


def _prefix() -> str:
    return f"hockeyhub:{settings.RQ_QUEUE_NAME}:worker-heartbeat:"


def beat(connection: Any, name: str, ttl: int) -> None:
    """Record that the worker `name` is alive now (its key expires after ttl seconds)."""
    connection.set(_prefix() + name, f"{time.time():.3f}", ex=max(int(ttl), FRESH_SECONDS))


def live_workers(connection: Any) -> int:
    """Count workers with a heartbeat in the last FRESH_SECONDS (SCAN: never blocks Redis)."""
    now = time.time()
    keys = list(connection.scan_iter(match=_prefix() + "*", count=500))
    if not keys:
        return 0
    values = connection.mget(keys)
    return sum(1 for value in values if value is not None and now - float(value) <= FRESH_SECONDS)


def forget(connection: Any, name: str) -> None:
    connection.delete(_prefix() + name)
