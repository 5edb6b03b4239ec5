"""Recipes: relative dates, saved filters, the built-in week copy, and deleted ids as per-item errors."""

from __future__ import annotations

import datetime as dt

import pytest

from automations.recipes import (
    RecipeError,
    copy_range_request,
    recipe_create,
    recipe_preview,
    resolve_request,
)
from tests.automations.conftest import CLUB
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutFactory

pytestmark = pytest.mark.django_db

# A Wednesday in winter time; the following Monday is 2026-12-14.
RUN = dt.datetime(2026, 12, 9, 10, 0, tzinfo=CLUB)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("@week+0", "2026-12-07"),
        ("@week+1 07:30", "2026-12-08T07:30:00+01:00"),
        ("@week+7 18:00", "2026-12-14T18:00:00+01:00"),
        ("@day-1 06:00", "2026-12-08T06:00:00+01:00"),
        ("@run+P7D", "2026-12-16T10:00:00+01:00"),
        ("@run-PT2H", "2026-12-09T08:00:00+01:00"),
        ("@week+137 09:00", "2027-04-23T09:00:00+02:00"),  # summer time: the offset follows the day
    ],
)
def test_relative_dates_resolve_in_the_club_zone(team, expr, value):
    raw = resolve_request(
        {"operations": [{"id": "a", "type": "UPDATE", "data": {"x": expr}}]}, team=team, run_at=RUN
    )
    assert raw["operations"][0]["data"]["x"] == value


@pytest.mark.parametrize("expr", ["@fortnight", "@week+1 25:00", "@run+P", "@run+7 days", "@workout"])
def test_a_bad_relative_date_is_refused_with_its_text(team, expr):
    with pytest.raises(RecipeError, match="@"):
        resolve_request(
            {"operations": [{"id": "a", "type": "UPDATE", "data": {"x": expr}}]}, team=team, run_at=RUN
        )


def test_a_saved_filter_expands_to_this_weeks_workouts_of_the_team(team, other_team):
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=CLUB)
    inside = [
        WorkoutFactory(
            team=team,
            scheduled_start=monday + dt.timedelta(days=d),
            scheduled_end=monday + dt.timedelta(days=d, hours=1),
        )
        for d in (0, 6)
    ]
    WorkoutFactory(
        team=team,
        scheduled_start=monday + dt.timedelta(days=7),
        scheduled_end=monday + dt.timedelta(days=7, hours=1),
    )
    WorkoutFactory(team=other_team, scheduled_start=monday, scheduled_end=monday + dt.timedelta(hours=1))
    raw = resolve_request(copy_range_request(), team=team, run_at=RUN)
    assert [op["data"]["workoutId"] for op in raw["operations"]] == [w.pk for w in inside]
    assert [op["id"] for op in raw["operations"]] == [f"copy-{w.pk}" for w in inside]


def test_a_deleted_workout_is_a_per_item_error_in_the_preview(team, trainer):
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=CLUB)
    kept = WorkoutFactory(team=team, scheduled_start=monday, scheduled_end=monday + dt.timedelta(hours=1))
    gone = WorkoutFactory(team=team)
    gone_id = gone.pk
    recipe = recipe_create(
        user=trainer,
        team=team,
        name="Notes",
        request={
            "operations": [
                {"id": f"n{w}", "type": "UPDATE", "data": {"workoutId": w, "updates": {"notes": "@week+0"}}}
                for w in (kept.pk, gone_id)
            ]
        },
    )
    gone.delete()
    raw, report = recipe_preview(user=trainer, recipe=recipe, run_at=RUN)
    assert not report.problems
    assert not report.items[f"n{kept.pk}"].errors
    assert report.items[f"n{gone_id}"].errors[0]["code"] == "NOT_FOUND"


def test_copy_week_preview_copies_workouts_with_their_players(team, trainer):
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=CLUB)
    w = WorkoutFactory(
        team=team,
        scheduled_start=monday + dt.timedelta(days=3),
        scheduled_end=monday + dt.timedelta(days=3, hours=1),
    )
    AssignmentFactory(workout=w, player=PlayerFactory(team=team))
    recipe = recipe_create(
        user=trainer, team=team, name="Copy week", request=copy_range_request(), builtin="copy_week"
    )
    raw, report = recipe_preview(user=trainer, recipe=recipe, run_at=RUN)
    assert report.valid, [i.errors for i in report.items.values()]
    assert raw["operations"][0]["data"]["includeAssignments"] is True


def test_only_team_members_save_recipes(team, other_trainer):
    with pytest.raises(RecipeError, match="not a member"):
        recipe_create(user=other_trainer, team=team, name="x", request={"operations": []})
