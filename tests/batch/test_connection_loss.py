"""A runner whose database connection is terminated mid-chunk re-enqueues its slot before its job
ends, so the batch goes on within seconds on a live worker, with no reconciler running."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from batch.models import Batch, BatchChange, BatchChunk
from batch.runner import SLOT_LOCKS_SQL
from tests.batch.conftest import wait_until
from tests.batch.test_workers import hold_row_lock
from tests.factories import WorkoutFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def runner_backend(batch_id: int) -> int | None:
    """The PostgreSQL backend pid of the runner holding a slot of this batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.granted "
            f"AND {SLOT_LOCKS_SQL} AND d.datname = current_database() AND l.objid = %s",
            [batch_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.serial  # measures time: runs alone, after the parallel part
def test_a_terminated_runner_connection_resumes_the_batch_without_the_reconciler(submit, workers, team):
    targets = [WorkoutFactory(team=team) for _ in range(12)]
    ops = [
        {"id": f"u{i}", "type": "UPDATE", "data": {"workoutId": w.pk, "updates": {"notes": f"note {i}"}}}
        for i, w in enumerate(targets)
    ]
    batch = submit(ops, chunkSize=4, parallel=False)
    blocker = hold_row_lock(targets[5].pk)  # inside the second chunk
    try:
        # One worker, no reconciler process; recovery on start has happened before the fault.
        workers.start(BATCH_LOCK_TIMEOUT_MS="60000")
        wait_until(lambda: Batch.objects.get(pk=batch.pk).done_chunks == 1, timeout=60)
        wait_until(lambda: runner_backend(batch.pk) is not None, timeout=10)
        time.sleep(0.5)  # the runner now waits on the row lock inside chunk 2's transaction
        pid = runner_backend(batch.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
        terminated = time.monotonic()
        # A new runner job holds the slot on a new session within seconds (it is waiting on the same
        # row lock in chunk 2 again): the old one did not carry on unlocked under a new connection.
        wait_until(lambda: runner_backend(batch.pk) not in (None, pid), timeout=10)
        resumed_in = time.monotonic() - terminated
    finally:
        blocker.close()
    wait_until(lambda: Batch.objects.get(pk=batch.pk).is_final, timeout=30)
    b = Batch.objects.get(pk=batch.pk)
    assert b.status == Batch.Status.COMPLETED and b.succeeded == 12, (b.status, b.succeeded)
    assert resumed_in < 10
    assert not BatchChunk.objects.filter(batch=batch).exclude(status="DONE").exists()
    for i, workout in enumerate(targets):
        workout.refresh_from_db()
        assert (workout.notes, workout.version) == (f"note {i}", 2)  # chunk 2 applied exactly once
    assert BatchChange.objects.filter(batch=batch).count() == 12


def test_a_connection_lost_between_chunks_hands_the_slot_to_a_new_job(submit, rq_queue, run_worker):
    """The session dies while the runner is between chunks (no transaction to retry): run_turn
    re-enqueues the slot instead of failing the job, and a worker finishes the batch."""
    from batch.runner import run_turn

    batch = submit([{"id": "c", "type": "CREATE", "data": {"workout": {"name": "W"}}}])
    rq_queue.empty()  # the runner submit enqueued: this test runs the turn itself
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    import psycopg

    from tests.batch.test_workers import database_url

    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [mine])
    assert run_turn(batch_id=batch.pk, slot=0) == "connection-lost"
    assert [job.args for job in rq_queue.jobs] == [(batch.pk, 0)]
    run_worker()
    b = Batch.objects.get(pk=batch.pk)
    assert b.status == Batch.Status.COMPLETED and b.succeeded == 1
