"""Plan the week in a real browser: the plan on the calendar, its dry run, Run, and Undo."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import login, shot
from tests.factories import FacilityFactory, PlayerFactory, WorkoutFactory
from workouts.calendar import at
from workouts.models import Assignment, Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.clock("2026-11-18T10:30:00")]


def test_plan_a_week_see_it_on_the_calendar_run_it_and_undo_it(page, trainer, team, workers):
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    gym = FacilityFactory(name="Strength gym", opens_at=dt.time(7), closes_at=dt.time(21))
    players = [PlayerFactory(team=team) for _ in range(3)]
    WorkoutFactory(
        team=team,
        name="Morning lift",
        facility=gym,
        scheduled_start=at(monday, dt.time(7)),
        scheduled_end=at(monday, dt.time(8)),
    )
    workers.start()
    login(page, "alice")
    page.goto(f"/planner/?team={team.slug}")
    page.fill("#id_date_from", monday.isoformat())
    page.fill("#id_time_limit", "2")
    page.fill("#id_s0-name", "Sprints")
    page.fill("#id_s0-intensity", "85")
    page.select_option("#id_s0-facilities", [str(gym.pk)])
    page.get_by_test_id("session-0").get_by_label("Mon").check()
    page.fill("#id_s0-earliest", "07:00")
    page.fill("#id_s0-name", "Sprints")
    page.get_by_role("button", name="Plan", exact=True).click()

    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Placed 1 of 1 session")
    monday_box = plan.get_by_label(re.compile(r"^Monday"))
    expect(monday_box.get_by_test_id("existing")).to_contain_text("Morning lift")
    expect(monday_box.get_by_test_id("planned")).to_contain_text("08:00–09:00")
    shot(page, "planner-1-plan")

    page.get_by_test_id("open-dry-run").click()
    expect(page.get_by_test_id("dry-run")).to_be_visible()
    shot(page, "planner-2-dry-run")
    page.get_by_role("button", name=re.compile(r"Run 1 operation")).click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=30_000)
    sprints = Workout.objects.get(name="Sprints")
    assert timezone.localtime(sprints.scheduled_start) == at(monday, dt.time(8))
    assert Assignment.objects.filter(workout=sprints).count() == len(players)

    page.goto(f"/workouts/calendar/?team={team.slug}&week={monday:%G-W%V}")
    expect(page.locator(".calendar")).to_contain_text("Sprints")
    page.go_back()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("h1")).to_contain_text("Undo batch", timeout=10_000)
    expect(page.get_by_test_id("outcome")).to_be_visible(timeout=30_000)
    shot(page, "planner-3-undone")
    # Undoing a CREATE takes the workout away again; what was there before stays.
    assert list(Workout.objects.filter(team=team).values_list("name", flat=True)) == ["Morning lift"]
