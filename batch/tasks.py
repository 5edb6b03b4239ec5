"""RQ entry points. Thin: they take ids and call the runner (enqueued by `batch.queueing`)."""

from __future__ import annotations

from rq import get_current_job

from batch.runner import run_batch
from hockeyhub.logs import bound


def run_batch_job(batch_id: int, slot: int) -> str:
    """One runner of one batch; loops over chunks until the batch has nothing left for it."""
    job = get_current_job()
    with bound(job_id=job.id if job else None):
        return run_batch(batch_id=batch_id, slot=slot)
