"""Calendars fixtures: a game calendar across the October DST change, on a pinned clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import FacilityFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Thursday 1 October 2026, 10:00 in the club's zone: summer time until Sunday 25 October.
NOW = dt.datetime(2026, 10, 1, 10, 0, tzinfo=STOCKHOLM)

# Tuesday games at 19:00, six occurrences counted; the 20 October one is called off (EXDATE); the
# 27 October one (after the DST change) is moved to 17:00; a two-day autumn break (all-day); a
# cancelled friendly.
GAMES = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Hockey League//Games//EN\r
BEGIN:VEVENT\r
UID:league-games@hockey.example\r
DTSTAMP:20260901T120000Z\r
DTSTART;TZID=Europe/Stockholm:20261006T190000\r
DTEND;TZID=Europe/Stockholm:20261006T213000\r
RRULE:FREQ=WEEKLY;COUNT=6\r
EXDATE;TZID=Europe/Stockholm:20261020T190000\r
SUMMARY:Game vs Lule\xc3\xa5\r
LOCATION:Coop Norrbotten Arena\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:league-games@hockey.example\r
DTSTAMP:20260901T120000Z\r
RECURRENCE-ID;TZID=Europe/Stockholm:20261027T190000\r
DTSTART;TZID=Europe/Stockholm:20261027T170000\r
DTEND;TZID=Europe/Stockholm:20261027T193000\r
SUMMARY:Game vs Lule\xc3\xa5 (early puck drop)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:autumn-break@hockey.example\r
DTSTAMP:20260901T120000Z\r
DTSTART;VALUE=DATE:20261102\r
DTEND;VALUE=DATE:20261104\r
SUMMARY:Autumn break\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:friendly@hockey.example\r
DTSTAMP:20260901T120000Z\r
DTSTART;TZID=Europe/Stockholm:20261008T180000\r
DTEND;TZID=Europe/Stockholm:20261008T200000\r
STATUS:CANCELLED\r
SUMMARY:Friendly vs Skellefte\xc3\xa5\r
END:VEVENT\r
END:VCALENDAR\r
"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def gym(db):
    return FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(22))


@pytest.fixture
def rink(db):
    return FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23))


# The batch fixtures (in-process runner, submit, real worker processes) serve these tests too.
from tests.batch.conftest import rq_queue, run_batches, submit, workers  # noqa: E402, F401
