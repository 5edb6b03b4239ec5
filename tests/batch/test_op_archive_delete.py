"""ARCHIVE and DELETE, run in-process by the runner: archive, restore, soft and permanent delete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batch.models import Batch, BatchChange, BatchItem
from batch.undo import batch_undo
from batch.validation import batch_validate
from tests.factories import AssignmentFactory, WorkoutExerciseFactory, WorkoutFactory
from workouts.models import Assignment, Workout, WorkoutExercise

pytestmark = pytest.mark.django_db
# Whole worker run of one chunk: claim, load, write, counters, finalize.
QUERY_BOUND = 40


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def op(op_id: str, op_type: str, **data) -> dict:
    return {"id": op_id, "type": op_type, "data": data}


def test_archive_then_restore_round_trips_status_and_logs_both(submit, run_batches, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    batch = submit([op("a", "ARCHIVE", workoutId=workout.pk)])
    run_batches()
    workout.refresh_from_db()
    assert workout.status == "archived" and workout.status_before_archive == "scheduled"
    assert workout.archived_at is not None and workout.version == 2
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "archived" and change.version_after == 2
    assert change.before == {"status": "scheduled", "status_before_archive": "", "archived_at": None}
    assert change.after["status"] == "archived" and change.after["archived_at"]

    batch = submit([op("r", "ARCHIVE", workoutId=workout.pk, restore=True)])
    run_batches()
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


def test_soft_delete_archives_and_is_undoable(submit, run_batches, team, trainer):
    workout = WorkoutFactory(team=team)
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [op("d", "DELETE", workoutId=workout.pk)]}
    )
    assert report.estimate["undoable"] is True
    batch = submit([op("d", "DELETE", workoutId=workout.pk)])
    run_batches()
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
    submit, run_batches, team, trainer
):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    assignment = AssignmentFactory(workout=workout, load_percent=80)
    raw = {"operations": [op("d", "DELETE", workoutId=workout.pk, permanent=True)]}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid and report.estimate["undoable"] is False
    assert report.items["d"].warnings[0]["code"] == "NOT_UNDOABLE"
    batch = submit(raw["operations"])
    run_batches()
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


def worker_queries(run_batches) -> int:
    with CaptureQueriesContext(connection) as captured:
        run_batches()
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("op_type", "extra"), [("ARCHIVE", {}), ("DELETE", {}), ("DELETE", {"permanent": True})]
)
def test_a_100_item_chunk_runs_in_as_many_queries_as_a_10_item_one(submit, run_batches, team, op_type, extra):
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for w in workouts[:5]:
            WorkoutExerciseFactory(workout=w)
            AssignmentFactory(workout=w)
        ops = [op(f"{n}-{w.pk}", op_type, workoutId=w.pk, **extra) for w in workouts]
        batch = submit(ops, chunkSize=n)
        counts.append(worker_queries(run_batches))
        assert Batch.objects.get(pk=batch.pk).succeeded == n
    # One more per bulk write for 100 rows: from 64 rows on, rows go through a COPY-filled temp table.
    assert max(counts) <= QUERY_BOUND and abs(counts[1] - counts[0]) <= 3, counts


def test_archive_then_restore_in_one_chunk_sees_the_archive(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.SCHEDULED)
    twice = WorkoutFactory(team=team)
    batch = submit(
        [
            op("a", "ARCHIVE", workoutId=workout.pk),
            op("r", "ARCHIVE", workoutId=workout.pk, restore=True),
            op("a2", "ARCHIVE", workoutId=twice.pk),
            op("again", "ARCHIVE", workoutId=twice.pk),
        ],
        chunkSize=10,
        validateBeforeExecute=False,
    )
    run_batches()
    assert [item(batch, o).status for o in ("a", "r", "a2", "again")] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
        "FAILED",
    ]
    assert "already archived" in item(batch, "again").error["message"]
    workout.refresh_from_db()
    twice.refresh_from_db()
    assert (workout.status, workout.archived_at, workout.version) == ("scheduled", None, 3)
    # The second archive did not overwrite the status to come back to.
    assert (twice.status, twice.status_before_archive, twice.version) == ("archived", "scheduled", 2)
    changes = BatchChange.objects.filter(batch=batch, object_id=workout.pk).order_by("pk")
    assert [(c.action, c.version_after) for c in changes] == [("archived", 2), ("restored", 3)]
    assert changes[1].before["status"] == "archived" and changes[1].after["status"] == "scheduled"

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()
    assert undo.status == Batch.Status.COMPLETED
    workout.refresh_from_db()
    twice.refresh_from_db()
    assert (workout.status, workout.archived_at) == ("scheduled", None)
    assert (twice.status, twice.archived_at, twice.status_before_archive) == ("scheduled", None, "")


def test_the_dry_run_judges_a_restore_after_an_archive_of_the_same_workout(trainer, team):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [
            op("a", "ARCHIVE", workoutId=workout.pk),
            op("r", "ARCHIVE", workoutId=workout.pk, restore=True),
            op("d", "DELETE", workoutId=workout.pk, permanent=True),
            op("soft", "DELETE", workoutId=workout.pk),
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert not report.items["a"].errors and not report.items["r"].errors
    assert not report.items["d"].errors
    assert report.items["soft"].errors[0]["code"] == "NOT_FOUND"
    assert "deleted permanently by an earlier item" in report.items["soft"].errors[0]["message"]
