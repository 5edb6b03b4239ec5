"""Purge of change logs and old results, and the undo/retry/purge management commands."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from batch.actions import UndoWindowClosed
from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.undo import batch_undo
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def create_op(op_id: str) -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": f"W {op_id}", "type": "STRENGTH"}}}


def finished(submit, run, ops: list[dict], **options) -> Batch:
    batch = submit(ops, **options)
    run()
    batch.refresh_from_db()
    return batch


def age(batch: Batch, *, hours: float) -> None:
    """Pretend the batch ended `hours` ago."""
    ended = timezone.now() - dt.timedelta(hours=hours)
    Batch.objects.filter(pk=batch.pk).update(finished_at=ended, undo_deadline=ended + dt.timedelta(hours=24))


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_purge_removes_expired_change_logs_and_old_batches(submit, run_batches, trainer):
    fresh = finished(submit, run_batches, [create_op("a")])
    expired = finished(submit, run_batches, [create_op("b"), create_op("c")])
    old = finished(submit, run_batches, [create_op("d")])
    age(expired, hours=25)
    age(old, hours=31 * 24)

    dry = run("batch_purge", "--dry-run")
    assert "would remove 3 changes of 2 batches" in dry and "would remove 1 batches with 1 items" in dry
    assert BatchChange.objects.count() == 4

    out = run("batch_purge")

    assert "removed 3 changes of 2 batches" in out and "removed 1 batches with 1 items" in out
    assert BatchChange.objects.filter(batch=fresh).count() == 1
    assert not BatchChange.objects.filter(batch=expired).exists()
    expired.refresh_from_db()
    assert expired.purged_at is not None and BatchItem.objects.filter(batch=expired).count() == 2
    assert not Batch.objects.filter(pk=old.pk).exists()
    assert not BatchItem.objects.filter(batch_id=old.pk).exists()
    assert not BatchChunk.objects.filter(batch_id=old.pk).exists()
    assert Workout.objects.count() == 4  # the work itself stays
    with pytest.raises(UndoWindowClosed, match="purged"):
        batch_undo(batch_id=expired.pk, user=trainer)
    assert "removed 0 changes of 0 batches" in run("batch_purge")


def test_purge_leaves_a_batch_whose_undo_is_running(submit, run_batches, trainer):
    batch = finished(submit, run_batches, [create_op("a")])
    undo = batch_undo(batch_id=batch.pk, user=trainer)  # queued, not run
    age(batch, hours=25)
    run("batch_purge")
    assert BatchChange.objects.filter(batch=batch).exists()
    run_batches()
    assert Batch.objects.get(pk=undo.pk).status == Batch.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_batch_undo_command_with_force_and_wait(submit, run_worker, workers, team):
    workout = WorkoutFactory(team=team, notes="before")
    batch = finished(
        submit,
        run_worker,
        [{"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "x"}}}],
    )
    Workout.objects.filter(pk=workout.pk).update(version=7)
    workers.start(burst=False)
    out = run("batch_undo", str(batch.pk), "--force", "--wait")
    assert "1 reverted, 0 conflicts" in out and "UNDONE" in out
    workout.refresh_from_db()
    assert workout.notes == "before"
    with pytest.raises(CommandError, match="cannot be undone"):
        run("batch_undo", str(batch.undos.get().pk))


def test_batch_retry_command(submit, run_batches):
    batch = finished(
        submit,
        run_batches,
        [
            create_op("ok"),
            {"id": "bad", "type": "UPDATE", "data": {"workoutId": 999_999, "updates": {"notes": "x"}}},
        ],
        validateBeforeExecute=False,
    )
    out = run("batch_retry", str(batch.pk))
    retry = Batch.objects.get(retry_of=batch)
    assert f"Retry batch {retry.pk}" in out and "1 items" in out
    run_batches()
    retry.refresh_from_db()
    assert retry.status == Batch.Status.FAILED and retry.total_items == 1
    with pytest.raises(CommandError, match="no batch"):
        run("batch_retry", "999999")
