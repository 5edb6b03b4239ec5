"""Fair scheduling: time slices, undo first, one team cannot take every worker."""

from __future__ import annotations

import time

import psycopg
import pytest

from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.queueing import enqueue_runner, waiting_batches
from batch.request import parse_request
from batch.runner import over_team_share, run_turn, runner_slot, slot_is_free, slot_lock_key
from batch.services import batch_cancel, batch_submit
from batch.store import create_batch
from tests.batch.conftest import wait_final, wait_until
from tests.batch.test_workers import create_ops, database_url
from workouts.models import Workout

pytestmark = pytest.mark.django_db(transaction=True)


def submit_as(user, team, operations: list[dict], **options) -> Batch:
    raw = {"operations": operations, "options": options, "metadata": {"source": "test"}}
    return batch_submit(user=user, team=team, raw=raw, source="test")


def hold_slot(batch_id: int, slot: int = 0) -> psycopg.Connection:
    """Stand in for a live runner of the batch: hold its slot lock from another session."""
    conn = psycopg.connect(database_url(), autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s::int, %s::int)", slot_lock_key(batch_id, slot))
    return conn


def test_a_runner_yields_after_its_slice_when_another_job_waits(submit, rq_queue, settings):
    settings.BATCH_TIME_SLICE_MS = 50
    big = submit(create_ops(400), chunkSize=5, parallel=False)
    rq_queue.empty()
    other = submit(create_ops(3), chunkSize=5)
    assert run_turn(batch_id=big.pk, slot=0) == "yielded"
    big.refresh_from_db()
    assert 0 < big.done_chunks < big.total_chunks
    assert waiting_batches() == [other.pk, big.pk]  # the yielded runner waits behind the other batch


def test_a_runner_alone_in_the_queue_keeps_its_worker_past_the_slice(submit, rq_queue, settings):
    settings.BATCH_TIME_SLICE_MS = 50
    batch = submit(create_ops(60), chunkSize=2, parallel=False)
    rq_queue.empty()
    assert run_turn(batch_id=batch.pk, slot=0) == "done"
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED
    assert waiting_batches() == []


def test_undo_and_rollback_runners_go_to_the_front_of_the_queue(submit, rq_queue):
    first = submit(create_ops(2))
    undo = submit(create_ops(2))
    Batch.objects.filter(pk=undo.pk).update(kind=Batch.Kind.UNDO)
    later = submit(create_ops(2))
    enqueue_runner(batch_id=undo.pk, slot=0)
    assert waiting_batches() == [undo.pk, first.pk, undo.pk, later.pk]


def test_a_team_running_more_than_another_waiting_team_gives_way(
    trainer, team, other_trainer, other_team, rq_queue
):
    mine = submit_as(trainer, team, create_ops(20), chunkSize=5, maxConcurrency=2)
    theirs = submit_as(other_trainer, other_team, create_ops(20), chunkSize=5, maxConcurrency=1)
    assert waiting_batches() == [mine.pk, mine.pk, theirs.pk]
    running = hold_slot(mine.pk, 0)
    try:
        # Slot 1 of my batch would make it two runners against none: it gives way.
        assert over_team_share(mine.pk) is True
        theirs_running = hold_slot(theirs.pk, 0)
        try:
            assert over_team_share(mine.pk) is False  # one each: no one gives way
        finally:
            theirs_running.close()
    finally:
        running.close()
    assert over_team_share(mine.pk) is False  # nothing of mine runs: I go first
    rq_queue.empty()
    running = hold_slot(mine.pk, 0)
    try:
        assert over_team_share(mine.pk) is False  # nobody else waits
    finally:
        running.close()


def test_an_undo_never_gives_way(trainer, team, other_trainer, other_team, rq_queue):
    undo = submit_as(trainer, team, create_ops(4), chunkSize=2, maxConcurrency=2)
    Batch.objects.filter(pk=undo.pk).update(kind=Batch.Kind.UNDO)
    submit_as(other_trainer, other_team, create_ops(4))
    running = hold_slot(undo.pk, 0)
    try:
        assert over_team_share(undo.pk) is False
    finally:
        running.close()


@pytest.mark.serial  # measures time: runs alone, after the parallel part
@pytest.mark.worker
def test_another_teams_small_batch_finishes_within_two_seconds_while_a_big_one_runs(
    trainer, team, other_trainer, other_team, workers
):
    workers.start()
    workers.start()
    # The big batch skips the dry run (not what this test is about) to keep the test short.
    request, problems = parse_request(
        {"operations": create_ops(60_000), "options": {"chunkSize": 100, "maxConcurrency": 2}}
    )
    assert problems == []
    big = create_batch(user=trainer, team=team, request=request, source="test", channel="test")
    wait_until(lambda: Batch.objects.get(pk=big.pk).done_chunks >= 4, timeout=60)  # both workers busy
    asked = time.monotonic()
    small = submit_as(other_trainer, other_team, create_ops(10))
    small = wait_final(small.pk, timeout=30)
    waited = time.monotonic() - asked
    batch_cancel(batch_id=big.pk, user=trainer)
    big = wait_final(big.pk, timeout=30)
    assert small.status == Batch.Status.COMPLETED and waited < 2.5, waited
    assert big.status == Batch.Status.CANCELLED and 0 < big.succeeded < 60_000
    # No chunk ran twice: each done chunk was tried once, and every success wrote exactly one workout.
    for batch in (big, small):
        tries = set(BatchChunk.objects.filter(batch=batch, attempts__gt=0).values_list("attempts", flat=True))
        assert tries == {1}
    assert Workout.objects.filter(team=team).count() == big.succeeded
    assert BatchChange.objects.filter(batch=big).count() == big.succeeded
    assert Workout.objects.filter(team=other_team).count() == 10
    assert BatchItem.objects.filter(batch=big, status="SUCCEEDED").count() == big.succeeded


@pytest.mark.django_db(transaction=True)
def test_runner_slot_locks_work_for_batch_ids_far_beyond_33_million():
    huge = 2_000_000_000
    assert slot_is_free(huge, 15)
    with runner_slot(huge, 15) as acquired:
        assert acquired
        other = psycopg.connect(database_url(), autocommit=True)
        try:  # another session sees the slot taken, and only that slot
            taken = other.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", slot_lock_key(huge, 15))
            assert taken.fetchone()[0] is False
            for key in (slot_lock_key(huge, 14), slot_lock_key(huge - 1, 15)):
                assert other.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", key).fetchone()[0]
        finally:
            other.close()
    assert slot_is_free(huge, 15)
