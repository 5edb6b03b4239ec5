"""blockedPlayers: "exclude" (default) leaves medically blocked players out and the rest goes ahead;
"fail" fails the whole operation. Undo gives back whoever a move took off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem
from batch.undo import batch_undo
from medical.models import MedicalRestriction
from tests.batch.conftest import wait_final
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db
SEVERE = MedicalRestriction.Severity.SEVERE
COMPLETE = MedicalRestriction.Severity.COMPLETE


def day_at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def run(submit, run_batches, ops: list[dict], **options: Any) -> Batch:
    batch = submit(ops, **options)
    run_batches()
    batch.refresh_from_db()
    return batch


def only_item(batch: Batch) -> BatchItem:
    return BatchItem.objects.get(batch=batch)


def left_out_warning(item: BatchItem) -> dict:
    return next(w for w in item.warnings if w["code"] == "PLAYERS_LEFT_OUT")


@pytest.fixture
def squat(db):
    return ExerciseFactory(name="Back squat", body_parts=["knee"])


@pytest.fixture
def squad(team):
    """Five players; Pat Hurt has an ACL tear (severe, knee)."""
    players = PlayerFactory.create_batch(4, team=team)
    hurt = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(player=hurt, severity=SEVERE, title="ACL tear")
    return players, hurt


def assign_op(workout: Workout, players: list, **data: Any) -> dict:
    return {
        "id": "squad",
        "type": "ASSIGN",
        "data": {"workoutId": workout.pk, "assignments": [{"playerId": p.pk} for p in players], **data},
    }


def test_a_squad_assign_leaves_the_blocked_player_out_and_assigns_the_rest(
    submit, run_batches, team, squat, squad
):
    players, hurt = squad
    workout = WorkoutFactory(team=team, name="Leg day")
    WorkoutExerciseFactory(workout=workout, exercise=squat)

    batch = run(submit, run_batches, [assign_op(workout, [*players, hurt])])

    item = only_item(batch)
    assert batch.status == Batch.Status.COMPLETED and item.status == BatchItem.Status.SUCCEEDED
    assert set(Assignment.objects.values_list("player_id", flat=True)) == {p.pk for p in players}
    warning = left_out_warning(item)
    assert warning["message"].startswith("1 player left out of Leg day")
    assert "Pat Hurt is blocked" in warning["message"] and "ACL tear" in warning["message"]
    assert warning["players"] == [{"playerId": hurt.pk, "playerName": "Pat Hurt"}]
    assert item.result["leftOut"] == [{"playerId": hurt.pk, "playerName": "Pat Hurt"}]


@pytest.mark.parametrize("where", ["operation", "batch"])
def test_blocked_players_fail_makes_the_whole_operation_fail(where, submit, run_batches, team, squat, squad):
    players, hurt = squad
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout, exercise=squat)
    if where == "operation":
        batch = run(
            submit,
            run_batches,
            [assign_op(workout, [*players, hurt], blockedPlayers="fail")],
            validateBeforeExecute=False,
        )
    else:
        batch = run(
            submit,
            run_batches,
            [assign_op(workout, [*players, hurt])],
            validateBeforeExecute=False,
            blockedPlayers="fail",
        )

    item = only_item(batch)
    assert item.status == BatchItem.Status.FAILED and item.error["code"] == "MEDICAL_RESTRICTION"
    assert not Assignment.objects.exists()


def test_a_create_with_assignments_leaves_the_blocked_player_out(submit, run_batches, team, squat, squad):
    players, hurt = squad
    op = {
        "id": "c",
        "type": "CREATE",
        "data": {
            "workout": {"name": "Leg day", "type": "STRENGTH"},
            "exercises": [{"exerciseId": squat.pk}],
            "assignments": [{"playerId": p.pk} for p in [*players, hurt]],
        },
    }

    batch = run(submit, run_batches, [op])

    item = only_item(batch)
    assert item.status == BatchItem.Status.SUCCEEDED and item.result["assigned"] == 4
    assert not Assignment.objects.filter(player=hurt).exists()
    assert left_out_warning(item)["players"][0]["playerId"] == hurt.pk


def test_moving_a_workout_onto_a_blocked_day_takes_the_player_off_and_undo_puts_them_back(
    submit, run_batches, trainer, team
):
    today = timezone.localdate()
    first, blocked_day = today + dt.timedelta(days=5), today + dt.timedelta(days=12)
    workout = WorkoutFactory(team=team, scheduled_start=day_at(first), scheduled_end=day_at(first, 10))
    fit, hurt = PlayerFactory(team=team), PlayerFactory(team=team, first_name="Sam", last_name="Later")
    AssignmentFactory(workout=workout, player=fit)
    before = AssignmentFactory(workout=workout, player=hurt, load_percent=80)
    RestrictionFactory(player=hurt, severity=COMPLETE, effective_date=blocked_day, expiry_date=blocked_day)
    move = {
        "id": "move",
        "type": "UPDATE",
        "data": {
            "workoutId": workout.pk,
            "updates": {"scheduledStart": day_at(blocked_day).isoformat(), "scheduledEnd": None},
        },
    }

    batch = run(submit, run_batches, [move])

    item = only_item(batch)
    assert item.status == BatchItem.Status.SUCCEEDED, item.error
    assert list(Assignment.objects.values_list("player_id", flat=True)) == [fit.pk]
    assert "Sam Later" in left_out_warning(item)["message"]
    unassigned = BatchChange.objects.get(batch=batch, action=BatchChange.Action.UNASSIGNED)
    assert unassigned.object_id == before.pk

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()

    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    back = Assignment.objects.get(player=hurt)
    assert (back.pk, back.load_percent) == (before.pk, 80)
    assert timezone.localdate(Workout.objects.get(pk=workout.pk).scheduled_start) == first


def test_a_weekly_series_leaves_the_player_out_only_of_the_weeks_they_are_blocked(submit, run_batches, team):
    today = timezone.localdate()
    first = today + dt.timedelta(days=7)
    workout = WorkoutFactory(team=team, name="Conditioning", scheduled_start=None, scheduled_end=None)
    workout.status = Workout.Status.DRAFT
    workout.save()
    fit, hurt = PlayerFactory(team=team), PlayerFactory(team=team, first_name="Kim", last_name="Berg")
    AssignmentFactory(workout=workout, player=fit)
    AssignmentFactory(workout=workout, player=hurt)
    second_week = first + dt.timedelta(days=7)
    RestrictionFactory(player=hurt, severity=COMPLETE, effective_date=second_week, expiry_date=second_week)
    op = {
        "id": "series",
        "type": "SCHEDULE",
        "data": {
            "workoutId": workout.pk,
            "start": day_at(first).isoformat(),
            "recurrence": {"frequency": "weekly", "count": 3},
        },
    }

    batch = run(submit, run_batches, [op])

    item = only_item(batch)
    assert item.status == BatchItem.Status.SUCCEEDED, item.error
    rosters = {
        timezone.localdate(w.scheduled_start): set(w.assignments.values_list("player_id", flat=True))
        for w in Workout.objects.all()
    }
    assert rosters == {
        first: {fit.pk, hurt.pk},
        second_week: {fit.pk},
        first + dt.timedelta(days=14): {fit.pk, hurt.pk},
    }
    warning = left_out_warning(item)
    assert warning["dates"] == [second_week.isoformat()] and warning["players"][0]["playerId"] == hurt.pk


def test_a_duplicate_with_assignments_leaves_the_blocked_player_off_the_copy(
    submit, run_batches, team, squat
):
    today = timezone.localdate()
    original = WorkoutFactory(team=team, scheduled_start=day_at(today + dt.timedelta(days=2)))
    original.scheduled_end = original.scheduled_start + dt.timedelta(hours=1)
    original.save()
    WorkoutExerciseFactory(workout=original, exercise=squat)
    fit, hurt = PlayerFactory(team=team), PlayerFactory(team=team)
    AssignmentFactory(workout=original, player=fit)
    AssignmentFactory(workout=original, player=hurt)
    copy_day = today + dt.timedelta(days=5)
    RestrictionFactory(player=hurt, severity=COMPLETE, effective_date=copy_day, expiry_date=copy_day)
    op = {
        "id": "d",
        "type": "DUPLICATE",
        "data": {"workoutId": original.pk, "count": 1, "dateShiftDays": 3, "includeAssignments": True},
    }

    batch = run(submit, run_batches, [op])

    item = only_item(batch)
    assert item.status == BatchItem.Status.SUCCEEDED, item.error
    copy = Workout.objects.get(source_workout=original)
    assert list(copy.assignments.values_list("player_id", flat=True)) == [fit.pk]
    assert set(original.assignments.values_list("player_id", flat=True)) == {fit.pk, hurt.pk}
    assert left_out_warning(item)["players"][0]["playerId"] == hurt.pk


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_assigns_the_squad_without_the_blocked_player(submit, workers, team, squat, squad):
    players, hurt = squad
    workout = WorkoutFactory(team=team, name="Leg day")
    WorkoutExerciseFactory(workout=workout, exercise=squat)

    batch = submit([assign_op(workout, [*players, hurt])])
    workers.start(burst=True).wait(timeout=60)

    assert wait_final(batch.pk).status == Batch.Status.COMPLETED
    assert set(Assignment.objects.values_list("player_id", flat=True)) == {p.pk for p in players}
    assert left_out_warning(only_item(batch))["players"][0]["playerName"] == "Pat Hurt"


def test_a_move_caps_the_load_of_a_player_modified_on_the_new_day_and_undo_restores_it(
    submit, run_batches, trainer, team
):
    today = timezone.localdate()
    first, capped_day = today + dt.timedelta(days=5), today + dt.timedelta(days=12)
    workout = WorkoutFactory(
        team=team, intensity=80, scheduled_start=day_at(first), scheduled_end=day_at(first, 10)
    )
    player = PlayerFactory(team=team)
    assignment = AssignmentFactory(workout=workout, player=player, load_percent=100)
    RestrictionFactory(
        player=player, body_parts=[], max_exertion=70, effective_date=capped_day, expiry_date=capped_day
    )
    move = {
        "id": "move",
        "type": "UPDATE",
        "data": {
            "workoutId": workout.pk,
            "updates": {"scheduledStart": day_at(capped_day).isoformat(), "scheduledEnd": None},
        },
    }

    batch = run(submit, run_batches, [move])

    assert only_item(batch).status == BatchItem.Status.SUCCEEDED
    assignment.refresh_from_db()
    assert (assignment.load_percent, assignment.medical_verdict) == (70, Assignment.Verdict.MODIFIED)

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()

    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    assignment.refresh_from_db()
    assert assignment.load_percent == 100
    assert timezone.localdate(Workout.objects.get(pk=workout.pk).scheduled_start) == first


def test_restoring_an_archived_workout_takes_off_a_player_blocked_since_and_undo_archives_it_back(
    submit, run_batches, trainer, team, squat, squad
):
    players, hurt = squad
    workout = WorkoutFactory(team=team, name="Leg day")
    WorkoutExerciseFactory(workout=workout, exercise=squat)
    fit = players[0]
    AssignmentFactory(workout=workout, player=fit)
    AssignmentFactory(workout=workout, player=hurt)
    archived = run(submit, run_batches, [{"id": "a", "type": "ARCHIVE", "data": {"workoutId": workout.pk}}])
    assert archived.status == Batch.Status.COMPLETED

    restore = {"id": "r", "type": "ARCHIVE", "data": {"workoutId": workout.pk, "restore": True}}
    batch = run(submit, run_batches, [restore])

    item = only_item(batch)
    assert item.status == BatchItem.Status.SUCCEEDED, item.error
    assert Workout.objects.get(pk=workout.pk).archived_at is None
    assert list(Assignment.objects.values_list("player_id", flat=True)) == [fit.pk]
    assert "Pat Hurt" in left_out_warning(item)["message"]

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()

    # Back in the archive, the roster is as it was: nobody trains in an archived workout.
    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    assert Workout.objects.get(pk=workout.pk).archived_at is not None
    assert set(Assignment.objects.values_list("player_id", flat=True)) == {fit.pk, hurt.pk}


def test_restoring_with_blocked_players_fail_fails_the_restore(submit, run_batches, team, squat, squad):
    players, hurt = squad
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout, exercise=squat)
    AssignmentFactory(workout=workout, player=hurt)
    run(submit, run_batches, [{"id": "a", "type": "ARCHIVE", "data": {"workoutId": workout.pk}}])

    restore = {
        "id": "r",
        "type": "ARCHIVE",
        "data": {"workoutId": workout.pk, "restore": True, "blockedPlayers": "fail"},
    }
    batch = run(submit, run_batches, [restore], validateBeforeExecute=False)

    item = only_item(batch)
    assert item.status == BatchItem.Status.FAILED and item.error["code"] == "MEDICAL_RESTRICTION"
    assert Workout.objects.get(pk=workout.pk).archived_at is not None
