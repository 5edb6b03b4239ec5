"""Recurring series of workout days, laid out by dateutil.rrule (RFC 5545) and always bounded.

`frequency` is daily, weekly, biweekly or monthly. `weekdays` (0-6 from Monday, or "MO".."SU") filter
the days of a daily series and pick the days of each week of a weekly or biweekly one (default: the
first day's weekday). Monthly repeats the first day's day of the month; months without it are passed
over. `until` (an inclusive date) and/or `count` end the series; as in RFC 5545, `count` counts
generated days and `exceptions` are removed afterwards.

Bounds: no series runs past workouts.rules.DATE_MAX, and none generates more than MAX_OCCURRENCES
days; either way RecurrenceError says so, after at most MAX_OCCURRENCES + 1 steps of the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from dateutil import rrule

from workouts.rules import DATE_MAX

MAX_OCCURRENCES = 366
FREQUENCIES = ("daily", "weekly", "biweekly", "monthly")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RecurrenceError(ValueError):
    """The series is too long, or would run past the last date the calendar accepts."""


def weekday_numbers(values: Sequence[Any]) -> list[int]:
    return sorted({WEEKDAYS.index(v) if isinstance(v, str) else v for v in values})


def occurrence_days(first: dt.date, recurrence: Mapping[str, Any] | None) -> list[dt.date]:
    """Return the dates of the series starting on `first` (itself a date of the series, if it fits)."""
    if not recurrence:
        return [first]
    frequency = recurrence["frequency"]
    until = dt.date.fromisoformat(recurrence["until"]) if recurrence.get("until") else None
    count = recurrence.get("count")
    weekdays = weekday_numbers(recurrence.get("weekdays") or [])
    rule: dict[str, Any] = {
        "dtstart": dt.datetime.combine(first, dt.time()),
        "until": dt.datetime.combine(min(until or DATE_MAX, DATE_MAX), dt.time()),
        "wkst": rrule.MO,
    }
    if frequency == "monthly":
        rule.update(freq=rrule.MONTHLY, bymonthday=first.day)
    elif frequency == "daily":
        rule.update(freq=rrule.DAILY, byweekday=weekdays or None)
    else:
        rule.update(
            freq=rrule.WEEKLY,
            interval=2 if frequency == "biweekly" else 1,
            byweekday=weekdays or [first.weekday()],
        )
    too_many = f"produces more than {MAX_OCCURRENCES} occurrences; shorten until or lower count"
    if count and count > MAX_OCCURRENCES:
        raise RecurrenceError(too_many)
    if count:
        days = [when.date() for when in islice(rrule.rrule(**rule), count)]
        if len(days) < count and (until is None or until > DATE_MAX):
            raise RecurrenceError(
                f"runs past {DATE_MAX.isoformat()}, the last date the calendar accepts; lower count"
            )
    else:
        days = [when.date() for when in islice(rrule.rrule(**rule), MAX_OCCURRENCES + 1)]
    if len(days) > MAX_OCCURRENCES:
        raise RecurrenceError(too_many)
    skipped = {dt.date.fromisoformat(d) for d in recurrence.get("exceptions") or []}
    return [d for d in days if d not in skipped]
