"""Importing outside calendars as busy time: expansion in the club's zone, re-import, bad files."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from calendars.ics import CalendarFileError
from calendars.models import BusyEvent, ImportedCalendar
from calendars.services import imported_calendar_import
from hockeyhub.models import AuditEvent
from tests.calendars.conftest import GAMES, local

pytestmark = pytest.mark.django_db


def spans(calendar: ImportedCalendar) -> list[tuple[str, dt.datetime, dt.datetime]]:
    return [(e.title, e.start, e.end) for e in calendar.events.order_by("start")]


def test_recurring_games_expand_with_exdate_override_and_all_day(pinned, team, trainer):
    result = imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team)
    assert (result.created, result.updated, result.removed) == (6, 0, 0)
    assert spans(result.calendar) == [
        ("Game vs Luleå", local(2026, 10, 6, 19), local(2026, 10, 6, 21, 30)),
        ("Game vs Luleå", local(2026, 10, 13, 19), local(2026, 10, 13, 21, 30)),
        # COUNT=6 counts the EXDATE (20 October); 27 October (winter time from the 25th) is the
        # overridden instance.
        ("Game vs Luleå (early puck drop)", local(2026, 10, 27, 17), local(2026, 10, 27, 19, 30)),
        ("Autumn break", local(2026, 11, 2), local(2026, 11, 4)),
        ("Game vs Luleå", local(2026, 11, 3, 19), local(2026, 11, 3, 21, 30)),
        ("Game vs Luleå", local(2026, 11, 10, 19), local(2026, 11, 10, 21, 30)),
    ]
    # 19:00 local is 17:00 UTC in summer time and 18:00 UTC after the change.
    games = result.calendar.events.filter(title="Game vs Luleå").order_by("start")
    assert [e.start.astimezone(dt.UTC).hour for e in games] == [17, 17, 18, 18]
    assert result.calendar.events.get(title="Autumn break").all_day
    assert not result.calendar.events.filter(title__startswith="Friendly").exists()
    assert AuditEvent.objects.filter(action="calendar.import", team=team).count() == 1


def test_reimport_updates_by_uid_and_removes_events_gone(pinned, team, trainer):
    first = imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team)
    ids = {(e.uid, e.instance): e.pk for e in first.calendar.events.all()}
    changed = (
        GAMES.replace(
            b"DTEND;TZID=Europe/Stockholm:20261006T213000", b"DTEND;TZID=Europe/Stockholm:20261006T220000"
        )
        .replace(b"RRULE:FREQ=WEEKLY;COUNT=6", b"RRULE:FREQ=WEEKLY;COUNT=5")
        .replace(b"SUMMARY:Autumn break", b"SUMMARY:Autumn break (no ice)")
    )
    again = imported_calendar_import(user=trainer, data=changed, name="League games", team=team)
    assert again.calendar.pk == first.calendar.pk
    assert ImportedCalendar.objects.count() == 1
    # Every occurrence's end moved (DTEND of the series) and the break's title; the last game is gone.
    assert (again.created, again.removed) == (0, 1)
    assert again.updated == 4  # three series games (the override keeps its own end) + the break
    rows = {(e.uid, e.instance): e for e in again.calendar.events.all()}
    assert set(rows) < set(ids)
    assert all(rows[key].pk == ids[key] for key in rows)  # updated in place, not replaced
    assert local(2026, 11, 10, 19) not in {e.start for e in rows.values()}
    assert again.calendar.events.filter(title="Autumn break (no ice)").exists()
    unchanged = imported_calendar_import(user=trainer, data=changed, name="League games", team=team)
    assert (unchanged.created, unchanged.updated, unchanged.removed, unchanged.unchanged) == (0, 0, 0, 5)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"hello world", "not an iCalendar file"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "BEGIN:VCALENDAR"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad-date\r\nDTSTART:2026XX01\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "bad-date",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad-rule\r\nDTSTART:20261006T190000\r\n"
            b"RRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "bad-rule",
        ),
    ],
)
def test_a_malformed_file_is_a_clear_error_and_nothing_is_written(pinned, team, trainer, data, fragment):
    with pytest.raises(CalendarFileError) as raised:
        imported_calendar_import(user=trainer, data=data, name="Broken", team=team)
    assert fragment in raised.value.message
    assert not ImportedCalendar.objects.exists() and not BusyEvent.objects.exists()


def test_a_bad_reimport_leaves_the_previous_import_whole(pinned, team, trainer):
    imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team)
    broken = GAMES.replace(b"DTSTART;VALUE=DATE:20261102", b"DTSTART;VALUE=DATE:2026-11-02")
    with pytest.raises(CalendarFileError):
        imported_calendar_import(user=trainer, data=broken, name="League games", team=team)
    assert BusyEvent.objects.count() == 6


def test_too_many_occurrences_are_refused(pinned, team, trainer, settings):
    settings.CALENDAR_IMPORT_MAX_EVENTS = 3
    with pytest.raises(CalendarFileError, match="more than 3 occurrences"):
        imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team)
    assert not BusyEvent.objects.exists()


def test_command_imports_for_a_team_and_a_facility(pinned, team, gym, tmp_path):
    path = tmp_path / "games.ics"
    path.write_bytes(GAMES)
    out = io.StringIO()
    call_command("calendar_import", str(path), "--team", team.slug, "--name", "League games", stdout=out)
    assert "League games: 6 busy events (6 new, 0 changed, 0 removed)" in out.getvalue()
    call_command("calendar_import", str(path), "--facility", str(gym.pk), stdout=io.StringIO())
    facility_calendar = ImportedCalendar.objects.get(facility=gym)
    assert facility_calendar.name == "games" and facility_calendar.team is None
    assert facility_calendar.events.count() == 6


def test_command_errors_name_the_problem(pinned, team, tmp_path):
    path = tmp_path / "broken.ics"
    path.write_bytes(b"not a calendar")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("calendar_import", str(path), "--team", team.slug)
    with pytest.raises(CommandError, match="no team with slug 'nope'"):
        call_command("calendar_import", str(path), "--team", "nope")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("calendar_import", str(tmp_path / "missing.ics"), "--team", team.slug)
