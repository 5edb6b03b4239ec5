"""ARCHIVE and DELETE executors through a real worker: archive, restore, soft and permanent delete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batch.models import Batch, BatchChange, BatchItem
from batch.validation import batch_validate
from tests.factories import AssignmentFactory, WorkoutExerciseFactory, WorkoutFactory
from workouts.models import Assignment, Workout, WorkoutExercise

pytestmark = pytest.mark.django_db(transaction=True)
# Whole worker run of one chunk: claim, load, write, counters, finalize.
QUERY_BOUND = 40


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def op(op_id: str, op_type: str, **data) -> dict:
    return {"id": op_id, "type": op_type, "data": data}


def test_archive_then_restore_round_trips_status_and_logs_both(submit, run_worker, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    batch = submit([op("a", "ARCHIVE", workoutId=workout.pk)])
    run_worker()
    workout.refresh_from_db()
    assert workout.status == "archived" and workout.status_before_archive == "scheduled"
    assert workout.archived_at is not None and workout.version == 2
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "archived" and change.version_after == 2
    assert change.before == {"status": "scheduled", "status_before_archive": "", "archived_at": None}
    assert change.after["status"] == "archived" and change.after["archived_at"]

    batch = submit([op("r", "ARCHIVE", workoutId=workout.pk, restore=True)])
    run_worker()
    workout.refresh_from_db()
    assert (workout.status, workout.archived_at, workout.version) == ("scheduled", None, 3)
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "restored" and change.after["status"] == "scheduled"


@pytest.mark.parametrize(
    ("archived", "data", "code", "fragment"),
    [
        (True, {"restore": False}, "VALIDATION_ERROR", "already archived"),
        (False, {"restore": True}, "VALIDATION_ERROR", "not archived"),
    ],
)
def test_archive_state_errors(trainer, team, archived, data, code, fragment):
    workout = WorkoutFactory(team=team)
    if archived:
        Workout.objects.filter(pk=workout.pk).update(archived_at=workout.scheduled_start, status="archived")
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [op("a", "ARCHIVE", workoutId=workout.pk, **data)]}
    )
    error = report.items["a"].errors[0]
    assert error["code"] == code and fragment in error["message"]


def test_archive_schema_and_scope_errors(trainer, team, other_team):
    foreign = WorkoutFactory(team=other_team)
    report = batch_validate(
        user=trainer,
        team=team,
        raw={"operations": [op("a", "ARCHIVE", workoutId="x"), op("b", "ARCHIVE", workoutId=1, colour=1)]},
    )
    assert {(p.operation_id, p.field) for p in report.problems} == {
        ("a", "data.workoutId"),
        ("b", "data.colour"),
    }
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [op("a", "ARCHIVE", workoutId=foreign.pk)]}
    )
    assert report.items["a"].errors[0]["code"] == "NOT_FOUND"


def test_soft_delete_archives_and_is_undoable(submit, run_worker, team, trainer):
    workout = WorkoutFactory(team=team)
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [op("d", "DELETE", workoutId=workout.pk)]}
    )
    assert report.estimate["undoable"] is True
    batch = submit([op("d", "DELETE", workoutId=workout.pk)])
    run_worker()
    workout.refresh_from_db()
    assert workout.status == "archived" and workout.archived_at is not None
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "archived" and change.undoable
    assert item(batch, "d").result == {
        "id": workout.pk,
        "workoutId": workout.pk,
        "status": "archived",
        "version": 2,
        "permanent": False,
    }


def test_permanent_delete_removes_everything_logs_full_image_and_is_not_undoable(
    submit, run_worker, team, trainer
):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    assignment = AssignmentFactory(workout=workout, load_percent=80)
    raw = {"operations": [op("d", "DELETE", workoutId=workout.pk, permanent=True)]}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid and report.estimate["undoable"] is False
    assert report.items["d"].warnings[0]["code"] == "NOT_UNDOABLE"
    batch = submit(raw["operations"])
    run_worker()
    assert item(batch, "d").status == "SUCCEEDED"
    assert not Workout.objects.filter(pk=workout.pk).exists()
    assert not WorkoutExercise.objects.filter(workout_id=workout.pk).exists()
    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "deleted" and change.undoable is False
    assert change.before["name"] == workout.name and len(change.before["exercises"]) == 1
    assert change.before["assignments"][0]["player_id"] == assignment.player_id
    assert change.before["assignments"][0]["load_percent"] == 80


@pytest.mark.parametrize("via", ["status", "assignment"])
def test_permanent_delete_refuses_workouts_with_completed_sessions(trainer, team, via):
    workout = WorkoutFactory(team=team, status="completed" if via == "status" else "scheduled")
    if via == "assignment":
        AssignmentFactory(workout=workout, status=Assignment.Status.COMPLETED)
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [op("d", "DELETE", workoutId=workout.pk, permanent=True)]}
    )
    error = report.items["d"].errors[0]
    assert error["code"] == "VALIDATION_ERROR" and "completed sessions" in error["message"]
    assert "permanent: false" in error["suggestedAction"]


def worker_queries(run_worker) -> int:
    with CaptureQueriesContext(connection) as captured:
        run_worker()
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("op_type", "extra"), [("ARCHIVE", {}), ("DELETE", {}), ("DELETE", {"permanent": True})]
)
def test_a_100_item_chunk_runs_in_as_many_queries_as_a_10_item_one(submit, run_worker, team, op_type, extra):
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for w in workouts[:5]:
            WorkoutExerciseFactory(workout=w)
            AssignmentFactory(workout=w)
        ops = [op(f"{n}-{w.pk}", op_type, workoutId=w.pk, **extra) for w in workouts]
        batch = submit(ops, chunkSize=n)
        counts.append(worker_queries(run_worker))
        assert Batch.objects.get(pk=batch.pk).succeeded == n
    assert counts[0] == counts[1] <= QUERY_BOUND, counts
