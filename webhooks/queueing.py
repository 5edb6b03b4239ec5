"""The webhook delivery queue. Jobs name their entry point by its dotted path (`DELIVER_JOB`), so the
services that enqueue a delivery never import the task module that calls them (no import circle)."""

from __future__ import annotations

import datetime as dt

import django_rq
from django.conf import settings

DELIVER_JOB = "webhooks.tasks.deliver_job"


def queue() -> django_rq.queues.DjangoRQ:
    return django_rq.get_queue(settings.WEBHOOK_QUEUE_NAME)


def enqueue_delivery(*, delivery_id: int, delay: float = 0) -> None:
    """Queue one delivery attempt, now or after `delay` seconds."""
    if delay > 0:
        queue().enqueue_in(dt.timedelta(seconds=delay), DELIVER_JOB, delivery_id, result_ttl=600)
    else:
        queue().enqueue(DELIVER_JOB, delivery_id, result_ttl=600)
