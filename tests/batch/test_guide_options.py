"""The guide's options to the letter: stopOnError stops at the failing item (the rest of its chunk does
not commit), rollbackOnError is all or nothing (no other session sees part of it; refused above a
size or with an operation that cannot be undone)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import override_settings

from batch.errors import InvalidRequest
from batch.models import Batch, BatchChange, BatchItem
from batch.validation import batch_validate
from tests.batch.conftest import wait_final
from tests.batch.test_undo import assert_same_tables, table_snapshot
from tests.factories import WorkoutFactory
from workouts.models import Workout


def update_op(op_id: str, workout_id: int, **updates) -> dict:
    return {"id": op_id, "type": "UPDATE", "data": {"workoutId": workout_id, "updates": updates}}


def create_op(op_id: str) -> dict:
    return {
        "id": op_id,
        "type": "CREATE",
        "data": {"workout": {"name": f"Made by {op_id}", "type": "STRENGTH"}},
    }


def statuses(batch: Batch) -> dict[str, str]:
    return dict(BatchItem.objects.filter(batch=batch).values_list("op_id", "status"))


# --- stopOnError -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_stop_on_error_stops_inside_the_chunk_at_the_failing_item(trainer, team, submit, run_worker):
    workouts = [WorkoutFactory(team=team, notes="before") for _ in range(5)]
    ops = [update_op(f"u{i + 1}", w.pk, notes="after") for i, w in enumerate(workouts)]
    ops[1] = update_op("u2", 999_999, notes="after")  # item 2 names a workout that does not exist
    ops += [update_op("u6", workouts[0].pk, name="second chunk")]
    batch = submit(ops, chunkSize=5, parallel=False, stopOnError=True, validateBeforeExecute=False)
    assert batch.total_chunks == 2

    run_worker()  # a real RQ worker (in this process)
    batch.refresh_from_db()

    assert statuses(batch) == {
        "u1": "SUCCEEDED",
        "u2": "FAILED",
        "u3": "SKIPPED",
        "u4": "SKIPPED",
        "u5": "SKIPPED",
        "u6": "SKIPPED",
    }
    notes = {w.pk: n for w, n in ((w, Workout.objects.get(pk=w.pk).notes) for w in workouts)}
    assert notes[workouts[0].pk] == "after"
    assert [notes[w.pk] for w in workouts[2:]] == ["before"] * 3  # u3-u5 did not commit
    assert Workout.objects.get(pk=workouts[0].pk).name != "second chunk"
    skipped = BatchItem.objects.filter(batch=batch, status="SKIPPED")
    assert {i.error["code"] for i in skipped} == {"STOPPED_ON_ERROR"}
    assert all(i.error["suggestedAction"] for i in skipped)
    in_chunk = BatchItem.objects.get(batch=batch, op_id="u3").error
    assert "'u2' failed before it" in in_chunk["message"]
    # Only u1's change is logged: undo would find nothing of u3-u5.
    assert list(BatchChange.objects.filter(batch=batch).values_list("item__op_id", flat=True)) == ["u1"]
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    assert batch.error["reason"] == "stopOnError" and batch.error["stoppedAt"] == 2
    assert batch.error["opId"] == "u2" and batch.error["notRun"] == 4
    assert "stopped at item 2 ('u2')" in batch.error["message"]
    assert (batch.succeeded, batch.failed, batch.skipped) == (1, 1, 4)


def test_without_a_failure_stop_on_error_commits_the_whole_chunk(team, submit, run_batches):
    workouts = [WorkoutFactory(team=team, notes="before") for _ in range(5)]
    batch = submit(
        [update_op(f"u{i}", w.pk, notes="after") for i, w in enumerate(workouts)],
        chunkSize=5,
        stopOnError=True,
    )
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 5
    assert set(Workout.objects.values_list("notes", flat=True)) == {"after"}


# --- rollbackOnError: all or nothing ---------------------------------------------------------------


def poll_other_session(batch_id: int, stop: threading.Event, seen: dict) -> None:
    """A second session, polling while the worker runs: what can anyone else see of the batch?"""
    try:
        while not stop.is_set():
            with connection.cursor() as cursor:
                # One statement, one snapshot: the batch's state and what of its work shows.
                cursor.execute(
                    "SELECT b.status, (SELECT count(*) FROM workouts_workout WHERE name LIKE 'Made by %%'), "
                    "(SELECT count(*) FROM batch_batchitem i "
                    "WHERE i.batch_id = b.id AND i.status = 'SUCCEEDED') "
                    "FROM batch_batch b WHERE b.id = %s",
                    [batch_id],
                )
                status, workouts, items = cursor.fetchone()
            seen["statuses"].add(status)
            seen["workouts"] = max(seen["workouts"], workouts)
            seen["items"] = max(seen["items"], items)
    finally:
        connections.close_all()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_rollback_on_error_no_other_session_sees_the_first_chunks_work(team, submit, workers):
    existing = WorkoutFactory(team=team, notes="keep me")
    before = table_snapshot()
    ops = [create_op(f"c{i}") for i in range(60)]
    ops.append({**update_op("bad", 999_999, name="nope"), "priority": -1})  # the last chunk
    ops.append({**update_op("after", existing.pk, notes="never"), "priority": -2})
    batch = submit(ops, chunkSize=5, rollbackOnError=True, validateBeforeExecute=False)
    assert batch.total_chunks == 13 and batch.runner_slots == 1

    seen = {"workouts": 0, "items": 0, "statuses": set()}
    stop = threading.Event()
    poller = threading.Thread(target=poll_other_session, args=(batch.pk, stop, seen))
    poller.start()
    try:
        workers.start(burst=True)  # a real worker process
        batch = wait_final(batch.pk, timeout=120)
    finally:
        stop.set()
        poller.join(timeout=10)

    assert "RUNNING" in seen["statuses"]  # the poller watched while the batch ran
    assert seen["workouts"] == 0 and seen["items"] == 0  # never any part of it
    assert batch.status == Batch.Status.ROLLED_BACK
    assert batch.error["opId"] == "bad" and batch.error["code"] == "NOT_FOUND"
    assert batch.error["rollback"] == {"batchId": None, "reverted": 0}
    assert not batch.undos.exists()  # nothing to undo: nothing was written
    assert_same_tables(before, table_snapshot())
    assert not BatchChange.objects.filter(batch=batch).exists()
    items = BatchItem.objects.filter(batch=batch)
    assert items.get(op_id="bad").status == "FAILED"
    rolled = items.filter(error__code="ROLLED_BACK")
    assert rolled.count() == 60 and {i.status for i in rolled} == {"SKIPPED"}
    assert "nothing of it was kept" in rolled.first().error["message"]
    assert items.get(op_id="after").error["code"] == "STOPPED_ON_ERROR"
    assert (batch.succeeded, batch.failed, batch.skipped) == (0, 1, 61)


def test_rollback_on_error_without_a_failure_commits_everything(team, submit, run_batches):
    batch = submit([create_op(f"c{i}") for i in range(12)], chunkSize=5, rollbackOnError=True)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 12 and batch.done_chunks == 3
    assert Workout.objects.filter(name__startswith="Made by").count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_permanent_delete_is_refused_up_front_under_rollback_on_error(trainer, team, submit, run_worker):
    workout = WorkoutFactory(team=team)
    ops = [
        create_op("c1"),
        {"id": "gone", "type": "DELETE", "data": {"workoutId": workout.pk, "permanent": True}},
    ]
    report = batch_validate(
        user=trainer, team=team, raw={"operations": ops, "options": {"rollbackOnError": True}}
    )
    assert not report.valid
    [problem] = report.problems
    assert problem.code == "NOT_UNDOABLE" and problem.operation_id == "gone"
    assert problem.field == "data.permanent" and "cannot be undone" in problem.message
    with pytest.raises(InvalidRequest):
        submit(ops, rollbackOnError=True)
    run_worker()
    assert not Batch.objects.exists() and Workout.objects.filter(pk=workout.pk).exists()
    # Archiving (undoable) is fine, and so is a permanent delete without rollbackOnError.
    assert batch_validate(
        user=trainer,
        team=team,
        raw={
            "operations": [{**ops[1], "data": {"workoutId": workout.pk}}],
            "options": {"rollbackOnError": True},
        },
    ).valid
    assert batch_validate(user=trainer, team=team, raw={"operations": ops}).valid


@override_settings(BATCH_ATOMIC_MAX_ITEMS=3)
def test_rollback_on_error_is_refused_above_the_all_or_nothing_size(trainer, team):
    raw = {"operations": [create_op(f"c{i}") for i in range(4)], "options": {"rollbackOnError": True}}
    report = batch_validate(user=trainer, team=team, raw=raw)
    [problem] = report.problems
    assert problem.code == "ALL_OR_NOTHING_TOO_LARGE" and problem.field == "options.rollbackOnError"
    assert "at most 3 operations" in problem.message and "has 4" in problem.message
    raw["operations"].pop()
    assert batch_validate(user=trainer, team=team, raw=raw).valid


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_all_or_nothing_batch_keeps_nothing(trainer, team, submit, run_worker):
    from batch.services import batch_cancel

    batch = submit([create_op(f"c{i}") for i in range(6)], chunkSize=2, rollbackOnError=True)
    batch_cancel(batch_id=batch.pk, user=trainer)
    run_worker()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and batch.cancelled == 6
    assert not Workout.objects.exists()
