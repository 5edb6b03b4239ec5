"""Honest results and recovery in a real browser with real worker processes: a failed undo and a
force undo that first shows what it overwrites; cancel, undo what ran, resume the rest; a selection
that belongs to its filter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from batch.models import Batch
from batch.services import batch_submit
from tests.batch.conftest import wait_final, wait_until
from tests.browser.conftest import login, shot
from tests.browser.test_trainer_flows import update_ops
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def notes_ops(workouts, notes: str) -> dict:
    return {
        "operations": [
            {"id": f"n{w.pk}", "type": "UPDATE", "data": {"workoutId": w.pk, "updates": {"notes": notes}}}
            for w in workouts
        ],
        "options": {"notifyOnComplete": False},
        "metadata": {"source": "test"},
    }


def test_a_failed_undo_then_a_previewed_force_undo(page, trainer, team, workers):
    monday = WorkoutFactory(team=team, name="Monday power", notes="plan A")
    thursday = WorkoutFactory(team=team, name="Thursday speed", notes="plan A")
    workers.start()
    batch = wait_final(batch_submit(user=trainer, team=team, raw=notes_ops([monday, thursday], "plan B")).pk)
    # A colleague edits both workouts after the batch: the undo must not overwrite that silently.
    for workout in (monday, thursday):
        Workout.objects.filter(pk=workout.pk).update(notes="coach's own plan")

    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Undo batch")
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("Undo failed: 2 conflicts", timeout=30_000)
    expect(outcome).to_have_class(re.compile("alert--error"))
    page.get_by_role("link", name=re.compile("^Conflicts")).click()
    results = page.get_by_test_id("result-list")
    expect(results).to_contain_text("Monday power")
    expect(results).to_contain_text("Thursday speed")
    expect(results).to_contain_text("Edited by someone else since")
    expect(results).not_to_contain_text("version")
    shot(page, "20-undo-failed-conflicts")

    page.goto(f"/batches/{batch.pk}/")
    expect(page.get_by_test_id("undo-report")).to_contain_text("left 2")
    page.get_by_test_id("force-undo").click()
    preview = page.get_by_test_id("force-preview")
    expect(preview).to_contain_text("Monday power")
    expect(preview).to_contain_text("coach's own plan")
    expect(preview).to_contain_text("plan A")
    shot(page, "21-force-undo-preview")
    assert Workout.objects.filter(notes="coach's own plan").count() == 2, "the preview changes nothing"

    page.get_by_role("button", name="Force undo: overwrite 2 edits").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Undo completed", timeout=30_000)
    assert set(Workout.objects.filter(team=team).values_list("notes", flat=True)) == {"plan A"}
    page.goto(f"/batches/{batch.pk}/")
    expect(page.get_by_test_id("outcome")).to_contain_text("Undone")
    expect(page.get_by_test_id("force-undo")).to_have_count(0)


def test_cancel_then_undo_what_ran_then_resume_the_rest(page, trainer, team, workers):
    workouts = Workout.objects.bulk_create(
        [
            Workout(team=team, name=f"Drill {i:03d}", type=Workout.Type.STRENGTH, intensity=40)
            for i in range(200)
        ]
    )
    batch = batch_submit(
        user=trainer,
        team=team,
        raw=update_ops(workouts, chunkSize=1, maxConcurrency=1, notifyOnComplete=False),
    )
    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    workers.start()
    wait_until(lambda: Batch.objects.get(pk=batch.pk).succeeded >= 3)
    page.get_by_role("button", name="Cancel batch").click()
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("Cancelled", timeout=30_000)
    batch.refresh_from_db()
    ran, cancelled = batch.succeeded, batch.cancelled
    assert ran >= 3 and cancelled > 0 and ran + cancelled == 200

    # One set of counts: the stats, the banner and the bar say the same.
    expect(outcome).to_contain_text(f"{ran} succeeded, {cancelled} cancelled of 200")
    stats = page.get_by_test_id("progress-stats")
    expect(stats).to_contain_text(f"{cancelled} cancelled")
    expect(stats).not_to_contain_text(f"{cancelled} skipped")
    bar = page.get_by_role("progressbar", name="Batch progress")
    expect(bar).to_have_attribute("aria-valuetext", f"{ran} of 200 ran, {cancelled} cancelled")
    expect(page.get_by_test_id("batch-percent")).not_to_have_text("100 %")
    page.get_by_role("link", name=re.compile("^Cancelled")).click()
    expect(page.get_by_test_id("result-list")).to_contain_text("Not run (cancelled)")
    shot(page, "22-cancelled-counts")

    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Undo completed", timeout=30_000)
    assert set(Workout.objects.filter(team=team).values_list("intensity", flat=True)) == {40}

    page.goto(f"/batches/{batch.pk}/")
    resume = page.get_by_role("button", name=f"Resume the remaining {cancelled}")
    expect(resume).to_be_visible()
    shot(page, "23-resume-offered")
    resume.click()
    expect(page.locator("h1")).to_contain_text("Resume batch")
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=60_000)
    assert Workout.objects.filter(team=team, intensity=70).count() == cancelled
    assert Workout.objects.filter(team=team, intensity=40).count() == ran


def test_a_selection_stays_on_screen_and_belongs_to_its_filter(page, trainer, team):
    WorkoutFactory.create_batch(40, team=team, status=Workout.Status.DRAFT, name="Draft session")
    WorkoutFactory.create_batch(3, team=team, status=Workout.Status.COMPLETED, name="Done session")

    login(page, "alice")
    page.select_option("#id_status", "draft")
    expect(page.locator(".table-meta")).to_contain_text("40 workouts")
    bar = page.locator("#selection-bar")
    # The bar sits at the bottom of a long table yet stays on screen.
    assert page.evaluate("document.documentElement.scrollHeight > window.innerHeight * 1.5")
    expect(bar).to_be_in_viewport()
    page.get_by_role("button", name="Select all 40 matching").click()
    count = page.get_by_test_id("selection-count")
    expect(count).to_have_text("All 40 matching selected")
    live = page.locator("#selection-live")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("All 40 matching selected")
    page.mouse.wheel(0, 600)
    expect(bar).to_be_in_viewport()

    page.select_option("#id_status", "completed")
    expect(page.locator(".table-meta")).to_contain_text("3 workouts")
    expect(count).to_have_text("40 selected, not in this view")
    expect(live).to_have_text("40 selected, not in this view")
    expect(page.locator("input[data-select-row]:checked")).to_have_count(0)
    expect(bar.locator("[data-op=archive]")).to_be_disabled()
    shot(page, "24-selection-not-in-this-view")

    bar.get_by_role("link", name="Show").click()
    expect(page.locator(".table-meta")).to_contain_text("40 workouts")
    expect(count).to_have_text("All 40 matching selected")
    page.click("a[data-op=archive]")
    dialog = page.locator("#op-modal")
    expect(dialog.get_by_test_id("op-count")).to_have_text("40")
    expect(dialog.get_by_test_id("op-targets").locator("li")).to_have_count(21)
    expect(dialog.get_by_test_id("op-targets-more")).to_have_text("and 20 more")
    dialog.locator("[data-dialog-close]").click()

    # Ticking a box under another filter starts a new selection there.
    page.select_option("#id_status", "completed")
    expect(count).to_have_text("40 selected, not in this view")
    page.locator("input[data-select-row]").first.check()
    expect(count).to_have_text("1 of 3 selected")
    expect(bar.locator("a[data-op=archive]")).to_be_visible()


def test_the_dry_run_comes_into_view_and_a_refused_run_keeps_it(page, trainer, team):
    WorkoutFactory.create_batch(30, team=team, status=Workout.Status.DRAFT, name="Old drill")

    login(page, "alice")
    page.get_by_role("button", name="Select all 30 matching").click()
    page.click("a[data-op=delete]")
    dialog = page.locator("#op-modal")
    dialog.get_by_label("Delete permanently (cannot be undone)").check()
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("Old drill")
    expect(dry_run).to_be_in_viewport()
    expect(dialog.locator("#op-announce")).to_have_text(re.compile(r"^Dry run: ready to run, 30 operations"))

    # Run without ticking the box: refused, and the dry run and the box stay, next to Run.
    dialog.locator("button[data-run]").click()
    ack = dialog.get_by_test_id("ack")
    expect(dialog.locator("#ack-error")).to_contain_text("I have read the warnings")
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("Old drill")
    expect(ack).to_be_visible()
    footer = dialog.locator(".modal__footer")
    expect(footer.get_by_test_id("ack")).to_have_count(1)
    shot(page, "25-run-refused-keeps-dry-run")
    assert not Batch.objects.exists()
    ack.locator("input").check()
    dialog.locator("button[data-run]").click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    assert Batch.objects.get().total_items == 30
