"""In a real browser: save a finished batch as a recipe, schedule it, see its next five runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from automations.models import Recipe, Schedule
from batch.services import batch_submit
from tests.batch.conftest import wait_final
from tests.browser.conftest import login, shot
from tests.factories import WorkoutFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker]


# Before the schedule's first run (14 March), so the next runs start there and cross the DST change.
@pytest.mark.clock("2027-03-01T10:30:00")
def test_a_finished_batch_becomes_a_scheduled_recipe_with_its_next_runs(page, trainer, team, workers):
    workout = WorkoutFactory(team=team, name="Tuesday strength")
    raw = {
        "operations": [
            {
                "id": "n",
                "type": "UPDATE",
                "data": {"workoutId": workout.pk, "updates": {"notes": "Bring bands"}},
            }
        ],
        "metadata": {"description": "Notes for the week"},
    }
    batch = batch_submit(user=trainer, team=team, raw=raw)
    workers.start(burst=True)
    wait_final(batch.pk)

    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    page.get_by_role("link", name="Save as recipe").click()
    page.get_by_label("Name").fill("Weekly notes")
    page.get_by_role("button", name="Save recipe").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Weekly notes")
    recipe = Recipe.objects.get()
    assert recipe.source_batch_id == batch.pk

    page.get_by_label("Repeats (RFC 5545 RRULE)").fill("FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0")
    page.get_by_label("Starting").fill("2027-03-14T18:00")
    runs = page.get_by_test_id("next-runs")
    expect(runs).to_contain_text("Sun 14 Mar 2027, 18:00")
    expect(runs).to_contain_text("Sun 28 Mar 2027, 18:00")  # summer time: still 18:00
    expect(runs.locator("li")).to_have_count(5)
    page.get_by_label("Repeats (RFC 5545 RRULE)").fill("FREQ=WHENEVER")
    expect(runs).to_contain_text("RRULE")
    page.get_by_label("Repeats (RFC 5545 RRULE)").fill("FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0")
    expect(runs.locator("li")).to_have_count(5)
    shot(page, "automations-schedule")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#messages")).to_contain_text("Next run: Sun 14 Mar 2027 18:00")
    assert Schedule.objects.get().recipe == recipe
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert Schedule.objects.get().paused
