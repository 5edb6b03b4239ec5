from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    FacilityFactory,
    PlayerFactory,
    TemplateExerciseFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
)
from workouts import services
from workouts.errors import (
    DomainError,
    InvalidField,
    InvalidState,
    ScheduleConflict,
    VersionConflict,
    WrongTeam,
)
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def test_create_makes_a_draft_with_its_exercises(team, trainer):
    squat, press = ExerciseFactory(), ExerciseFactory()
    workout = services.workout_create(
        team=team,
        user=trainer,
        name="  Leg day ",
        type=Workout.Type.STRENGTH,
        exercises=[{"exercise": squat, "sets": 5, "reps": 5}, {"exercise": press.pk}],
    )
    assert workout.name == "Leg day"
    assert workout.status == Workout.Status.DRAFT
    assert workout.version == 1
    assert workout.created_by == trainer
    assert [(we.exercise_id, we.order, we.sets) for we in workout.workout_exercises.all()] == [
        (squat.pk, 0, 5),
        (press.pk, 1, 3),
    ]


def test_create_copies_template_exercises_and_counts_usage(team, trainer):
    template = WorkoutTemplateFactory(team=team)
    TemplateExerciseFactory(template=template, sets=4)
    workout = services.workout_create(
        team=team, user=trainer, name="From template", type="STRENGTH", template=template
    )
    assert workout.workout_exercises.get().sets == 4
    template.refresh_from_db()
    assert template.usage_count == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"type": "YOGA"}, "type"),
        ({"intensity": 101}, "intensity"),
        ({"status": "archived"}, "status"),
    ],
)
def test_create_rejects_invalid_fields(team, trainer, kwargs, field):
    values = {"name": "Ok", "type": "STRENGTH", **kwargs}
    with pytest.raises(InvalidField) as excinfo:
        services.workout_create(team=team, user=trainer, **values)
    assert excinfo.value.code == "INVALID_FIELD"


def test_create_rejects_end_before_start(team, trainer):
    with pytest.raises(InvalidField):
        services.workout_create(
            team=team,
            user=trainer,
            name="x",
            type="STRENGTH",
            scheduled_start=_at(1, 10),
            scheduled_end=_at(1, 9),
        )


def test_create_rejects_unknown_exercise(team, trainer):
    with pytest.raises(InvalidField):
        services.workout_create(
            team=team, user=trainer, name="x", type="STRENGTH", exercises=[{"exercise": 999999}]
        )
    assert not Workout.objects.exists()


def test_update_changes_fields_and_bumps_version(team):
    workout = WorkoutFactory(team=team)
    updated = services.workout_update(
        workout=workout, fields={"name": "Renamed", "intensity": 80}, expected_version=1
    )
    assert (updated.name, updated.intensity, updated.version) == ("Renamed", 80, 2)
    workout.refresh_from_db()
    assert workout.version == 2


def test_update_with_stale_version_raises_conflict_and_changes_nothing(team):
    workout = WorkoutFactory(team=team, name="Original")
    services.workout_update(workout=workout, fields={"name": "First edit"})
    with pytest.raises(VersionConflict) as excinfo:
        services.workout_update(workout=workout, fields={"name": "Second edit"}, expected_version=1)
    error = excinfo.value.as_dict()
    assert error["code"] == "VERSION_CONFLICT"
    assert error["details"] == {"id": workout.pk, "expected": 1, "actual": 2}
    assert error["suggestedAction"]
    workout.refresh_from_db()
    assert workout.name == "First edit"


def test_update_rejects_unknown_fields(team):
    with pytest.raises(InvalidField):
        services.workout_update(workout=WorkoutFactory(team=team), fields={"team": 3})


def test_update_rejects_archived_workout(team):
    workout = services.workout_archive(workout=WorkoutFactory(team=team))
    with pytest.raises(InvalidState) as excinfo:
        services.workout_update(workout=workout, fields={"name": "x"})
    assert excinfo.value.code == "ARCHIVED"


def test_update_accepts_facility_id(team):
    gym = FacilityFactory()
    updated = services.workout_update(workout=WorkoutFactory(team=team), fields={"facility": gym.pk})
    assert updated.facility == gym


def test_archive_then_restore_puts_back_previous_status(team):
    workout = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    archived = services.workout_archive(workout=workout, expected_version=1)
    assert archived.status == Workout.Status.ARCHIVED
    assert archived.status_before_archive == Workout.Status.SCHEDULED
    assert archived.is_archived
    restored = services.workout_restore(workout=workout, expected_version=2)
    assert restored.status == Workout.Status.SCHEDULED
    assert not restored.is_archived
    assert restored.status_before_archive == ""
    assert restored.version == 3


def test_archive_twice_is_an_invalid_state(team):
    workout = services.workout_archive(workout=WorkoutFactory(team=team))
    with pytest.raises(InvalidState):
        services.workout_archive(workout=workout)
    with pytest.raises(InvalidState):
        services.workout_restore(workout=WorkoutFactory(team=team))


