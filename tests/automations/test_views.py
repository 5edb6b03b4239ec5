"""The trainer's pages: automations, a recipe from a batch, preview, run, schedule, pause; copy a week."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from automations.models import Notice, Recipe, Schedule
from batch.models import Batch
from tests.automations.conftest import CLUB
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.datetime(2026, 12, 9, 10, 0, tzinfo=CLUB)


@pytest.fixture(autouse=True)
def _wednesday():
    with time_machine.travel(WEDNESDAY, tick=False):
        yield


@pytest.fixture
def week(team):
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=CLUB)
    rows = []
    for d in (0, 3):
        w = WorkoutFactory(
            team=team,
            name=f"Strength {d}",
            scheduled_start=monday + dt.timedelta(days=d),
            scheduled_end=monday + dt.timedelta(days=d, hours=1),
        )
        AssignmentFactory(workout=w, player=PlayerFactory(team=team))
        rows.append(w)
    return rows


def test_copy_this_week_previews_then_copies_with_players_as_one_batch(
    trainer_client, team, week, run_batches
):
    url = reverse("automations:copy") + "?team=hawks&week=2026-W50"
    page = trainer_client.get(url)
    assert page.status_code == 200 and 'value="2026-12-07"' in page.content.decode()
    data = {"team": "hawks", "start": "2026-12-07", "days": 7, "shift": 7}
    preview = trainer_client.post(reverse("automations:copy"), {**data, "action": "preview"})
    assert preview.status_code == 200 and 'data-testid="dry-run"' in preview.content.decode()
    assert "2 workouts to copy" in preview.content.decode()
    assert not Batch.objects.exists()
    response = trainer_client.post(reverse("automations:copy"), {**data, "action": "run"})
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("batch:detail", args=[batch.pk])
    assert batch.total_items == 2
    run_batches()
    copies = Workout.objects.filter(scheduled_start__date__gte=dt.date(2026, 12, 14)).order_by(
        "scheduled_start"
    )
    assert [c.name for c in copies] == ["Strength 0", "Strength 3"]
    assert all(c.assignments.count() == 1 for c in copies)


def test_an_empty_range_is_a_form_error(trainer_client, team):
    response = trainer_client.post(
        reverse("automations:copy"),
        {"team": "hawks", "start": "2027-06-07", "days": 7, "shift": 7, "action": "run"},
    )
    assert response.status_code == 200 and "no workouts to copy" in response.content.decode()


def test_a_recipe_from_a_batch_previews_runs_and_schedules(
    trainer_client, trainer, team, week, submit, run_batches
):
    batch = submit(
        [
            {
                "id": "n",
                "type": "UPDATE",
                "data": {"workoutId": week[0].pk, "updates": {"notes": "Bring bands"}},
            }
        ]
    )
    run_batches()
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk]))
    assert f"/automations/recipes/new/?from_batch={batch.pk}" in page.content.decode()
    response = trainer_client.post(
        reverse("automations:recipe_new"), {"from_batch": batch.pk, "name": "Notes"}
    )
    recipe = Recipe.objects.get()
    assert response.status_code == 302 and recipe.source_batch == batch and recipe.team == team

    preview = trainer_client.post(reverse("automations:recipe_run", args=[recipe.pk]), {"preview": "1"})
    assert preview.status_code == 200 and "ready to run" in preview.content.decode()
    assert Batch.objects.count() == 1

    runs = trainer_client.get(
        reverse("automations:schedule_preview"),
        {
            "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0",
            "start": "2027-03-14T18:00",
            "missed": "latest",
        },
    ).content.decode()
    assert "Sun 14 Mar 2027, 18:00" in runs and "Sun 28 Mar 2027, 18:00" in runs and runs.count("<li>") == 5
    bad = trainer_client.get(
        reverse("automations:schedule_preview"), {"rrule": "FREQ=NEVER", "start": "2027-03-14T18:00"}
    )
    assert "RRULE" in bad.content.decode()

    saved = trainer_client.post(
        reverse("automations:schedule_new", args=[recipe.pk]),
        {
            "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0",
            "start": "2027-03-14T18:00",
            "missed": "latest",
        },
    )
    assert saved.status_code == 302
    schedule = Schedule.objects.get()
    trainer_client.post(reverse("automations:schedule_toggle", args=[schedule.pk]))
    assert Schedule.objects.get().paused
    index = trainer_client.get(reverse("automations:index") + "?team=hawks").content.decode()
    assert "Notes" in index and "paused" in index

    ran = trainer_client.post(reverse("automations:recipe_run", args=[recipe.pk]))
    assert ran.status_code == 302 and Batch.objects.count() == 2
    assert Batch.objects.order_by("pk").last().created_by == trainer


def test_other_teams_recipes_and_batches_are_not_found(
    other_trainer_client, trainer, team, submit, run_batches
):
    recipe = Recipe.objects.create(team=team, name="x", request={"operations": []}, created_by=trainer)
    assert other_trainer_client.get(reverse("automations:recipe", args=[recipe.pk])).status_code == 404
    assert (
        other_trainer_client.post(
            reverse("automations:recipe_new"), {"from_batch": 999, "name": "x"}
        ).status_code
        == 404
    )


def test_notices_show_once_and_can_be_dismissed(trainer_client, trainer, team):
    Notice.objects.create(user=trainer, team=team, title="Erik Karlsson has a medical restriction", body="x")
    shown = trainer_client.get(reverse("automations:notices"))
    assert "Erik Karlsson" in shown.content.decode()
    notice = Notice.objects.get()
    trainer_client.post(reverse("automations:notice_seen", args=[notice.pk]))
    assert trainer_client.get(reverse("automations:notices")).status_code == 204


def test_the_automations_page_costs_the_same_for_one_or_many_schedules(
    trainer_client, trainer, team, django_assert_max_num_queries
):
    from automations.models import ScheduleRun

    def add(n: int) -> None:
        for i in range(n):
            recipe = Recipe.objects.create(
                team=team, name=f"R{i}", request={"operations": []}, created_by=trainer
            )
            s = Schedule.objects.create(
                recipe=recipe, rrule="FREQ=DAILY", start=WEDNESDAY, owner=trainer, next_run_at=WEDNESDAY
            )
            ScheduleRun.objects.create(schedule=s, occurrence=WEDNESDAY)
            Notice.objects.create(user=trainer, team=team, title=f"n{i}")

    url = reverse("automations:index") + "?team=hawks"
    add(1)
    with django_assert_max_num_queries(12) as few:
        assert trainer_client.get(url).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert trainer_client.get(url).status_code == 200
