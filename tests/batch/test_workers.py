"""The engine with real worker processes: cancel, kill -9 mid-chunk, Redis flush, transient faults."""

from __future__ import annotations

import os
import signal
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from batch.recovery import batch_recover
from batch.runner import SLOT_LOCKS_SQL
from batch.services import batch_cancel
from tests.batch.conftest import wait_final, wait_until
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def database_url() -> str:
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"], scheme="postgresql"))


def hold_row_lock(workout_id: int) -> psycopg.Connection:
    """Lock a workout row from another connection, as a trainer's long edit would."""
    conn = psycopg.connect(database_url())
    conn.execute("SELECT id FROM workouts_workout WHERE id = %s FOR UPDATE", [workout_id])
    return conn


def create_ops(n: int) -> list[dict]:
    return [
        {"id": f"c{i}", "type": "CREATE", "data": {"workout": {"name": f"W{i}", "type": "AGILITY"}}}
        for i in range(n)
    ]


@pytest.mark.serial  # measures time: runs alone, after the parallel part
def test_cancel_takes_effect_before_the_next_chunk(submit, workers, team, trainer):
    batch = submit(create_ops(3000), chunkSize=1, parallel=False)
    workers.start()
    wait_until(lambda: Batch.objects.get(pk=batch.pk).succeeded >= 20, timeout=30)
    asked = time.monotonic()
    batch_cancel(batch_id=batch.pk, user=trainer)
    batch = wait_final(batch.pk, timeout=10)
    assert time.monotonic() - asked < 5
    assert batch.status == Batch.Status.CANCELLED
    assert batch.cancelled > 0 and batch.succeeded + batch.cancelled == batch.total_items
    # Committed chunks stay committed; nothing else was written.
    assert Workout.objects.filter(team=team).count() == batch.succeeded
    cancelled = BatchItem.objects.filter(batch=batch, status="CANCELLED").first()
    assert cancelled.error["code"] == "CANCELLED"


def test_kill_dash_nine_mid_chunk_loses_nothing_and_duplicates_nothing(submit, workers, team):
    targets = [WorkoutFactory(team=team) for _ in range(12)]
    ops = [
        {"id": f"u{i}", "type": "UPDATE", "data": {"workoutId": w.pk, "updates": {"notes": f"note {i}"}}}
        for i, w in enumerate(targets)
    ]
    batch = submit(ops, chunkSize=4, parallel=False)
    blocker = hold_row_lock(targets[5].pk)  # inside the second chunk
    try:
        victim = workers.start(BATCH_LOCK_TIMEOUT_MS="60000")
        wait_until(lambda: Batch.objects.get(pk=batch.pk).done_chunks == 1, timeout=30)
        time.sleep(0.5)  # the runner is now waiting on the lock inside chunk 2's transaction
        workers.kill(victim)
    finally:
        blocker.close()
    b = Batch.objects.get(pk=batch.pk)
    assert b.done_chunks == 1 and b.succeeded == 4 and not b.is_final
    assert BatchChunk.objects.filter(batch=batch, status="PENDING").count() == 2
    workers.start()  # a new worker reconciles on start and picks the batch up again
    batch = wait_final(batch.pk, timeout=60)
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 12
    for i, workout in enumerate(targets):
        workout.refresh_from_db()
        assert (workout.notes, workout.version) == (f"note {i}", 2)  # applied exactly once
    assert BatchChange.objects.filter(batch=batch).count() == 12


def slot_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.granted "
            f"AND {SLOT_LOCKS_SQL} AND d.datname = current_database()"
        )
        return cursor.fetchone()[0]


def live_children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            state, parent = stat.rsplit(")", 1)[1].split()[:2]
            if int(parent) == pid and state not in ("Z", "X"):
                found.append(int(entry))
    return found


