"""What the dry run validated is what runs: two tabs of one session, and "Run the N valid ones"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from batch.models import Batch, BatchItem
from tests.browser.conftest import login, shot
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def tick(page, name: str, on: bool = True) -> None:
    box = page.get_by_label(f"Select {name}", exact=True)
    with page.expect_response(lambda r: "/workouts/selection/" in r.url):
        box.check() if on else box.uncheck()


def test_run_in_one_tab_runs_what_it_validated_though_the_other_tab_changed_the_selection(
    page, trainer, team, workers
):
    pinned = [WorkoutFactory(team=team, name=f"Pinned {n}", intensity=70) for n in ("A", "B", "C")]
    other = WorkoutFactory(team=team, name="Ticked in tab B", intensity=70)
    workers.start()

    login(page, "alice")
    for workout in pinned:
        tick(page, workout.name)
    expect(page.get_by_test_id("selection-count")).to_have_text("3 of 4 selected")
    page.click("a[data-op=update]")
    dialog = page.locator("#op-modal")
    dialog.locator("#op_intensity").fill("55")
    with page.expect_response(lambda r: "/batches/new/" in r.url and r.request.method == "POST"):
        dialog.get_by_role("button", name="Validate").click()
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("ready to run")

    # Tab B of the same session: another selection.
    tab_b = page.context.new_page()
    tab_b.goto("/workouts/")
    expect(tab_b.get_by_test_id("selection-count")).to_have_text("3 of 4 selected")
    for workout in pinned:
        tick(tab_b, workout.name, on=False)
    tick(tab_b, other.name)
    expect(tab_b.get_by_test_id("selection-count")).to_have_text("1 of 4 selected")

    # Tab A still runs the three it validated.
    dialog.locator("button[data-run]").click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("batch-percent")).to_have_text("100 %", timeout=30_000)
    expect(page.get_by_test_id("outcome")).to_contain_text("3 succeeded")
    shot(page, "pinned-two-tabs")

    assert dict(Workout.objects.values_list("name", "intensity")) == {
        "Pinned A": 55,
        "Pinned B": 55,
        "Pinned C": 55,
        "Ticked in tab B": 70,
    }
    # Tab B's selection is still its own.
    tab_b.reload()
    expect(tab_b.get_by_test_id("selection-count")).to_have_text("1 of 4 selected")


def test_a_teammates_edit_between_validate_and_run_is_named_and_nothing_runs(page, trainer, team, workers):
    WorkoutFactory(team=team, name="Leg day", intensity=70)
    edited = WorkoutFactory(team=team, name="Edited by Maja", intensity=70)
    workers.start()

    login(page, "alice")
    tick(page, "Leg day")
    tick(page, "Edited by Maja")
    page.click("a[data-op=update]")
    dialog = page.locator("#op-modal")
    dialog.locator("#op_intensity").fill("55")
    with page.expect_response(lambda r: "/batches/new/" in r.url and r.request.method == "POST"):
        dialog.get_by_role("button", name="Validate").click()
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("ready to run")

    Workout.objects.filter(pk=edited.pk).update(notes="moved the warm-up")  # a teammate, meanwhile
    with page.expect_response(lambda r: "/batches/new/" in r.url and r.request.method == "POST"):
        dialog.locator("button[data-run]").click()
    expect(dialog.get_by_role("alert").first).to_contain_text(
        "1 workout changed since you validated: validate again"
    )
    expect(dialog.get_by_role("alert").first).to_contain_text("Edited by Maja")
    expect(dialog.locator("button[data-run]")).to_be_disabled()
    assert not Batch.objects.exists()


def test_run_the_valid_ones_beside_a_refused_run(page, trainer, team, workers):
    WorkoutFactory(team=team, name="Ice session", intensity=60)
    WorkoutFactory(team=team, name="Gym session", intensity=60)
    WorkoutFactory(
        team=team, name="No time yet", status=Workout.Status.DRAFT, scheduled_start=None, scheduled_end=None
    )
    workers.start()

    login(page, "alice")
    for name in ("Ice session", "Gym session", "No time yet"):
        tick(page, name)
    page.click("a[data-op=update]")
    dialog = page.locator("#op-modal")
    dialog.locator("#op_status").select_option("scheduled")
    with page.expect_response(lambda r: "/batches/new/" in r.url and r.request.method == "POST"):
        dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("has errors")
    expect(dry_run).to_contain_text("No time yet")
    expect(dialog.locator("button[data-run]")).to_be_disabled()
    run_valid = dialog.get_by_test_id("run-valid")
    expect(run_valid).to_have_text("Run the 2 valid ones")
    shot(page, "pinned-run-valid")

    run_valid.click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("batch-percent")).to_have_text("100 %", timeout=30_000)
    expect(page.get_by_test_id("outcome")).to_contain_text("2 succeeded")

    batch = Batch.objects.get()
    assert sorted(BatchItem.objects.filter(batch=batch).values_list("status", flat=True)) == ["SUCCEEDED"] * 2
    assert dict(Workout.objects.values_list("name", "status")) == {
        "Ice session": "scheduled",
        "Gym session": "scheduled",
        "No time yet": "draft",
    }
