"""Undo asks the medical gate again: nobody is put back on a workout, or kept on one moved back, against
a restriction made since — unless a medic or staff member forces it, which is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from batch.models import Batch, BatchItem
from batch.undo import batch_undo
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.batch.conftest import wait_final
from tests.factories import AssignmentFactory, PlayerFactory, RestrictionFactory, WorkoutFactory
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db
COMPLETE = MedicalRestriction.Severity.COMPLETE


def finished(submit, run_batches, ops: list[dict], user=None) -> Batch:
    batch = submit(ops, user=user)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    return batch


def undone(batch: Batch, user, run_batches, **kwargs: Any) -> Batch:
    undo = batch_undo(batch_id=batch.pk, user=user, **kwargs)
    run_batches()
    undo.refresh_from_db()
    return undo


def swap_roster(workout: Workout, player_id: int) -> list[dict]:
    data = {"workoutId": workout.pk, "removeExisting": True, "assignments": [{"playerId": player_id}]}
    return [{"id": "swap", "type": "ASSIGN", "data": data}]


def medical_conflict(undo: Batch) -> BatchItem:
    item = BatchItem.objects.get(batch=undo, status=BatchItem.Status.CONFLICT)
    assert item.error["code"] == "MEDICAL_RESTRICTION", item.error
    return item


@pytest.fixture
def taken_off(submit, run_batches, team):
    """Player P was on the workout; a batch replaced the roster with Q; P is now completely restricted."""
    workout = WorkoutFactory(team=team, name="Leg day")
    hurt, other = PlayerFactory(team=team, first_name="Pat"), PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=hurt)
    return workout, hurt, other


def test_undo_does_not_put_a_player_blocked_since_back_on_the_workout(
    submit, run_batches, trainer, team, taken_off
):
    workout, hurt, other = taken_off
    batch = finished(submit, run_batches, swap_roster(workout, other.pk))
    RestrictionFactory(player=hurt, severity=COMPLETE, title="Concussion")

    undo = undone(batch, trainer, run_batches)

    item = medical_conflict(undo)
    assert "Pat" in item.error["message"] and "Concussion" in item.error["message"]
    assert item.error["details"]["conflict"] == "MEDICAL" and item.error["details"]["workoutId"] == workout.pk
    assert not Assignment.objects.filter(workout=workout, player=hurt).exists()
    assert not Assignment.objects.filter(workout=workout, player=other).exists()  # the rest was undone
    assert undo.conflicted == 1 and undo.succeeded == 1


def test_force_from_a_trainer_does_not_override_a_medical_block(
    submit, run_batches, trainer, team, taken_off
):
    workout, hurt, other = taken_off
    batch = finished(submit, run_batches, swap_roster(workout, other.pk))
    RestrictionFactory(player=hurt, severity=COMPLETE)

    undo = undone(batch, trainer, run_batches, force=True)

    item = medical_conflict(undo)
    assert item.error["suggestedAction"].startswith("Force does not override a medical block")
    assert not Assignment.objects.filter(workout=workout, player=hurt).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEDICAL_OVERRIDE).exists()


@pytest.mark.parametrize("actor", ["medic", "staff"])
def test_force_from_medical_staff_puts_the_player_back_and_is_audited(
    actor, submit, run_batches, team, taken_off, request
):
    user = request.getfixturevalue(actor)
    workout, hurt, other = taken_off
    batch = finished(submit, run_batches, swap_roster(workout, other.pk), user=user)
    RestrictionFactory(player=hurt, severity=COMPLETE)

    undo = undone(batch, user, run_batches, force=True)

    assert undo.status == Batch.Status.COMPLETED and undo.conflicted == 0
    back = Assignment.objects.get(workout=workout, player=hurt)
    assert back.medical_verdict == Assignment.Verdict.BLOCKED
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEDICAL_OVERRIDE)
    assert event.actor == user and event.channel == "worker" and event.team == team
    assert event.details["workoutId"] == workout.pk and event.details["players"][0]["id"] == hurt.pk
    item = BatchItem.objects.get(batch=undo, result__medicalOverride=True)
    assert item.warnings[0]["code"] == "MEDICAL_RESTRICTION"


def test_undo_that_moves_a_workout_back_onto_a_blocked_day_conflicts(submit, run_batches, trainer, team):
    first_day = timezone.localdate() + dt.timedelta(days=5)
    start = timezone.make_aware(dt.datetime.combine(first_day, dt.time(9)))
    workout = WorkoutFactory(team=team, scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1))
    player = PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player)
    later = (start + dt.timedelta(days=7)).isoformat()
    batch = finished(
        submit,
        run_batches,
        [
            {
                "id": "move",
                "type": "UPDATE",
                "data": {"workoutId": workout.pk, "updates": {"scheduledStart": later, "scheduledEnd": None}},
            }
        ],
    )
    # Restricted on the original day only: the workout where it is now is fine, back there it is not.
    RestrictionFactory(player=player, severity=COMPLETE, effective_date=first_day, expiry_date=first_day)

    undo = undone(batch, trainer, run_batches)

    medical_conflict(undo)
    assert timezone.localdate(Workout.objects.get(pk=workout.pk).scheduled_start) == first_day + dt.timedelta(
        days=7
    )


def test_undo_that_raises_the_intensity_back_above_a_max_exertion_conflicts(
    submit, run_batches, trainer, team
):
    workout = WorkoutFactory(team=team, intensity=90)
    player = PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player)
    ops = [{"id": "ease", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"intensity": 50}}}]
    batch = finished(submit, run_batches, ops)
    RestrictionFactory(
        player=player, severity=MedicalRestriction.Severity.SEVERE, body_parts=[], max_exertion=60
    )

    undo = undone(batch, trainer, run_batches)

    medical_conflict(undo)
    assert Workout.objects.get(pk=workout.pk).intensity == 50


def test_undo_restores_an_assignment_with_todays_load_cap(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, intensity=80)
    player = PlayerFactory(team=team)
    assignment = AssignmentFactory(workout=workout, player=player, load_percent=100)
    ops = [
        {
            "id": "lighter",
            "type": "ASSIGN",
            "data": {"workoutId": workout.pk, "assignments": [{"playerId": player.pk, "loadPercent": 50}]},
        }
    ]
    batch = finished(submit, run_batches, ops)
    RestrictionFactory(player=player, body_parts=[], max_exertion=70)  # moderate: intensity caps the load

    undo = undone(batch, trainer, run_batches)

    assert undo.status == Batch.Status.COMPLETED
    assignment.refresh_from_db()
    assert (assignment.load_percent, assignment.medical_verdict) == (70, Assignment.Verdict.MODIFIED)


def test_undo_without_restrictions_restores_exactly(submit, run_batches, trainer, team, taken_off):
    workout, hurt, other = taken_off
    before = Assignment.objects.get(workout=workout, player=hurt)
    batch = finished(submit, run_batches, swap_roster(workout, other.pk))

    undo = undone(batch, trainer, run_batches)

    assert undo.status == Batch.Status.COMPLETED
    back = Assignment.objects.get(workout=workout, player=hurt)
    assert (back.pk, back.load_percent, back.medical_verdict) == (before.pk, 100, before.medical_verdict)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_refuses_to_put_a_blocked_player_back(submit, workers, trainer, team, taken_off):
    workout, hurt, other = taken_off
    batch = submit(swap_roster(workout, other.pk))
    workers.start(burst=True).wait(timeout=60)
    assert wait_final(batch.pk).status == Batch.Status.COMPLETED
    RestrictionFactory(player=hurt, severity=COMPLETE)

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    workers.start(burst=True).wait(timeout=60)

    undo = wait_final(undo.pk)
    medical_conflict(undo)
    assert not Assignment.objects.filter(workout=workout, player=hurt).exists()


def test_a_forced_undo_over_a_reassigned_player_takes_todays_load_cap(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, intensity=80)
    player, other = PlayerFactory(team=team), PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player, load_percent=100)
    batch = finished(submit, run_batches, swap_roster(workout, other.pk))
    again = AssignmentFactory(workout=workout, player=player, load_percent=40)
    RestrictionFactory(player=player, body_parts=[], max_exertion=70)  # moderate: the load is capped

    undo = undone(batch, trainer, run_batches, force=True)

    assert undo.conflicted == 0, list(BatchItem.objects.filter(batch=undo).values("error"))
    again.refresh_from_db()
    assert (again.load_percent, again.medical_verdict) == (70, Assignment.Verdict.MODIFIED)
