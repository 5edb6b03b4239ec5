"""ASSIGN and SCHEDULE batches run end to end in the browser, and end notices that survive a reload."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import Batch
from batch.services import batch_submit
from tests.batch.conftest import wait_final, wait_until
from tests.browser.conftest import login, shot
from tests.browser.test_trainer_flows import restrict, update_ops
from tests.factories import PlayerFactory, WorkoutFactory
from workouts.models import Assignment, Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def next_monday(weeks: int = 1) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7 * weeks)


def run_from_dialog(page, dialog) -> None:
    # Wait for this validation's answer: a dry run already on screen would let Run be clicked early.
    with page.expect_response(lambda r: "/batches/new/" in r.url and r.request.method == "POST"):
        dialog.get_by_role("button", name="Validate").click()
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("ready to run")
    ack = dialog.locator("input[name=acknowledge]")
    if ack.count():
        ack.check()
    dialog.locator("button[data-run]").click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("batch-percent")).to_have_text("100 %", timeout=30_000)
    expect(page.get_by_role("progressbar", name="Batch progress")).to_have_attribute("aria-valuenow", "100")


def test_assign_caps_the_load_of_a_modified_player(page, trainer, team, workers):
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    # Different days: the same players at the same time would be a double booking (skipped).
    workouts = [
        WorkoutFactory(team=team, intensity=80, scheduled_start=start + dt.timedelta(days=i)) for i in (0, 1)
    ]
    modified = PlayerFactory(team=team, first_name="Mod", last_name="Ified")
    restrict(modified, severity="moderate", body_parts=[], max_exertion=50, title="Back strain")
    fine = PlayerFactory(team=team, first_name="Fit", last_name="Fine")
    restrict(PlayerFactory(team=team, first_name="Sitting", last_name="Out"), severity="complete")
    workers.start()

    login(page, "alice")
    boxes = page.locator("input[data-select-row]")
    boxes.nth(0).click()
    boxes.nth(1).click(modifiers=["Shift"])
    expect(page.get_by_test_id("selection-count")).to_have_text("2 of 2 selected")
    page.click("a[data-op=assign]")
    dialog = page.locator("#op-modal")
    picker = dialog.locator("fieldset.player-picker")
    for name, badge in (("Mod Ified", "modified"), ("Fit Fine", "available"), ("Sitting Out", "out")):
        expect(picker.locator("label", has_text=name).locator(f"[data-medical={badge}]")).to_be_visible()
    picker.locator("label", has_text="Mod Ified").locator("input").check()
    picker.locator("label", has_text="Fit Fine").locator("input").check()
    dialog.locator("#op_load_percent").fill("90")
    dialog.get_by_role("button", name="Validate").click()
    dry_run = dialog.get_by_test_id("dry-run")
    expect(dry_run).to_contain_text("Mod Ified")
    expect(dry_run).to_contain_text("load capped at 50%")
    shot(page, "13-assign-dry-run-capped")
    run_from_dialog(page, dialog)
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed: 2 succeeded")

    rows = Assignment.objects.filter(workout__in=workouts)
    assert rows.count() == 4
    for row in rows.filter(player=modified):
        assert row.load_percent == 50 and row.medical_verdict == Assignment.Verdict.MODIFIED
    assert set(rows.filter(player=fine).values_list("load_percent", flat=True)) == {90}


def test_schedule_a_weekly_series_and_see_it_in_the_week_calendar(page, trainer, team, workers):
    workout = WorkoutFactory(
        team=team, name="Morning skate", status=Workout.Status.DRAFT, scheduled_start=None, scheduled_end=None
    )
    monday = next_monday(2)
    workers.start()

    login(page, "alice")
    page.locator("input[data-select-row]").first.check()
    expect(page.get_by_test_id("selection-count")).to_have_text("1 of 1 selected")
    page.click("a[data-op=schedule]")
    dialog = page.locator("#op-modal")
    dialog.locator("#op_start").fill(f"{monday.isoformat()}T07:30")
    dialog.locator("#op_end").fill(f"{monday.isoformat()}T08:30")
    dialog.locator("#op_frequency").select_option("weekly")
    dialog.get_by_label("Mon").check()
    dialog.get_by_label("Thu").check()
    dialog.locator("#op_count").fill("4")
    run_from_dialog(page, dialog)
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed: 1 succeeded")

    series = Workout.objects.filter(team=team, name="Morning skate").order_by("scheduled_start")
    days = [timezone.localtime(w.scheduled_start) for w in series]
    expected = [
        monday,
        monday + dt.timedelta(days=3),
        monday + dt.timedelta(days=7),
        monday + dt.timedelta(10),
    ]
    assert [d.date() for d in days] == expected
    assert {(d.hour, d.minute) for d in days} == {(7, 30)}
    assert series.first().pk == workout.pk

    for week_monday in (monday, monday + dt.timedelta(days=7)):
        year, week, _ = week_monday.isocalendar()
        page.goto(f"/workouts/calendar/?week={year}-W{week:02d}")
        for day in (week_monday, week_monday + dt.timedelta(days=3)):
            cell = page.get_by_role("region", name=day.strftime("%A %-d %B"))
            expect(cell.locator(".calendar__event", has_text="Morning skate")).to_have_count(1)
            expect(cell).to_contain_text("07:30–08:30")
        expect(page.locator(".calendar__event", has_text="Morning skate")).to_have_count(2)
    shot(page, "14-calendar-weekly-series")


def test_a_notice_survives_a_reload_until_dismissed_or_opened(page, trainer, team, workers):
    workers.start()
    first = batch_submit(user=trainer, team=team, raw=update_ops(WorkoutFactory.create_batch(2, team=team)))
    second = batch_submit(user=trainer, team=team, raw=update_ops(WorkoutFactory.create_batch(2, team=team)))
    wait_final(first.pk)
    wait_final(second.pk)

    login(page, "alice")
    notices = page.locator("#notifications [data-notice]")
    expect(notices).to_have_count(2)
    # Nothing else runs: the poll stopped (286) with the notices up, and adds no copies.
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/batches/notifications/" in r.url else None)
    page.wait_for_timeout(6_000)
    assert polls == [], "the idle notices poll should have stopped"
    expect(notices).to_have_count(2)
    page.reload()
    expect(notices).to_have_count(2)  # shown just before the reload, not lost
    assert not Batch.objects.filter(notified_at__isnull=False).exists()

    page.get_by_role("button", name=f"Dismiss the notice for batch {first.pk}").click()
    expect(notices).to_have_count(1)
    wait_until(lambda: Batch.objects.get(pk=first.pk).notified_at is not None)
    page.get_by_role("link", name=f"Batch {second.pk} finished: Completed").click()
    page.wait_for_url(f"**/batches/{second.pk}/")
    assert Batch.objects.get(pk=second.pk).notified_at is not None

    with page.expect_response(lambda r: "/batches/notifications/" in r.url) as answer:
        page.goto("/workouts/")
    assert answer.value.status == 286  # nothing to show and nothing running: the poll stops
    expect(notices).to_have_count(0)
