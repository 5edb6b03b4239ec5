"""Putting automation jobs on the batch queue (the workers that run batches run these too)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from batch.queueing import queue


def enqueue_job(func: str, *args: Any, description: str = "", job_id: str = "") -> str:
    """Enqueue `func` (a dotted path, so nothing here imports the task) with id-only arguments."""
    job_id = job_id or f"automation-{uuid.uuid4().hex[:12]}"
    queue().enqueue(
        func,
        *args,
        job_id=job_id,
        job_timeout=settings.RQ_QUEUES[settings.RQ_QUEUE_NAME]["DEFAULT_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=description or func,
    )
    return job_id
