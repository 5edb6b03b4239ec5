"""In a real browser: import a game calendar, see it on the week calendar, schedule a series around it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import Batch
from tests.browser.conftest import login, shot
from tests.factories import FacilityFactory, WorkoutFactory
from workouts.calendar import at
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def games(tuesday: dt.date) -> bytes:
    stamp = tuesday.strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//League//EN\r\nBEGIN:VEVENT\r\nUID:games@league\r\n"
        f"DTSTART;TZID=Europe/Stockholm:{stamp}T190000\r\nDTEND;TZID=Europe/Stockholm:{stamp}T213000\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=2\r\nSUMMARY:Game vs Luleå\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_import_games_see_them_and_schedule_a_series_around_them(page, trainer, team, workers):
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    tuesday, wednesday, thursday = (monday + dt.timedelta(days=n) for n in (1, 2, 3))
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(22))
    workout = WorkoutFactory(
        team=team, name="Evening strength", status="draft", scheduled_start=None, scheduled_end=None
    )
    workers.start()

    login(page, "alice")
    page.goto(f"/calendars/?team={team.slug}")
    page.fill("#id_name", "League games")
    page.set_input_files(
        "#id_file", {"name": "games.ics", "mimeType": "text/calendar", "buffer": games(tuesday)}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#messages")).to_contain_text("Imported League games: 2 busy events")
    expect(page.get_by_role("table")).to_contain_text("League games")
    shot(page, "calendars-01-imported")

    year, week, _ = monday.isocalendar()
    page.goto(f"/workouts/calendar/?team={team.slug}&week={year}-W{week:02d}")
    busy = page.locator(".calendar__event--busy")
    expect(busy).to_have_count(2)
    expect(busy.first).to_contain_text("Game vs Luleå")
    expect(busy.first).to_contain_text("19:00–21:30")
    shot(page, "calendars-02-week-with-games")

    page.goto(f"/workouts/?team={team.slug}")
    page.locator("input[data-select-row]").first.click()
    page.click("a[data-op=schedule]")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    dialog.locator("#op_start").fill(f"{tuesday.isoformat()}T19:30")
    dialog.locator("#op_end").fill(f"{tuesday.isoformat()}T20:30")
    dialog.locator("#op_facility").select_option(label="Main gym")
    dialog.locator("#op_frequency").select_option("daily")
    dialog.locator("#op_count").fill("3")
    dialog.locator("#id_opt-conflict_resolution").select_option("ADJUST_TIME")
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("Game vs Luleå")
    shot(page, "calendars-03-series-dry-run")
    run = dialog.locator("button[data-run]")
    expect(run).to_be_enabled()
    run.click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=30_000)
    shot(page, "calendars-04-series-done")
    assert Batch.objects.get().succeeded == 1
    starts = sorted(
        Workout.objects.filter(team=team, scheduled_start__isnull=False).values_list(
            "scheduled_start", flat=True
        )
    )
    # Game days move before puck drop (after the game the gym closes); the free day keeps 19:30.
    assert starts == [at(tuesday, dt.time(18)), at(wednesday, dt.time(19, 30)), at(thursday, dt.time(18))]
    assert all(w.facility_id == gym.pk for w in Workout.objects.filter(team=team))
    assert workout.pk in {w.pk for w in Workout.objects.filter(scheduled_start=at(tuesday, dt.time(18)))}
