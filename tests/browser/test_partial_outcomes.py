"""Partial outcomes in a real browser with a real worker: a squad assign that leaves a medically
blocked player out, and a weekly series that skips its one colliding week. The dry run says what will
happen, the results page says what did, and the database agrees."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import BatchItem
from medical.models import MedicalRestriction
from tests.browser.conftest import login, shot
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment

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
    blocked = dry_run.locator(".verdict:has(.badge--blocked)")
    expect(blocked).to_have_count(1)  # only the blocked player is flagged
    expect(blocked).to_contain_text("Pat Hurt")
    expect(dry_run).to_contain_text("1 player will be left out of Leg day")
    shot(page, "30-squad-assign-dry-run-left-out")

    validate_and_run(page, dialog)
    row = page.get_by_test_id("result-list").locator("li.result", has_text="Leg day")
    expect(row.locator(".result__status")).to_have_text("Done")
    expect(row).to_contain_text("1 player left out of Leg day")
    expect(row).to_contain_text("Pat Hurt")
    shot(page, "31-squad-assign-results-left-out")

    item = BatchItem.objects.get()
    assert item.status == BatchItem.Status.SUCCEEDED
    assert [w["code"] for w in item.warnings if w["code"] == "PLAYERS_LEFT_OUT"] == ["PLAYERS_LEFT_OUT"]
    assigned = set(Assignment.objects.filter(workout=workout).values_list("player_id", flat=True))
    assert assigned == {p.pk for p in fit}
