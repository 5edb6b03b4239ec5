"""RQ entry points. Thin: they take ids and call the runner (enqueued by `batch.queueing`)."""

from __future__ import annotations

from rq import get_current_job

from batch.runner import run_turn
from hockeyhub.logs import bound


def run_batch_job(batch_id: int, slot: int) -> str:
    """One turn of one runner of one batch: chunks for a time slice, then back in the queue if others wait."""
    job = get_current_job()
    with bound(job_id=job.id if job else None):
        return run_turn(batch_id=batch_id, slot=slot)
