"""Reading an outside .ics as busy time: icalendar parses, recurring-ical-events expands.

Everything is judged before anything is written: `parse_busy` either returns every occurrence in the
window or raises `CalendarFileError` with a message a trainer can act on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.conf import settings
from django.utils import timezone

from hockeyhub.errors import Refused

TITLE_MAX = 255


class CalendarFileError(Refused):
    """The file is not a usable iCalendar file; `message` says why."""


@dataclass(frozen=True)
class ParsedEvent:
    uid: str
    instance: str
    title: str
    location: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool


def club_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def import_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The span of occurrences kept: CALENDAR_IMPORT_DAYS_BACK before today to _DAYS_AHEAD after."""
    today = timezone.localdate(now or timezone.now(), timezone=club_zone())
    low = today - dt.timedelta(days=settings.CALENDAR_IMPORT_DAYS_BACK)
    high = today + dt.timedelta(days=settings.CALENDAR_IMPORT_DAYS_AHEAD)
    zone = club_zone()
    return dt.datetime.combine(low, dt.time.min, zone), dt.datetime.combine(high, dt.time.min, zone)


def _aware(value: dt.datetime) -> dt.datetime:
    # A floating time (no zone, no TZID) is the club's local time.
    return value if value.tzinfo is not None else value.replace(tzinfo=club_zone())


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, club_zone())


def _instance(event: icalendar.Event) -> str:
    rid = event.get("RECURRENCE-ID")
    if rid is None:
        return ""
    value = rid.dt
    if isinstance(value, dt.datetime):
        return _aware(value).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.isoformat()


def _uid(event: icalendar.Event) -> str:
    uid = str(event.get("UID") or "").strip()
    if uid:
        return uid[:255]
    # RFC 5545 requires a UID; some exports omit it. Derive a stable one so a re-import matches.
    start = event.get("DTSTART")
    seed = f"{event.get('SUMMARY', '')}|{start.to_ical().decode() if start is not None else ''}"
    return "no-uid-" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def _occurrence(event: icalendar.Event) -> ParsedEvent | None:
    """One expanded occurrence as busy time, or None if it holds no time (cancelled, transparent)."""
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    if event.get("DTSTART") is None:
        raise CalendarFileError(f"event {_uid(event)!r} has no DTSTART")
    start_value = event["DTSTART"].dt
    end_prop = event.get("DTEND")
    end_value = end_prop.dt if end_prop is not None else None
    all_day = not isinstance(start_value, dt.datetime)
    if all_day:
        # An all-day event blocks the whole local day (DTEND is the exclusive day after).
        start = _midnight(start_value)
        last = (
            end_value if isinstance(end_value, dt.date) and not isinstance(end_value, dt.datetime) else None
        )
        end = (
            _midnight(last) if last and last > start_value else _midnight(start_value + dt.timedelta(days=1))
        )
    else:
        start = _aware(start_value)
        if end_value is None:
            duration = event.get("DURATION")
            end = start + (duration.dt if duration is not None else dt.timedelta(0))
        elif isinstance(end_value, dt.datetime):
            end = _aware(end_value)
        else:
            end = _midnight(end_value)
    if end <= start:
        return None  # a moment, not a span: it blocks nothing
    summary = str(event.get("SUMMARY") or "").strip() or "Busy"
    location = str(event.get("LOCATION") or "").strip()
    return ParsedEvent(
        uid=_uid(event),
        instance=_instance(event),
        title=summary[:TITLE_MAX],
        location=location[:TITLE_MAX],
        start=start.astimezone(dt.UTC),
        end=end.astimezone(dt.UTC),
        all_day=all_day,
    )


def parse_busy(data: bytes, *, window: tuple[dt.datetime, dt.datetime] | None = None) -> list[ParsedEvent]:
    """Return the file's busy occurrences overlapping the window, expanded in the club's zone.

    Raises CalendarFileError for anything that is not a readable VCALENDAR (bad lines, a broken
    date, an RRULE that cannot be expanded, too many occurrences or bytes).
    """
    if len(data) > settings.CALENDAR_IMPORT_MAX_BYTES:
        raise CalendarFileError(
            f"the file is {len(data):,} bytes; at most {settings.CALENDAR_IMPORT_MAX_BYTES:,} are accepted"
        )
    if not data.strip():
        raise CalendarFileError("the file is empty")
    low, high = window or import_window()
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise CalendarFileError(f"not an iCalendar file: {exc}") from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise CalendarFileError("not an iCalendar file: it does not start with BEGIN:VCALENDAR")
    for component in calendar.walk():
        if component.name == "VEVENT" and component.errors:
            prop, message = component.errors[0]
            raise CalendarFileError(f"event {_uid(component)!r}: {prop}: {message}")
    found: dict[tuple[str, str], ParsedEvent] = {}
    limit = settings.CALENDAR_IMPORT_MAX_EVENTS
    try:
        for event in recurring_ical_events.of(calendar, skip_bad_series=False).between(low, high):
            occurrence = _occurrence(event)
            if occurrence is None:
                continue
            found[(occurrence.uid, occurrence.instance)] = occurrence
            if len(found) > limit:
                raise CalendarFileError(
                    f"the file holds more than {limit:,} occurrences "
                    f"between {low:%Y-%m-%d} and {high:%Y-%m-%d}"
                )
    except CalendarFileError:
        raise
    except (
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        recurring_ical_events.InvalidCalendar,
    ) as exc:
        raise CalendarFileError(f"the events cannot be read: {exc}") from None
    return sorted(found.values(), key=lambda e: (e.start, e.uid, e.instance))
