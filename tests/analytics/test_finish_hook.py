"""A batch that finishes is rolled up on commit, and so is the batch its retry or undo follows."""

from __future__ import annotations

import pytest

from analytics.models import BatchErrorRollup, BatchRollup, BatchTypeRollup
from batch.models import Batch, BatchItem
from batch.retry import batch_retry_failed
from batch.undo import batch_undo
from tests.batch.conftest import wait_final, wait_until
from tests.factories import WorkoutFactory


def operations(team, *, failing: int = 1, ok: int = 3) -> list[dict]:
    good = [WorkoutFactory(team=team) for _ in range(ok)]
    bad = [WorkoutFactory(team=team) for _ in range(failing)]
    ops = [
        {"id": f"ok-{w.pk}", "type": "UPDATE", "data": {"workoutId": w.pk, "updates": {"notes": "x"}}}
        for w in good
    ]
    ops += [
        {
            "id": f"bad-{w.pk}",
            "type": "UPDATE",
            "data": {"workoutId": w.pk, "expectedVersion": 7, "updates": {"notes": "y"}},
            "conflictResolution": "FAIL",
        }
        for w in bad
    ]
    return ops


def assert_rolled_up(batch: Batch) -> BatchRollup:
    batch.refresh_from_db()
    rollup = BatchRollup.objects.get(batch_id=batch.pk)
    assert (rollup.status, rollup.total_items, rollup.succeeded, rollup.failed) == (
        batch.status,
        batch.total_items,
        batch.succeeded,
        batch.failed,
    )
    assert rollup.team_id == batch.team_id and rollup.user_id == batch.created_by_id
    types = BatchTypeRollup.objects.get(batch_id=batch.pk, type="UPDATE")
    assert types.items == batch.total_items
    assert types.timed_items == BatchItem.objects.filter(batch=batch, duration_ms__isnull=False).count()
    codes = {(e.code, e.count) for e in BatchErrorRollup.objects.filter(batch_id=batch.pk)}
    failed = BatchItem.objects.filter(batch=batch, error__isnull=False)
    assert sum(n for _, n in codes) == failed.count()
    return rollup


def test_finishing_rolls_the_batch_up_and_a_retry_marks_its_original(
    submit, run_batches, trainer, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = submit(operations(team), validateBeforeExecute=False)
        run_batches()
    rollup = assert_rolled_up(batch)
    assert rollup.status == Batch.Status.COMPLETED_WITH_ERRORS and rollup.failed == 1
    assert not rollup.retried and not rollup.undone

    with django_capture_on_commit_callbacks(execute=True):
        retry = batch_retry_failed(batch_id=batch.pk, user=trainer)
        run_batches()
    assert_rolled_up(retry)
    assert BatchRollup.objects.get(batch_id=batch.pk).retried

    with django_capture_on_commit_callbacks(execute=True):
        undo = batch_undo(batch_id=batch.pk, user=trainer)
        run_batches()
    assert BatchRollup.objects.get(batch_id=undo.pk).kind == Batch.Kind.UNDO
    original = BatchRollup.objects.get(batch_id=batch.pk)
    assert original.undone and original.status == Batch.Status.UNDONE


def test_a_batch_that_has_not_finished_has_no_roll_up(submit, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = submit(operations(team, failing=0))
    assert not BatchRollup.objects.filter(batch_id=batch.pk).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_batch_run_by_a_real_worker_is_rolled_up(submit, workers, team):
    batch = submit(operations(team, failing=2, ok=5), validateBeforeExecute=False)
    workers.start(burst=True)
    batch = wait_final(batch.pk)
    wait_until(lambda: BatchRollup.objects.filter(batch_id=batch.pk).exists())
    rollup = assert_rolled_up(batch)
    assert rollup.failed == 2 and rollup.succeeded == 5
    assert rollup.duration_ms == pytest.approx((batch.finished_at - batch.started_at).total_seconds() * 1000)
    assert set(BatchErrorRollup.objects.filter(batch_id=batch.pk).values_list("code", flat=True)) == set(
        BatchItem.objects.filter(batch=batch, error__isnull=False).values_list("error__code", flat=True)
    )


@pytest.mark.parametrize("size", [10, 1000])
def test_rolling_a_batch_up_costs_the_same_queries_at_10_and_1000_items(
    team, trainer, size, django_assert_num_queries
):
    from analytics.services import batch_rollups_refresh

    batch = Batch.objects.create(team=team, created_by=trainer, options={}, status=Batch.Status.COMPLETED)
    BatchItem.objects.bulk_create(
        BatchItem(
            batch=batch,
            seq=n,
            op_id=f"op-{n}",
            type="UPDATE" if n % 2 else "ASSIGN",
            status=BatchItem.Status.FAILED if n % 7 == 0 else BatchItem.Status.SUCCEEDED,
            error={"code": "CONFLICT", "suggestedAction": f"Fix op-{n}"} if n % 7 == 0 else None,
            duration_ms=1.5,
        )
        for n in range(size)
    )
    # batches, 3 follow-up lookups, types, errors, the lock, 3 deletes, 3 inserts (+ savepoint pair)
    with django_assert_num_queries(15):
        batch_rollups_refresh(batch_ids=[batch.pk])
    assert sum(r.items for r in BatchTypeRollup.objects.filter(batch_id=batch.pk)) == size
    # A batch keeps its three most given actions per code; the rest count under "".
    errors = BatchErrorRollup.objects.filter(batch_id=batch.pk)
    assert sum(e.count for e in errors) == len(range(0, size, 7))
    assert errors.filter(suggested_action="").exists() == (size > 21)
