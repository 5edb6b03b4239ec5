"""The medical gate: many players × many workouts (saved or planned) in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from medical.compliance import ExerciseSpec
from medical.gate import MedicalGate, PlannedWorkout, block_of, judge_pairs, planned_workouts
from medical.models import MedicalRestriction
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)

pytestmark = pytest.mark.django_db


def build(team, workouts: int, players: int):
    squat = ExerciseFactory(name="Back squat", body_parts=["knee"])
    ExerciseFactory(name="Hip bridge", body_parts=["hip"], movement_patterns=["hinge"])
    saved = []
    for _ in range(workouts):
        workout = WorkoutFactory(team=team)
        WorkoutExerciseFactory(workout=workout, exercise=squat)
        saved.append(workout)
    roster = PlayerFactory.create_batch(players, team=team)
    for player in roster[::3]:
        RestrictionFactory(player=player)  # moderate knee: substituted
    for player in roster[1::3]:
        RestrictionFactory(player=player, severity=MedicalRestriction.Severity.SEVERE)
    return saved, roster


@pytest.mark.parametrize("size", [(2, 3), (12, 30)])
def test_judging_many_players_on_many_workouts_costs_the_same_few_queries(
    size, team, django_assert_max_num_queries
):
    saved, roster = build(team, *size)
    with django_assert_max_num_queries(5):
        planned = planned_workouts([w.pk for w in saved])
        verdicts = judge_pairs([(w.pk, p.pk) for w in saved for p in roster], planned)
    assert len(verdicts) == size[0] * size[1]
    kinds = {verdicts[(saved[0].pk, p.pk)].verdict for p in roster}
    assert kinds == {"modified", "blocked", "compliant"}


def test_a_planned_workout_is_judged_at_its_planned_day_and_intensity(team):
    workout = WorkoutFactory(team=team, intensity=50)
    player = PlayerFactory(team=team)
    later = timezone.localdate() + dt.timedelta(days=20)
    RestrictionFactory(
        player=player,
        severity=MedicalRestriction.Severity.SEVERE,
        body_parts=[],
        max_exertion=60,
        effective_date=later,
        expiry_date=later,
    )
    start = timezone.make_aware(dt.datetime.combine(later, dt.time(9)))

    as_is = planned_workouts([workout.pk])[workout.pk]
    moved = planned_workouts([workout.pk], at={workout.pk: {"scheduled_start": start}})[workout.pk]
    harder = planned_workouts([workout.pk], at={workout.pk: {"scheduled_start": start, "intensity": 80}})

    verdict = {
        name: judge_pairs([(0, player.pk)], {0: plan})[(0, player.pk)].verdict
        for name, plan in {"as is": as_is, "moved": moved, "harder": harder[workout.pk]}.items()
    }
    assert verdict == {"as is": "compliant", "moved": "compliant", "harder": "blocked"}


def test_a_block_names_the_player_the_restriction_and_the_safe_alternatives(team):
    squat = ExerciseFactory(name="Back squat", body_parts=["knee"])
    ExerciseFactory(name="Hip bridge", body_parts=["hip"], movement_patterns=["hinge"])
    player = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(player=player, severity=MedicalRestriction.Severity.SEVERE, title="ACL tear")
    gate = MedicalGate(player_ids=[player.pk], dates=[timezone.localdate()])

    verdict = gate.judge(
        PlannedWorkout((ExerciseSpec.from_exercise(squat),), timezone.localdate(), 60), [player.pk]
    )
    block = block_of(list(verdict.values()))

    assert "Pat Hurt is blocked" in block.message and "ACL tear" in block.message
    assert "replace Back squat with Hip bridge" in block.suggested_action
    assert block.details["blocked"][0]["playerId"] == player.pk
