"""RQ entry points. Thin: they take ids and call the runner."""

from __future__ import annotations

import uuid

import django_rq
from django.conf import settings

from batch.runner import run_batch

JOB_PREFIX = "batch-{batch_id}-slot-{slot}-"


def run_batch_job(batch_id: int, slot: int) -> str:
    """One runner of one batch; loops over chunks until the batch has nothing left for it."""
    return run_batch(batch_id=batch_id, slot=slot)


def queue() -> django_rq.queues.DjangoRQ:
    return django_rq.get_queue(settings.RQ_QUEUE_NAME)


def enqueue_runner(*, batch_id: int, slot: int) -> str:
    job_id = JOB_PREFIX.format(batch_id=batch_id, slot=slot) + uuid.uuid4().hex[:8]
    queue().enqueue(
        run_batch_job,
        batch_id,
        slot,
        job_id=job_id,
        job_timeout=settings.RQ_QUEUES[settings.RQ_QUEUE_NAME]["DEFAULT_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"batch {batch_id} runner {slot}",
    )
    return job_id


def queued_slots(batch_id: int) -> set[int]:
    """Return the slots of this batch with a runner job waiting in the queue."""
    prefix = f"batch-{batch_id}-slot-"
    slots = set()
    for job_id in queue().get_job_ids():
        if job_id.startswith(prefix):
            slots.add(int(job_id[len(prefix) :].split("-", 1)[0]))
    return slots
