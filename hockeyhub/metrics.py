"""Prometheus metrics for /metrics, right across processes and machines.

Two kinds of source, chosen for where the truth lives:

- **State gauges are read from PostgreSQL at scrape time** (a custom collector): batches by state, items
  by outcome, the age of the oldest waiting batch; and from Redis/RQ: queue depth and live workers. Any
  web process answers with the same numbers, whichever process did the work.
- **Event counters live in Redis** (shared by every web and worker process on every machine): the chunk
  duration histogram and webhook failures. A runner adds to them with one pipelined round trip after
  its chunk commits. prometheus_client's multiprocess mode was not used: it shares files between the
  processes of *one* machine only, while workers may run on several (docs/operations.md, "Scaling out")
  and RQ forks a short-lived work horse per job. Durations stored on BatchChunk rows were not used
  either: purging old batches would make a histogram's counts go down, which Prometheus reads as a
  reset. A Redis flush resets the counters to zero, which Prometheus handles as any counter reset.
- **Refusals are counted from the audit trail**, which is append-only, so its counts only grow.

Recording never raises: a metric must not fail a chunk or a webhook.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

log = logging.getLogger("hockeyhub.metrics")

# Chunk durations span a few ms (small chunks) to tens of seconds (1,000-item ASSIGNs with medical checks).
CHUNK_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
REASON_RE = re.compile(r"[^a-z0-9_]+")


_clients: dict[str, Any] = {}


def _redis() -> Any:
    """A client for REDIS_URL with short timeouts: recording must not stall a runner on a slow Redis.
    (redis-py's pool notices a fork, so RQ's work horses get their own connections.)"""
    from redis import Redis

    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return _clients[url]


def _key(name: str) -> str:
    return f"{settings.METRICS_REDIS_PREFIX}:{name}"


def _bucket_field(seconds: float) -> str:
    for upper in CHUNK_DURATION_BUCKETS:
        if seconds <= upper:
            return repr(upper)
    return "+Inf"


# --- recording (any process) -----------------------------------------------------------------------


def observe_chunk_duration(seconds: float) -> None:
    """Count one committed chunk that took `seconds` (wall clock, claim to commit)."""
    try:
        pipe = _redis().pipeline(transaction=True)
        key = _key("chunk_duration")
        pipe.hincrby(key, _bucket_field(seconds), 1)
        pipe.hincrby(key, "count", 1)
        pipe.hincrbyfloat(key, "sum", max(seconds, 0.0))
        pipe.execute()
    except Exception:  # noqa: BLE001 - a metric must never fail the work it measures
        log.warning("could not record a chunk duration", exc_info=True)


def webhook_failure(*, reason: str) -> None:
    """Count one failed webhook delivery attempt.

    `reason` becomes a label: keep it to a small fixed set (webhooks/services.py uses "refused",
    "timeout", "connection", "http_4xx", "http_5xx", "http_other"); it is lower-cased and cut to 40
    characters of [a-z0-9_].
    """
    label = REASON_RE.sub("_", reason.lower()).strip("_")[:40] or "unknown"
    try:
        _redis().hincrby(_key("webhook_failures"), label, 1)
    except Exception:  # noqa: BLE001
        log.warning("could not record a webhook failure", exc_info=True)


# --- reading (at scrape time) ----------------------------------------------------------------------


# Sources of the other apps, filled in their AppConfig.ready() (hockeyhub imports no feature app):
# name -> the functions that yield its metrics. "database" and "rq" are batch's (batch/metrics.py).
SOURCES: dict[str, list[Callable[[], Iterable[Metric]]]] = {"database": [], "rq": []}


def register_source(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """Serve `collect`'s metrics on every scrape, under hockeyhub_metrics_source_up{source=name}."""
    SOURCES.setdefault(name, [])
    if collect not in SOURCES[name]:
        SOURCES[name].append(collect)


class HockeyHubCollector(Collector):
    """Collects every metric on each scrape. A source that fails is reported through
    hockeyhub_metrics_source_up{source} = 0, and the others are still served."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "hockeyhub_metrics_source_up",
            "1 when the source of a group of metrics answered this scrape, else 0",
            labels=["source"],
        )
        sources = {name: list(collects) for name, collects in SOURCES.items()}
        sources["database"].append(self.from_database)
        sources.setdefault("redis", []).append(self.from_redis)
        for source, collects in sources.items():
            started = time.monotonic()
            try:
                metrics = [metric for collect in collects for metric in collect()]
            except Exception:  # noqa: BLE001 - report it as a gauge, keep serving the rest
                log.warning("metrics source %s failed", source, exc_info=True)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            log.debug("metrics source %s took %.1f ms", source, (time.monotonic() - started) * 1000)
            yield from metrics
        yield up

    def from_database(self) -> Iterator[Metric]:
        from hockeyhub.models import AuditEvent

        lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED_OUT).count()
        yield CounterMetricFamily(
            "hockeyhub_login_lockouts", "Logins locked out after repeated failures", value=lockouts
        )

    def from_redis(self) -> Iterator[Metric]:
        redis = _redis()
        raw = {k.decode(): v.decode() for k, v in redis.hgetall(_key("chunk_duration")).items()}
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for upper in CHUNK_DURATION_BUCKETS:
            cumulative += int(raw.get(repr(upper), 0))
            buckets.append((_le(upper), cumulative))
        buckets.append(("+Inf", int(raw.get("count", 0))))
        yield HistogramMetricFamily(
            "hockeyhub_batch_chunk_duration_seconds",
            "Wall time of committed chunks, from claim to commit, across all workers",
            buckets=buckets,
            sum_value=float(raw.get("sum", 0.0)),
        )
        failures = CounterMetricFamily(
            "hockeyhub_webhook_failures", "Failed webhook delivery attempts, by reason", labels=["reason"]
        )
        for reason, n in sorted(redis.hgetall(_key("webhook_failures")).items()):
            failures.add_metric([reason.decode()], int(n))
        yield failures


def _le(upper: float) -> str:
    return "+Inf" if math.isinf(upper) else repr(float(upper))


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(HockeyHubCollector())
