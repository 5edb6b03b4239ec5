"""Runner slots and fair turns: a slot's advisory lock, one job's time slice, a team's fair share."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection

from batch.models import Batch
from batch.queueing import enqueue_runner, queue, waiting_batches
from batch.runner.atomic import all_or_nothing, run_all_or_nothing
from batch.runner.chunks import run_next_chunk
from batch.runner.failures import connection_lost
from batch.runner.finalize import batch_finalize
from batch.runner.progress import must_stop
from hockeyhub.logs import bound

ADVISORY_NAMESPACE = 0x4842  # "HB": (namespace * 256 + slot, batch_id) is a runner slot
# Reads the slot locks back from pg_locks (alias l); the batch id is l.objid.
SLOT_LOCKS_SQL = (
    f"l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid::bigint / 256 = {ADVISORY_NAMESPACE}"
)
CLIENT_CHECK_INTERVAL = "1s"
IDLE_SLEEP_SECONDS = 0.05
SLOT_FREE_WAIT_SECONDS = 5.0

log = logging.getLogger("batch")


def slot_lock_key(batch_id: int, slot: int) -> tuple[int, int]:
    """Return the two int4 keys of a runner slot's advisory lock: (namespace and slot, batch id).

    The batch id gets a whole int4 (ids up to 2^31 - 1); packing it with the slot into one int4 would
    overflow from batch 33,554,432 on."""
    if not 0 <= slot < 256:
        raise ValueError(f"runner slot {slot} out of range 0..255")
    return ADVISORY_NAMESPACE * 256 + slot, batch_id


@contextmanager
def runner_slot(batch_id: int, slot: int) -> Iterator[bool]:
    """Hold the slot's advisory lock for the runner's life; yield False if another runner has it."""
    key = slot_lock_key(batch_id, slot)
    with connection.cursor() as cursor:
        # A backend waiting on a row lock does not notice its client died; this makes it check, so a
        # killed runner's locks (its slot, its chunk) go within a second, not when the wait ends.
        cursor.execute("SET client_connection_check_interval = %s", [CLIENT_CHECK_INTERVAL])
        cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", key)
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired and connection.connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", key)
            except DatabaseError as exc:
                if not connection_lost(exc):
                    raise
                # The lock ended with the session; the error that lost it is on its way up.


def slot_is_free(batch_id: int, slot: int) -> bool:
    """Return True when no live runner holds the slot (the check takes and drops the lock)."""
    key = slot_lock_key(batch_id, slot)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", key)
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", key)
    return free


def run_turn(*, batch_id: int, slot: int) -> str:
    """One runner job: give way if the team has more than its share, else run a slice; re-enqueue after.

    The job re-enqueues its slot only after `run_batch` released the slot's lock, so the next job for
    the slot never finds it busy.
    """
    try:
        if over_team_share(batch_id):
            enqueue_runner(batch_id=batch_id, slot=slot)
            return "deferred"
        outcome = run_batch(batch_id=batch_id, slot=slot, slice_seconds=settings.BATCH_TIME_SLICE_MS / 1000)
    except Exception as exc:
        if not connection_lost(exc):
            raise
        hand_over_slot(batch_id=batch_id, slot=slot, exc=exc)
        return "connection-lost"
    if outcome == "yielded":
        enqueue_runner(batch_id=batch_id, slot=slot)
    return outcome


def hand_over_slot(*, batch_id: int, slot: int, exc: BaseException) -> None:
    """The runner's database session is gone (terminated, failed over, the network): re-enqueue its
    slot before this job ends, so the batch goes on without waiting for the reconciler.

    The dead session's locks (slot and chunk) are released by PostgreSQL; wait briefly for the slot to
    show free on a new connection so the next runner does not find it busy and give up. If the
    database cannot be reached at all, this raises and the reconciler (or a worker's start) recovers.
    """
    log.warning("batch %s slot %s: database connection lost (%s); re-enqueuing the slot", batch_id, slot, exc)
    with contextlib.suppress(Exception):
        connection.close()
    deadline = time.monotonic() + SLOT_FREE_WAIT_SECONDS
    while not slot_is_free(batch_id, slot) and time.monotonic() < deadline:
        time.sleep(0.1)
    enqueue_runner(batch_id=batch_id, slot=slot)


def run_batch(*, batch_id: int, slot: int = 0, slice_seconds: float | None = None) -> str:
    """Work the batch until nothing is left for this runner; return why it stopped.

    With `slice_seconds`, stop with "yielded" after the first chunk that ends past the slice if
    another job waits in the queue (with nobody waiting, the runner goes on for another slice).
    """
    with bound(batch_id=batch_id, slot=slot), runner_slot(batch_id, slot) as acquired:
        if not acquired:
            return "slot-busy"
        deadline = None if slice_seconds is None else time.monotonic() + slice_seconds
        while True:
            batch = Batch.objects.only("status", "options", "failed", "kind").get(pk=batch_id)
            if batch.is_final:
                return "final"
            if batch.status == Batch.Status.CANCELLING or must_stop(batch):
                batch_finalize(batch_id=batch_id)
                return "stopped"
            if all_or_nothing(batch.options) and batch.kind != Batch.Kind.UNDO:
                # One transaction, one runner: other slots (none, normally) have nothing to do.
                return run_all_or_nothing(batch_id=batch_id) if slot == 0 else "done"
            outcome = run_next_chunk(batch_id=batch_id)
            if outcome == "empty":
                batch_finalize(batch_id=batch_id)
                return "done"
            if outcome == "wait":
                time.sleep(IDLE_SLEEP_SECONDS)
            if deadline is not None and time.monotonic() >= deadline:
                if queue().count:
                    return "yielded"
                deadline = time.monotonic() + slice_seconds


def over_team_share(batch_id: int) -> bool:
    """True when another team's runner waits in the queue while this team runs more runners than it.

    Undo and rollback runners never give way. Queries: 3 and one Redis read, only when jobs wait.
    """
    waiting = set(waiting_batches()) - {batch_id}
    if not waiting:
        return False
    batch = Batch.objects.only("team_id", "kind").get(pk=batch_id)
    if batch.kind == Batch.Kind.UNDO:
        return False
    running = running_per_team()
    mine = running.get(batch.team_id, 0)
    if mine == 0:
        return False
    teams = set(
        Batch.objects.filter(pk__in=waiting, status__in=Batch.ACTIVE_STATUSES)
        .exclude(team_id=batch.team_id)
        .values_list("team_id", flat=True)
    )
    return any(running.get(team, 0) < mine for team in teams)


def running_per_team() -> dict[int, int]:
    """Return live runners per team, read from the slot locks PostgreSQL holds (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.team_id, count(*) FROM pg_locks l "
            "JOIN batch_batch b ON b.id = l.objid::bigint "
            f"WHERE l.granted AND {SLOT_LOCKS_SQL} "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "GROUP BY b.team_id"
        )
        return dict(cursor.fetchall())
