"""RQ entry points for calendars. Thin: they take ids and call the service."""

from __future__ import annotations

import django_rq
from django.conf import settings

from calendars.services import enqueue_sync, imported_calendar_sync


def sync_job(calendar_id: int) -> str:
    """Sync one subscribed calendar, then schedule its next sync (CALENDAR_SYNC_MINUTES)."""
    outcome = imported_calendar_sync(calendar_id=calendar_id)
    if outcome != "gone":
        enqueue_sync(calendar_id=calendar_id, delay=settings.CALENDAR_SYNC_MINUTES * 60)
    return outcome


def queue() -> django_rq.queues.DjangoRQ:
    # Outbound HTTP shares the webhooks' queue (served by every batch_worker).
    return django_rq.get_queue(settings.WEBHOOK_QUEUE_NAME)
