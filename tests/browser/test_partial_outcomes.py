"""Partial outcomes in a real browser with a real worker: a squad assign that leaves a medically
blocked player out, and a weekly series that skips its one colliding week. The dry run says what will
happen, the results page says what did, and the database agrees."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import BatchItem
from medical.models import MedicalRestriction
from tests.browser.conftest import login, shot
from tests.factories import (
    ExerciseFactory,
    FacilityFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment, Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]
MONDAY = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday() + 7)


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def validate_and_run(page, dialog) -> None:
    """Tick "I have read the warnings" (the dry run has some) and run; land on the batch page."""
    dialog.get_by_test_id("ack").locator("input").check()
    dialog.locator("button[data-run]").click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=30_000)


def test_a_squad_assign_leaves_the_blocked_player_out_and_says_so(page, trainer, team, workers):
    squat = ExerciseFactory(name="Back squat", body_parts=["knee"])
    workout = WorkoutFactory(team=team, name="Leg day")
    WorkoutExerciseFactory(workout=workout, exercise=squat)
    fit = [PlayerFactory(team=team, first_name="Fit", last_name=f"Player{i}") for i in range(5)]
    hurt = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE, title="ACL tear")
    workers.start()

    login(page, "alice")
    page.locator("tr", has_text="Leg day").locator("input[data-select-row]").check()
    page.click("a[data-op=assign]")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    picker = dialog.locator(".player-picker__item")
    expect(picker).to_have_count(6)
    for box in picker.locator("input").all():
        box.check()
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run.get_by_test_id("left-out")).to_contain_text("1 player will be left out")
    # The one problem leads, by kind; the fit players fold into "5 players clear".
    blocked = dry_run.get_by_test_id("problem-group")
    expect(blocked).to_have_count(1)  # only the blocked player is flagged
    expect(blocked).to_contain_text("1 Players left out (medical restriction)")
    expect(blocked).to_contain_text("Pat Hurt")
    expect(dry_run).not_to_contain_text("Pat Hurt Pat Hurt")  # names appear once
    expect(dry_run).to_contain_text("1 player will be left out of Leg day")
    expect(dry_run.get_by_test_id("workout-line").locator("details summary")).to_have_text("5 players clear")
    shot(page, "30-squad-assign-dry-run-left-out")

    validate_and_run(page, dialog)
    # Done only in part: amber on the page, in the history, in the notice and in the CSV.
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("Completed with warnings: 1 succeeded of 1 (1 with warnings)")
    expect(outcome).to_have_class(re.compile(r"\balert--warn\b"))
    expect(outcome.get_by_test_id("problem-kinds")).to_have_text("1 Players left out (medical restriction)")
    row = page.get_by_test_id("result-list").locator("li.result", has_text="Leg day")
    expect(row.locator(".result__status")).to_have_text("Done, in part")
    expect(row).to_contain_text("1 player left out of Leg day")
    expect(row).to_contain_text("Pat Hurt")
    shot(page, "31-squad-assign-results-left-out")
    batch_url = page.url
    csv_text = page.request.get(batch_url + "results.csv").text()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["workout"], r["outcome"], r["problem"]) for r in rows] == [
        ("Leg day", "Done", "Players left out (medical restriction)")
    ]
    assert "Pat Hurt" in rows[0]["message"]
    page.goto(f"/batches/?team={team.slug}")
    badge = page.locator("tr", has_text="Leg day").locator("[data-label=Outcome] .badge")
    expect(badge).to_have_text("Completed with warnings")
    expect(badge).to_have_class(re.compile(r"\bbadge--tone-warn\b"))

    item = BatchItem.objects.get()
    assert item.status == BatchItem.Status.SUCCEEDED
    assert [w["code"] for w in item.warnings if w["code"] == "PLAYERS_LEFT_OUT"] == ["PLAYERS_LEFT_OUT"]
    assigned = set(Assignment.objects.filter(workout=workout).values_list("player_id", flat=True))
    assert assigned == {p.pk for p in fit}


def test_a_weekly_series_skips_only_its_colliding_week_and_names_it(page, trainer, team, workers):
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    WorkoutFactory(team=team, name="Leg day", status=Workout.Status.DRAFT, scheduled_start=None)
    week3 = MONDAY + dt.timedelta(days=14)
    WorkoutFactory(
        team=team, name="Busy", facility=gym, scheduled_start=at(week3, 10), scheduled_end=at(week3, 11)
    )
    workers.start()

    login(page, "alice")
    page.locator("tr", has_text="Leg day").locator("input[data-select-row]").check()
    page.click("a[data-op=schedule]")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    dialog.locator("#op_start").fill(f"{MONDAY.isoformat()}T10:00")
    dialog.locator("#op_end").fill(f"{MONDAY.isoformat()}T11:00")
    dialog.locator("#op_facility").select_option(label="Main gym")
    dialog.locator("#op_frequency").select_option("weekly")
    dialog.locator("#op_count").fill("4")
    dialog.locator("#id_opt-conflict_resolution").select_option("SKIP")
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("1 occurrence skipped")
    parts = dry_run.get_by_test_id("parts").locator("li")
    expect(parts).to_have_count(4)
    skipped = parts.nth(2)
    expect(skipped).to_contain_text(week3.strftime("%a %-d %b"))
    expect(skipped).to_contain_text("Skipped")
    expect(skipped).to_contain_text("Main gym is already booked by Busy")
    for n in (0, 1, 3):
        expect(parts.nth(n)).not_to_contain_text("Skipped")
    shot(page, "32-series-dry-run-skipped-week")

    validate_and_run(page, dialog)
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed with warnings")
    row = page.get_by_test_id("result-list").locator("li.result", has_text="Leg day").first
    expect(row.locator(".result__status")).to_have_text("Done, in part")
    result_parts = row.get_by_test_id("parts").locator("li")
    expect(result_parts).to_have_count(4)
    expect(result_parts.nth(2)).to_contain_text(week3.strftime("%a %-d %b"))
    expect(result_parts.nth(2)).to_contain_text("Skipped")
    expect(result_parts.nth(2)).to_contain_text("Main gym is already booked by Busy")
    shot(page, "33-series-results-skipped-week")

    assert BatchItem.objects.get().status == BatchItem.Status.SUCCEEDED
    series = Workout.objects.filter(name="Leg day", team=team)
    days = sorted(timezone.localtime(w.scheduled_start).date() for w in series)
    assert days == [MONDAY, MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=21)]
    assert Workout.objects.filter(facility=gym, scheduled_start=at(week3, 10)).get().name == "Busy"