def is_gone(pid: int) -> bool:
    """True when the process no longer runs (exited, or a zombie waiting for a reaper)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115
    except OSError:
        return True
    return state in ("Z", "X")


def test_kill_dash_nine_of_the_worker_alone_stops_its_work_horse(submit, workers, team):
    workout = WorkoutFactory(team=team)
    batch = submit(
        [{"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "x"}}}]
    )
    blocker = hold_row_lock(workout.pk)
    try:
        worker = workers.start(BATCH_LOCK_TIMEOUT_MS="60000")
        # The work horse runs the batch, waiting on the row lock (the start-up reconciler also takes
        # the slot lock for a moment, so wait for a live child as well).
        wait_until(lambda: slot_locks() == 1 and live_children(worker.pid), timeout=30)
        horses = live_children(worker.pid)
        assert len(horses) == 1
        os.kill(worker.pid, signal.SIGKILL)  # the worker only, as `kill -9 <pid>` would
        worker.wait(timeout=10)
        wait_until(lambda: is_gone(horses[0]), timeout=5)
        wait_until(lambda: slot_locks() == 0, timeout=5)
    finally:
        blocker.close()
    b = Batch.objects.get(pk=batch.pk)
    assert b.succeeded == 0 and not b.is_final  # nothing half-done; a new worker picks it up
    workers.start()
    assert wait_final(batch.pk).status == Batch.Status.COMPLETED
    workout.refresh_from_db()
    assert (workout.notes, workout.version) == ("x", 2)


def test_a_redis_flush_does_not_lose_the_batch(submit, workers, rq_queue, team):
    batch = submit(create_ops(30), chunkSize=5)
    assert rq_queue.count >= 1
    rq_queue.connection.flushdb()
    assert rq_queue.count == 0
    workers.start()  # reconciles from PostgreSQL on start
    batch = wait_final(batch.pk, timeout=60)
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 30
    assert Workout.objects.filter(team=team).count() == 30


def test_recover_reenqueues_only_missing_runners_and_finalizes_orphans(submit, rq_queue, run_worker):
    batch = submit(create_ops(10), chunkSize=5, maxConcurrency=2)
    assert rq_queue.count == 2
    assert [r.action for r in batch_recover()] == ["alive"]  # both jobs still wait in the queue
    rq_queue.empty()
    assert [r.action for r in batch_recover()] == ["enqueued 2"]
    run_worker()
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED


def test_transient_lock_timeouts_are_retried_with_backoff(submit, run_worker, team, settings):
    settings.BATCH_LOCK_TIMEOUT_MS = 150
    settings.BATCH_RETRY_BASE_DELAY_MS = 50
    workout = WorkoutFactory(team=team)
    batch = submit(
        [{"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "x"}}}],
        retryAttempts=6,
    )
    blocker = hold_row_lock(workout.pk)
    threading.Timer(0.6, blocker.close).start()
    run_worker()
    item = BatchItem.objects.get(batch=batch)
    assert item.status == "SUCCEEDED" and item.attempts > 1
    workout.refresh_from_db()
    assert workout.notes == "x" and workout.version == 2


def test_transient_faults_past_the_retry_budget_fail_recoverably(submit, run_worker, team, settings):
    settings.BATCH_LOCK_TIMEOUT_MS = 100
    settings.BATCH_RETRY_BASE_DELAY_MS = 10
    workout = WorkoutFactory(team=team)
    batch = submit(
        [
            {"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "x"}}},
            {"id": "c", "type": "CREATE", "data": {"workout": {"name": "other", "type": "HYBRID"}}},
        ],
        retryAttempts=1,
        chunkSize=1,
    )
    blocker = hold_row_lock(workout.pk)
    try:
        run_worker()
    finally:
        blocker.close()
    failed = BatchItem.objects.get(batch=batch, op_id="u")
    assert failed.status == "FAILED" and failed.error["code"] == "TRANSIENT_ERROR"
    assert failed.error["recoverable"] is True and failed.attempts == 2
    assert BatchItem.objects.get(batch=batch, op_id="c").status == "SUCCEEDED"
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED_WITH_ERRORS


def test_two_workers_share_a_batch_within_its_concurrency_cap(submit, workers, team):
    batch = submit(create_ops(400), chunkSize=10, maxConcurrency=2)
    assert batch.runner_slots == 2
    workers.start()
    workers.start()
    peak = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Batch.objects.get(pk=batch.pk).is_final:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                f"WHERE l.granted AND {SLOT_LOCKS_SQL} "
                "AND d.datname = current_database()"
            )
            peak = max(peak, cursor.fetchone()[0])
        time.sleep(0.02)
    batch = wait_final(batch.pk)
    assert batch.status == Batch.Status.COMPLETED and Workout.objects.filter(team=team).count() == 400
    assert 1 <= peak <= 2


def test_a_watched_batch_that_stalls_heals_itself(submit, rq_queue, run_worker, settings):
    from django.utils import timezone

    from batch.recovery import batch_nudge

    settings.BATCH_STALL_SECONDS = 30
    batch = submit(create_ops(4), chunkSize=2)
    rq_queue.empty()  # the runners' jobs are lost
    assert batch_nudge(Batch.objects.get(pk=batch.pk)) == []  # too early to call it stalled
    Batch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - timezone.timedelta(minutes=5))
    assert [r.action for r in batch_nudge(Batch.objects.get(pk=batch.pk))] == ["enqueued 2"]
    run_worker()
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED
