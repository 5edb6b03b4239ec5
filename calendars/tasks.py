"""RQ entry points for calendars. Thin: they take ids and call the service (queued by
calendars.queueing, which names them by their dotted path)."""

from __future__ import annotations

from django.conf import settings

from calendars.queueing import enqueue_sync
from calendars.services import imported_calendar_sync


def sync_job(calendar_id: int) -> str:
    """Sync one subscribed calendar, then schedule its next sync (CALENDAR_SYNC_MINUTES)."""
    outcome = imported_calendar_sync(calendar_id=calendar_id)
    if outcome != "gone":
        enqueue_sync(calendar_id=calendar_id, delay=settings.CALENDAR_SYNC_MINUTES * 60)
    return outcome
