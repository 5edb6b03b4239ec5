"""Batch's metrics on /metrics (hockeyhub/metrics.py serves them; BatchConfig.ready() registers them):
state gauges read from PostgreSQL and the runner queue's from RQ, at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from batch.models import Batch
from batch.queueing import queue
from batch.quotas import Quota
from hockeyhub.models import AuditEvent


def from_database() -> Iterator[Metric]:
    """Batches by state, items by outcome, the oldest waiting batch, quota refusals (audit trail)."""
    by_state = dict(Batch.objects.order_by().values_list("status").annotate(n=Count("id")))
    batches = GaugeMetricFamily(
        "hockeyhub_batches", "Batches kept in the database, by state", labels=["state"]
    )
    for state in Batch.Status.values:
        batches.add_metric([state], by_state.get(state, 0))
    yield batches

    sums = Batch.objects.aggregate(
        total=Sum("total_items"),
        succeeded=Sum("succeeded"),
        failed=Sum("failed"),
        skipped=Sum("skipped"),
        cancelled=Sum("cancelled"),
        conflict=Sum("conflicted"),
    )
    items = GaugeMetricFamily(
        "hockeyhub_batch_items",
        "Items of the batches kept in the database, by outcome (pending: not run yet)",
        labels=["outcome"],
    )
    total = sums.pop("total") or 0
    done = 0
    for outcome, value in sums.items():
        items.add_metric([outcome], value or 0)
        done += value or 0
    items.add_metric(["pending"], max(total - done, 0))
    yield items

    oldest = Batch.objects.filter(status=Batch.Status.QUEUED).aggregate(at=Min("queued_at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield GaugeMetricFamily(
        "hockeyhub_batch_oldest_waiting_age_seconds",
        "Seconds the oldest batch still waiting for its first runner has been queued (0: none)",
        value=max(age, 0.0),
    )

    refused = dict(
        AuditEvent.objects.filter(action=AuditEvent.Action.BATCH_QUOTA_REFUSED)
        .order_by()
        .values_list("purpose")
        .annotate(n=Count("id"))
    )
    counter = CounterMetricFamily(
        "hockeyhub_quota_refusals", "Batches refused by a quota (from the audit trail)", labels=["quota"]
    )
    for quota in (
        Quota.ACTIVE_PER_TEAM,
        Quota.ACTIVE_PER_USER,
        Quota.OPERATIONS_PER_TEAM_PER_DAY,
        Quota.SUBMISSIONS_PER_USER_PER_MINUTE,
    ):
        counter.add_metric([quota], refused.get(quota, 0))
    yield counter


def from_rq() -> Iterator[Metric]:
    """The runner queue: depth, running and failed jobs, live workers."""

    q = queue()
    name = q.name
    depth = GaugeMetricFamily("hockeyhub_queue_depth", "Jobs waiting in the RQ queue", labels=["queue"])
    depth.add_metric([name], q.count)
    yield depth
    running = GaugeMetricFamily(
        "hockeyhub_queue_running_jobs", "Runner jobs being worked on now", labels=["queue"]
    )
    running.add_metric([name], StartedJobRegistry(queue=q).count)
    yield running
    failed = GaugeMetricFamily(
        "hockeyhub_queue_failed_jobs",
        "Jobs in RQ's failed registry (crashed runners; batches recover from PostgreSQL)",
        labels=["queue"],
    )
    failed.add_metric([name], FailedJobRegistry(queue=q).count)
    yield failed
    workers = GaugeMetricFamily("hockeyhub_workers", "Live RQ workers on the queue", labels=["queue"])
    workers.add_metric([name], len(Worker.all(queue=q)))
    yield workers