def test_assign_creates_then_updates_with_version(team):
    workout = WorkoutFactory(team=team)
    player = PlayerFactory(team=team)
    first = services.workout_assign(workout=workout, player=player, role="participant", load_percent=80)
    assert (first.load_percent, first.version) == (80, 1)
    second = services.workout_assign(workout=workout, player=player, role="observer", load_percent=0)
    assert second.pk == first.pk
    assert (second.role, second.version) == ("observer", 2)
    assert Assignment.objects.count() == 1


def test_assign_refuses_player_of_another_team(team, other_team):
    with pytest.raises(WrongTeam) as excinfo:
        services.workout_assign(workout=WorkoutFactory(team=team), player=PlayerFactory(team=other_team))
    assert isinstance(excinfo.value, DomainError)
    assert excinfo.value.code == "WRONG_TEAM"


def test_assign_rejects_load_out_of_range(team):
    with pytest.raises(InvalidField):
        services.workout_assign(
            workout=WorkoutFactory(team=team), player=PlayerFactory(team=team), load_percent=200
        )


def test_unassign_removes_the_assignment(team):
    assignment = AssignmentFactory(workout=WorkoutFactory(team=team))
    assert services.workout_unassign(workout=assignment.workout, player=assignment.player) is True
    assert services.workout_unassign(workout=assignment.workout, player=assignment.player) is False


def test_schedule_turns_draft_into_scheduled(team):
    workout = WorkoutFactory(team=team, status=Workout.Status.DRAFT, scheduled_start=None)
    gym = FacilityFactory(opens_at=dt.time(6), closes_at=dt.time(22))
    scheduled = services.workout_schedule(workout=workout, start=_at(2, 9), end=_at(2, 10), facility=gym)
    assert scheduled.status == Workout.Status.SCHEDULED
    assert (scheduled.scheduled_start, scheduled.facility, scheduled.version) == (_at(2, 9), gym, 2)


def test_schedule_outside_opening_hours_is_a_conflict(team):
    gym = FacilityFactory(opens_at=dt.time(8), closes_at=dt.time(18))
    with pytest.raises(ScheduleConflict) as excinfo:
        services.workout_schedule(
            workout=WorkoutFactory(team=team), start=_at(2, 19), end=_at(2, 20), facility=gym
        )
    assert excinfo.value.code == "OUTSIDE_OPENING_HOURS"


def test_schedule_rejects_end_before_start(team):
    with pytest.raises(InvalidField):
        services.workout_schedule(
            workout=WorkoutFactory(team=team), start=_at(2, 10), end=_at(2, 10), facility=None
        )


def test_schedule_refuses_completed_workout(team):
    with pytest.raises(InvalidState):
        services.workout_schedule(
            workout=WorkoutFactory(team=team, status=Workout.Status.COMPLETED),
            start=_at(2, 9),
            end=_at(2, 10),
            facility=None,
        )


def test_duplicate_copies_exercises_and_optionally_assignments(team, trainer):
    original = WorkoutFactory(team=team, name="Leg day")
    WorkoutExerciseFactory(workout=original, sets=5)
    AssignmentFactory(workout=original, load_percent=70)
    copy = services.workout_duplicate(workout=original, user=trainer)
    assert copy.name == "Leg day (copy)"
    assert copy.status == Workout.Status.DRAFT
    assert copy.source_workout == original
    assert copy.workout_exercises.get().sets == 5
    assert not copy.assignments.exists()
    moved = services.workout_duplicate(
        workout=original, user=trainer, scheduled_start=_at(7, 9), include_assignments=True
    )
    assert moved.scheduled_end - moved.scheduled_start == original.scheduled_end - original.scheduled_start
    assert moved.assignments.get().load_percent == 70


def test_template_from_workouts_merges_exercises_in_first_seen_order(team, trainer):
    squat, press, row = ExerciseFactory(), ExerciseFactory(), ExerciseFactory()
    first = WorkoutFactory(team=team, intensity=60)
    second = WorkoutFactory(team=team, intensity=80)
    WorkoutExerciseFactory(workout=first, exercise=squat, order=0)
    WorkoutExerciseFactory(workout=first, exercise=press, order=1)
    WorkoutExerciseFactory(workout=second, exercise=press, order=0)
    WorkoutExerciseFactory(workout=second, exercise=row, order=1)
    template = services.template_from_workouts(workouts=[first, second], user=trainer, name="Mix")
    assert [te.exercise_id for te in template.template_exercises.all()] == [squat.pk, press.pk, row.pk]
    assert template.intensity == 70
    assert template.duration_minutes == 60
    assert template.source_workout_ids == [first.pk, second.pk]


def test_template_from_workouts_of_two_teams_is_refused(team, other_team, trainer):
    with pytest.raises(WrongTeam):
        services.template_from_workouts(
            workouts=[WorkoutFactory(team=team), WorkoutFactory(team=other_team)], user=trainer, name="x"
        )
