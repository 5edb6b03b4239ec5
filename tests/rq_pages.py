"""Real RQ data for the django-rq dashboard pages, and the list of those pages (tests of its CSP)."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from rq import SimpleWorker, Worker
from rq.job import Job

from batch.queueing import queue
from batch.services import batch_submit
from batch.tasks import run_batch_job


@dataclass
class RqData:
    finished: Job
    failed: Job
    queued: Job
    worker: Worker
    urls: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Leave nothing behind for later tests: the worker's registration and the jobs (and their
        places in RQ's registries)."""
        self.worker.register_death()
        for job in (self.finished, self.failed, self.queued):
            job.delete()


def rq_dashboard_data(*, user, team) -> RqData:
    """A finished runner job (with a result), a failed one, a queued one and a registered worker."""
    q = queue()
    raw = {
        "operations": [{"id": "a", "type": "CREATE", "data": {"workout": {"name": "RQ", "type": "STRENGTH"}}}]
    }
    batch = batch_submit(user=user, team=team, raw=raw, source="test")
    finished = q.enqueue(run_batch_job, batch.pk, 0)
    failed = q.enqueue(operator.truediv, 1, 0)  # a job that fails (ZeroDivisionError)
    SimpleWorker([q], connection=q.connection).work(burst=True, logging_level="WARNING")
    queued = q.enqueue(operator.add, 1, 2)  # no worker runs after this: it stays queued
    # A registered worker, as a running batch_worker would leave it, for the worker pages.
    worker = Worker([q], connection=q.connection, name="csp-probe-worker")
    worker.register_birth()
    data = RqData(finished=finished, failed=failed, queued=queued, worker=worker)
    finished.refresh()
    result = finished.latest_result()
    base = "/admin/rq/"
    data.urls = {
        "stats": base,
        "queued": f"{base}queues/0/",
        "queue details": f"{base}queues/0/details/",
        "finished": f"{base}queues/0/finished/",
        "failed": f"{base}queues/0/failed/",
        "started": f"{base}queues/0/started/",
        "deferred": f"{base}queues/0/deferred/",
        "scheduled": f"{base}queues/0/scheduled/",
        "finished job": f"{base}queues/0/{finished.id}/",
        "failed job": f"{base}queues/0/{failed.id}/",
        "result": f"{base}queues/0/{finished.id}/results/{result.id}/",
        "delete job": f"{base}queues/0/{queued.id}/delete/",
        "empty queue": f"{base}queues/0/empty/",
        "requeue all": f"{base}queues/0/requeue-all/",
        "clear failed": f"{base}queues/0/failed/clear/",
        "workers": f"{base}workers/0/",
        "worker": f"{base}workers/0/{worker.key}/",
    }
    return data
