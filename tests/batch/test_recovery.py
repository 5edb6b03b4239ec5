"""Recovery after a cancel or a stop: undo what ran, resume what never ran, retry only where it can work."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from batch.actions import ResumeNotAllowed, RetryNotAllowed, batch_offers
from batch.models import Batch, BatchItem
from batch.resume import batch_resume
from batch.retry import batch_retry_failed
from batch.runner import run_next_chunk
from batch.services import batch_cancel
from batch.undo import batch_undo
from tests.batch.conftest import wait_final, wait_until
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def create_ops(n: int, prefix: str = "c") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "type": "CREATE",
            "data": {"workout": {"name": f"W{prefix}{i}", "type": "AGILITY"}},
        }
        for i in range(n)
    ]


def cancelled_after(submit, trainer, operations: list[dict], *, chunks: int) -> Batch:
    """Submit, run `chunks` chunks in this process, then cancel: the rest ends CANCELLED."""
    batch = submit(operations, chunkSize=2, parallel=False)
    for _ in range(chunks):
        assert run_next_chunk(batch_id=batch.pk) == "ran"
    return batch_cancel(batch_id=batch.pk, user=trainer)


def test_a_cancelled_batch_offers_undo_of_what_ran_and_resume_of_the_rest(submit, trainer, team, run_batches):
    batch = cancelled_after(submit, trainer, create_ops(10), chunks=2)
    assert (batch.status, batch.succeeded, batch.cancelled) == (Batch.Status.CANCELLED, 4, 6)
    offers = batch_offers([batch])[batch.pk]
    assert offers.undo and offers.resume == 6 and not offers.retry and not offers.force_undo

    resume = batch_resume(batch_id=batch.pk, user=trainer)
    assert (resume.kind, resume.resume_of_id, resume.total_items) == (Batch.Kind.RESUME, batch.pk, 6)
    assert sorted(BatchItem.objects.filter(batch=resume).values_list("op_id", flat=True)) == [
        f"c{i}" for i in range(4, 10)
    ]
    assert batch_resume(batch_id=batch.pk, user=trainer) == resume  # asked twice: the same resume
    run_batches()
    resume.refresh_from_db()
    assert resume.status == Batch.Status.COMPLETED
    assert Workout.objects.filter(team=team).count() == 10
    assert batch_offers([batch])[batch.pk].resume == 0
    with pytest.raises(ResumeNotAllowed, match="nothing left"):
        batch_resume(batch_id=resume.pk, user=trainer)


def test_the_batch_page_of_a_cancelled_batch_offers_undo_not_retry(submit, trainer, trainer_client):
    batch = cancelled_after(submit, trainer, create_ops(6), chunks=1)
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert reverse("batch:undo", args=[batch.pk]) in page
    assert "no longer available" not in page
    assert reverse("batch:retry", args=[batch.pk]) not in page


def test_a_stopped_batch_retries_the_failure_and_resumes_the_rest_separately(
    submit, trainer, team, run_batches
):
    bad = {"id": "bad", "type": "UPDATE", "data": {"workoutId": 999999, "updates": {"name": "x"}}}
    batch = submit(
        [bad, *create_ops(4)], chunkSize=1, parallel=False, stopOnError=True, validateBeforeExecute=False
    )
    run_batches()
    batch.refresh_from_db()
    assert (batch.failed, batch.skipped, batch.succeeded) == (1, 4, 0)
    offers = batch_offers([batch])[batch.pk]
    assert offers.retry and offers.resume == 4 and not offers.undo

    retry = batch_retry_failed(batch_id=batch.pk, user=trainer)
    assert list(BatchItem.objects.filter(batch=retry).values_list("op_id", flat=True)) == ["bad"]
    resume = batch_resume(batch_id=batch.pk, user=trainer)
    assert sorted(BatchItem.objects.filter(batch=resume).values_list("op_id", flat=True)) == [
        "c0",
        "c1",
        "c2",
        "c3",
    ]
    run_batches()
    assert Workout.objects.filter(team=team).count() == 4


def test_an_undone_batch_offers_no_retry_and_resumes_without_what_depended_on_undone_work(
    submit, trainer, team, run_batches
):
    operations = [
        *create_ops(2),
        {
            "id": "rename",
            "type": "UPDATE",
            "dependencies": ["c0"],
            "data": {"workoutId": {"$ref": "c0"}, "updates": {"name": "renamed"}},
        },
        {"id": "bad", "type": "UPDATE", "data": {"workoutId": 999999, "updates": {"name": "x"}}},
    ]
    batch = submit(operations, chunkSize=4, parallel=False, validateBeforeExecute=False)
    assert run_next_chunk(batch_id=batch.pk) == "ran"  # level 0: c0, c1, bad
    batch = batch_cancel(batch_id=batch.pk, user=trainer)
    assert (batch.succeeded, batch.failed, batch.cancelled) == (2, 1, 1)
    batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.UNDONE
    assert not Workout.objects.filter(team=team).exists()
    offers = batch_offers([batch])[batch.pk]
    assert not offers.retry and not offers.undo
    with pytest.raises(RetryNotAllowed, match="undone"):
        batch_retry_failed(batch_id=batch.pk, user=trainer)
    # The rename depends on c0, whose workout the undo deleted: nothing in the rest can run.
    assert offers.resume == 1
    with pytest.raises(ResumeNotAllowed, match="depends on work that was undone"):
        batch_resume(batch_id=batch.pk, user=trainer)


def test_an_undone_cancelled_batch_resumes_the_rest(submit, trainer, team, run_batches):
    batch = cancelled_after(submit, trainer, create_ops(6), chunks=1)
    batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.UNDONE and not Workout.objects.filter(team=team).exists()
    resume = batch_resume(batch_id=batch.pk, user=trainer)
    run_batches()
    resume.refresh_from_db()
    assert resume.total_items == 4 and resume.status == Batch.Status.COMPLETED
    assert Workout.objects.filter(team=team).count() == 4


def test_a_rolled_back_batch_is_not_resumed(submit, trainer, run_batches):
    bad = {"id": "bad", "type": "UPDATE", "data": {"workoutId": 999999, "updates": {"name": "x"}}}
    batch = submit(
        [*create_ops(2), bad, *create_ops(3, "d")],
        chunkSize=2,
        parallel=False,
        rollbackOnError=True,
        validateBeforeExecute=False,
    )
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.ROLLED_BACK
    assert batch_offers([batch])[batch.pk].resume == 0
    with pytest.raises(ResumeNotAllowed, match="rolled back"):
        batch_resume(batch_id=batch.pk, user=trainer)


def test_a_running_batch_offers_nothing_and_the_offers_of_a_page_cost_constant_queries(
    submit, trainer, run_batches, django_assert_max_num_queries
):
    running = submit(create_ops(2, "r"))
    ended = [cancelled_after(submit, trainer, create_ops(4, f"b{n}-"), chunks=1) for n in range(4)]
    offers = batch_offers([running])[running.pk]
    assert not (offers.undo or offers.retry or offers.resume)
    batches = list(Batch.objects.filter(pk__in=[b.pk for b in ended]))
    with django_assert_max_num_queries(5):
        offers = batch_offers(batches)
    assert {o.resume for o in offers.values()} == {2} and all(o.undo for o in offers.values())


def test_batch_resume_command_resumes_and_names_the_new_batch(submit, trainer):
    batch = cancelled_after(submit, trainer, create_ops(4), chunks=1)
    out = StringIO()
    call_command("batch_resume", str(batch.pk), stdout=out)
    resume = batch.resumes.get()
    assert f"Resume batch {resume.pk} of batch {batch.pk}: 2 items" in out.getvalue()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_cancel_then_undo_then_resume_through_worker_processes(submit, workers, trainer, team):
    batch = submit(create_ops(400), chunkSize=1, parallel=False)
    workers.start()
    wait_until(lambda: Batch.objects.get(pk=batch.pk).succeeded >= 10, timeout=30)
    batch_cancel(batch_id=batch.pk, user=trainer)
    batch = wait_final(batch.pk)
    ran, left = batch.succeeded, batch.cancelled
    assert batch.status == Batch.Status.CANCELLED and ran >= 10 and ran + left == 400
    offers = batch_offers([batch])[batch.pk]
    assert offers.undo and offers.resume == left and not offers.retry

    undo = wait_final(batch_undo(batch_id=batch.pk, user=trainer).pk)
    assert undo.status == Batch.Status.COMPLETED and undo.succeeded == ran
    assert not Workout.objects.filter(team=team).exists()

    resume = wait_final(batch_resume(batch_id=batch.pk, user=trainer).pk)
    assert (resume.status, resume.succeeded) == (Batch.Status.COMPLETED, left)
    assert Workout.objects.filter(team=team).count() == left
