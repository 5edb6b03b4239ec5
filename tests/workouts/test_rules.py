"""The workout rulebook: each rule judges loaded rows, with no queries, and says why it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import AssignmentFactory, WorkoutExerciseFactory, WorkoutFactory
from workouts import rules
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db


def test_archive_and_restore_are_transitions_between_two_states(team):
    live = WorkoutFactory.build(team=team, archived_at=None)
    archived = WorkoutFactory.build(team=team, archived_at=timezone.now())
    assert rules.archive_refusal(live, restore=False) is None
    assert rules.archive_refusal(archived, restore=True) is None
    assert "already archived" in rules.archive_refusal(archived, restore=False).message
    assert "not archived" in rules.archive_refusal(live, restore=True).message
    assert rules.edit_refusal(archived).suggestion.startswith("Restore it first")


def test_no_hard_delete_after_completed_sessions(team, django_assert_num_queries):
    workout = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    done = AssignmentFactory(workout=workout, status=Assignment.Status.COMPLETED)
    other = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    rows = list(Assignment.objects.all())
    with django_assert_num_queries(0):
        refusal = rules.permanent_delete_refusal(workout, rows)
        assert rules.completed_sessions(workout, rows) == [done.pk]
        assert rules.permanent_delete_refusal(other, rows) is None
    assert "completed sessions" in refusal.message and "softly" in refusal.suggestion
    finished = WorkoutFactory.build(team=team, status=Workout.Status.COMPLETED)
    assert rules.permanent_delete_refusal(finished, []) is not None


@pytest.mark.parametrize(
    ("status", "archived", "assignable", "schedulable"),
    [
        (Workout.Status.DRAFT, False, True, True),
        (Workout.Status.SCHEDULED, False, True, True),
        (Workout.Status.COMPLETED, False, True, False),
        (Workout.Status.CANCELLED, False, False, False),
        (Workout.Status.SCHEDULED, True, False, False),
    ],
)
def test_who_may_be_assigned_and_what_may_be_scheduled(team, status, archived, assignable, schedulable):
    workout = WorkoutFactory.build(team=team, status=status, archived_at=timezone.now() if archived else None)
    assert (rules.assign_refusal(workout) is None) is assignable
    assert (rules.move_refusal(workout) is None) is schedulable


def test_a_template_takes_the_union_of_exercises_first_prescription_wins_and_the_means(team):
    start = timezone.now().replace(microsecond=0)
    first = WorkoutFactory(
        team=team, intensity=60, scheduled_start=start, scheduled_end=start + dt.timedelta(minutes=60)
    )
    second = WorkoutFactory(
        team=team, intensity=81, scheduled_start=start, scheduled_end=start + dt.timedelta(minutes=90)
    )
    shared = WorkoutExerciseFactory(workout=first, sets=5).exercise
    WorkoutExerciseFactory(workout=second, exercise=shared, sets=2)
    only_second = WorkoutExerciseFactory(workout=second).exercise
    exercises = {w.pk: list(w.workout_exercises.order_by("order", "id")) for w in (first, second)}
    picked = rules.template_exercises([first, second], exercises)
    assert [(r.exercise_id, r.sets) for r in picked][0] == (shared.pk, 5)
    assert [r.exercise_id for r in picked] == [shared.pk, only_second.pk]
    template = rules.template_from([first, second], name="Mix", category=first.type)
    assert (template.intensity, template.duration_minutes, template.source_workout) == (70, 75, None)
    assert template.source_workout_ids == [first.pk, second.pk]
    assert rules.template_source_refusal(WorkoutFactory.build(team=team, status="draft")) is not None
