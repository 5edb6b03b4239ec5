"""A player joins a team: the team's "player joined" recipe puts them on the recurring sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from automations.models import Recipe
from automations.recipes import RecipeError, recipe_create
from automations.triggers import player_joined
from batch.models import Batch
from tests.automations.conftest import CLUB
from tests.factories import PlayerFactory, WorkoutFactory
from workouts.models import Assignment, Workout

pytestmark = [pytest.mark.worker]

JOIN_SKATES = {
    "operations": [
        {
            "id": "skate",
            "type": "ASSIGN",
            "forEachWorkout": {
                "from": "@day+0",
                "to": "@day+28",
                "type": ["ON_ICE"],
                "status": ["scheduled"],
            },
            "data": {"workoutId": "@workout", "assignments": [{"playerId": "@player"}]},
        }
    ]
}


def test_a_new_player_is_put_on_the_teams_recurring_sessions_once(
    wednesday, rq_queue, run_worker, team, trainer
):
    for days in (1, 8, 40):
        start = dt.datetime(2026, 12, 9, 17, 0, tzinfo=CLUB) + dt.timedelta(days=days)
        WorkoutFactory(
            team=team,
            type=Workout.Type.ON_ICE,
            scheduled_start=start,
            scheduled_end=start + dt.timedelta(hours=1),
        )
    WorkoutFactory(team=team, type=Workout.Type.STRENGTH)
    recipe_create(
        user=trainer, team=team, name="New players skate", request=JOIN_SKATES, trigger="player_joined"
    )

    rookie = PlayerFactory(team=team, first_name="Rookie")
    run_worker()
    on = Assignment.objects.filter(player=rookie).select_related("workout")
    assert sorted(
        (a.workout.scheduled_start - dt.datetime(2026, 12, 9, 17, 0, tzinfo=CLUB)).days for a in on
    ) == [1, 8]
    batch = Batch.objects.get()
    assert batch.created_by.username == "automations" and "Rookie" in batch.description

    # Saving the player again is not joining; running the reaction again returns the same batch.
    rookie.jersey_number = 77
    rookie.save()
    assert player_joined(player_id=rookie.pk)[0]["batch"] == batch.pk
    run_worker()
    assert Batch.objects.count() == 1


def test_player_is_only_allowed_in_player_joined_recipes(db, team, trainer):
    with pytest.raises(RecipeError, match="@player"):
        recipe_create(user=trainer, team=team, name="x", request=JOIN_SKATES)
    assert not Recipe.objects.exists()
