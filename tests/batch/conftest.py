"""Fixtures to run batches: in this process (the runner itself, no Redis), through an in-process burst
RQ worker, or through real worker processes.

Most engine tests want `run_batches`: the runner as a worker runs it, inside the test's transaction, so
they need neither a committed database nor Redis. Real workers stay for what only they show: the queue,
locking across connections, crashes, cancels from another process, the browser.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from rq import SimpleWorker, Worker

from batch.models import Batch
from batch.queueing import queue
from batch.runner import run_batch
from batch.services import batch_submit

ROOT = Path(__file__).resolve().parents[2]


def forget_workers(q) -> None:
    """Drop the registrations that earlier tests' workers left on this test run's queue (a killed or
    in-process worker keeps its key until it expires), so a test sees only the workers it starts."""
    for worker in Worker.all(queue=q):
        worker.register_death()


@pytest.fixture
def rq_queue(transactional_db):
    q = queue()
    q.empty()
    forget_workers(q)
    yield q
    q.empty()


def burst() -> None:
    """Work the batch queue in this process until it is empty (no fork: shares the test's database)."""
    q = queue()
    SimpleWorker([q], connection=q.connection).work(burst=True, logging_level="WARNING")


@pytest.fixture
def run_worker(rq_queue) -> Callable[[], None]:
    return burst


MAX_PASSES = 20


def run_unfinished() -> None:
    """Run every unfinished batch in this process, every runner slot, until all are final.

    A batch may start another one as it ends (rollbackOnError starts its undo), so this loops, at most
    MAX_PASSES times. Runners the engine enqueues on commit never reach Redis here: the test's
    transaction never commits (capture them with django_capture_on_commit_callbacks to assert them).
    """
    for _ in range(MAX_PASSES):
        unfinished = list(
            Batch.objects.exclude(status__in=Batch.FINAL_STATUSES)
            .order_by("pk")
            .values_list("pk", "runner_slots")
        )
        if not unfinished:
            return
        for batch_id, slots in unfinished:
            for slot in range(slots):
                run_batch(batch_id=batch_id, slot=slot)
    raise AssertionError(f"batches still unfinished after {MAX_PASSES} passes: {unfinished}")


@pytest.fixture
def run_batches(db) -> Callable[[], None]:
    return run_unfinished


@pytest.fixture
def submit(trainer, team) -> Callable[..., Batch]:
    def _submit(operations: list[dict], user=None, **options) -> Batch:
        raw = {"operations": operations, "options": options, "metadata": {"source": "test"}}
        return batch_submit(user=user or trainer, team=team, raw=raw, source="test")

    return _submit


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a worker process that uses this test run's database and queue."""
    env = os.environ.copy()
    parts = urlsplit(settings.DATABASE_URL)
    env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env["RQ_QUEUE_NAME"] = settings.RQ_QUEUE_NAME
    env.update(extra)
    return env


class WorkerProcesses:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, *, burst: bool = False, faulty: bool = False, **env: str) -> subprocess.Popen:
        """Start `batch_worker`; `faulty` also registers the test-only types of faulty_executors.py."""
        entry = ["-m", "tests.batch.faulty_worker"] if faulty else ["manage.py", "batch_worker"]
        args = [sys.executable, *entry, "-v", "0"]
        if burst:
            args.append("--burst")
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=worker_env(**env),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Kill the worker and its work horse (the whole process group)."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGKILL)


@pytest.fixture
def workers(rq_queue) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses()
    yield procs
    procs.stop_all()


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def wait_final(batch_id: int, timeout: float = 60.0) -> Batch:
    wait_until(lambda: Batch.objects.get(pk=batch_id).is_final, timeout=timeout)
    return Batch.objects.get(pk=batch_id)
