"""Putting runner jobs on the RQ queue, and reading what waits there.

Jobs name their entry point by its dotted path (`RUNNER_JOB`), so whatever enqueues a batch (submit,
undo, retry, resume, recovery) does not import the runner that executes it; `batch/tasks.py` is the
top of the import graph.
"""

from __future__ import annotations

import uuid

import django_rq
from django.conf import settings

from batch.models import Batch

RUNNER_JOB = "batch.tasks.run_batch_job"
JOB_PREFIX = "batch-{batch_id}-slot-{slot}-"


def queue() -> django_rq.queues.DjangoRQ:
    return django_rq.get_queue(settings.RQ_QUEUE_NAME)


def live_workers() -> int | None:
    """How many RQ workers listen on the batch queue now (None when Redis cannot say): the registered
    workers whose keys have not expired (a worker renews its key with every heartbeat)."""
    from redis.exceptions import RedisError
    from rq import Worker

    try:
        return len(Worker.all(queue=queue()))
    except (RedisError, OSError):
        return None


def enqueue_runner(*, batch_id: int, slot: int, urgent: bool | None = None) -> str:
    """Put one runner job for the batch's slot on the queue; return its job id.

    Undo and rollback runners are urgent: they go to the front of the queue, everything else to the
    back (`urgent=None` looks the batch's kind up).
    """
    if urgent is None:
        urgent = Batch.objects.filter(pk=batch_id, kind=Batch.Kind.UNDO).exists()
    job_id = JOB_PREFIX.format(batch_id=batch_id, slot=slot) + uuid.uuid4().hex[:8]
    queue().enqueue(
        RUNNER_JOB,
        batch_id,
        slot,
        job_id=job_id,
        job_timeout=settings.RQ_QUEUES[settings.RQ_QUEUE_NAME]["DEFAULT_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"batch {batch_id} runner {slot}",
        at_front=urgent,
    )
    return job_id


def enqueue_runners(*, batch_id: int, slots: list[int] | None = None) -> list[str]:
    """Put one runner job per slot on the queue; a slot's advisory lock keeps duplicates harmless."""
    batch = Batch.objects.only("runner_slots", "kind").get(pk=batch_id)
    urgent = batch.kind == Batch.Kind.UNDO
    return [
        enqueue_runner(batch_id=batch_id, slot=slot, urgent=urgent)
        for slot in (slots or range(batch.runner_slots))
    ]


def waiting_batches() -> list[int]:
    """Return the batch ids of the runner jobs waiting in the queue, in queue order (one Redis read)."""
    ids = []
    for job_id in queue().get_job_ids():
        if job_id.startswith("batch-"):
            ids.append(int(job_id.split("-", 2)[1]))
    return ids


def queued_slots(batch_id: int) -> set[int]:
    """Return the slots of this batch with a runner job waiting in the queue."""
    prefix = f"batch-{batch_id}-slot-"
    slots = set()
    for job_id in queue().get_job_ids():
        if job_id.startswith(prefix):
            slots.add(int(job_id[len(prefix) :].split("-", 1)[0]))
    return slots
