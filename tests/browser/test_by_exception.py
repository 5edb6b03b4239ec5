"""By exception, in a real browser: a 226-workout edit's dry run fits in a few screens and leads with
what needs reading; keyboard users skip straight to the selection's actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medical.models import MedicalRestriction
from tests.browser.conftest import login, shot
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    club_time,
)
from workouts.models import Assignment

pytestmark = pytest.mark.browser
WORKOUTS = 226
DAYS = 40  # workouts spread over 40 days, six hours a day: a player is on one session a day at most
SQUAD = 10


def test_a_226_workout_dry_run_fits_in_a_few_screens(page, trainer, team):
    exercise = ExerciseFactory(name="Band rows", body_parts=["shoulder"], intensity=40)
    groups = [PlayerFactory.create_batch(SQUAD, team=team) for _ in range(WORKOUTS // DAYS + 1)]
    hurt = groups[0][0]
    RestrictionFactory(
        player=hurt,
        severity=MedicalRestriction.Severity.SEVERE,
        body_parts=[],
        max_exertion=60,
        title="Rib",
        expiry_date=timezone.localdate() + dt.timedelta(days=DAYS + 5),
    )
    assignments = []
    for n in range(WORKOUTS):
        start = club_time(1 + n % DAYS, 8 + n // DAYS)
        workout = WorkoutFactory(
            team=team, intensity=50, scheduled_start=start, scheduled_end=start.replace(minute=45)
        )
        WorkoutExerciseFactory(workout=workout, exercise=exercise)
        assignments += [AssignmentFactory.build(workout=workout, player=p) for p in groups[n // DAYS]]
    Assignment.objects.bulk_create(assignments)

    login(page, "alice")
    page.get_by_role("button", name=f"Select all {WORKOUTS} matching").click()
    expect(page.get_by_test_id("selection-count")).to_have_text(f"All {WORKOUTS} matching selected")
    page.click("a[data-op=update]")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    dialog.locator("#op_intensity").fill("90")
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("ready to run", timeout=60_000)

    # Counts, the change before → after, then the one kind of problem: the player taken off 40 sessions.
    expect(dry_run.get_by_test_id("dry-run-counts")).to_contain_text(f"{WORKOUTS}: {WORKOUTS} ready")
    changes = dry_run.get_by_test_id("dry-run-changes")
    expect(changes).to_contain_text("Intensity")
    expect(changes.locator("tbody tr")).to_have_text(["Intensity50→ 90226"])
    [group] = dry_run.get_by_test_id("problem-group").all()
    expect(group).to_contain_text("40 Players taken off (medical restriction)")
    name = f"{hurt.first_name} {hurt.last_name}"
    expect(group.locator(".problem-list").first.locator("li")).to_have_count(10)
    expect(group).not_to_contain_text(f"{name} {name}")
    # The clean players fold into one line per workout, which opens on request.
    workouts = dry_run.get_by_test_id("dry-run-workouts")
    expect(workouts.locator("> summary")).to_contain_text(
        f"Each workout ({WORKOUTS}): {WORKOUTS * SQUAD - 40} players clear"
    )
    lines = workouts.get_by_test_id("workout-line")
    expect(lines).to_have_count(WORKOUTS)
    expect(lines.first).not_to_be_visible()

    viewport = page.viewport_size["height"]
    height = dry_run.evaluate("el => el.scrollHeight")
    print(f"226-workout dry run: {height} px high, {height / viewport:.2f} viewport heights")  # noqa: T201
    assert height < 5 * viewport, f"the dry run is {height} px high"
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height < 5 * viewport, f"the page is {page_height} px high"
    shot(page, "40-dry-run-226-by-exception")

    workouts.locator("> summary").click()
    expect(lines.first).to_be_visible()
    clear = lines.first.locator("details summary")
    expect(clear).to_have_text(f"{SQUAD - 1} players clear")  # the first line is the session Pat left
    clear.click()
    expect(lines.first.locator("details p")).to_be_visible()


def test_keyboard_users_skip_to_the_selections_actions(page, trainer, team):
    WorkoutFactory.create_batch(60, team=team, name="Session")
    login(page, "alice")
    page.locator("input[data-select-row]").first.check()
    expect(page.get_by_test_id("selection-count")).to_have_text("1 of 60 selected")
    page.reload()
    presses = 0
    skip = page.get_by_test_id("skip-to-actions")
    while not page.evaluate(
        "document.activeElement && document.activeElement.matches('[data-testid=skip-to-actions]')"
    ):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 5, "the skip link is not among the first stops"
    expect(skip).to_be_visible()  # it shows when focused
    expect(skip).to_have_text("Skip to the selection’s actions")
    page.keyboard.press("Enter")
    while not page.evaluate("document.activeElement && document.activeElement.matches('a[data-op=update]')"):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 8, "Edit is not reached in a few presses after the skip link"
    print(f"Tab presses from page load to Edit: {presses} (+1 Enter)")  # noqa: T201
    page.keyboard.press("Enter")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_accessible_name("Edit")
