"""The calendar sync queue. Jobs name their entry point by its dotted path (`SYNC_JOB`), so the services
that enqueue a sync never import the task module that calls them (no import circle)."""

from __future__ import annotations

import datetime as dt

import django_rq
from django.conf import settings

SYNC_JOB = "calendars.tasks.sync_job"


def queue() -> django_rq.queues.DjangoRQ:
    # Outbound HTTP shares the webhooks' queue (served by every batch_worker).
    return django_rq.get_queue(settings.WEBHOOK_QUEUE_NAME)


def enqueue_sync(*, calendar_id: int, delay: float = 0) -> None:
    """Queue a sync of the calendar (one job per calendar: a newer schedule replaces the older)."""
    job_id = f"calendar-sync-{calendar_id}"
    if delay > 0:
        queue().enqueue_in(dt.timedelta(seconds=delay), SYNC_JOB, calendar_id, job_id=job_id, result_ttl=600)
    else:
        queue().enqueue(SYNC_JOB, calendar_id, job_id=job_id, result_ttl=600)
