"""The RQ worker class batch_worker runs: its work horse dies with it, and a dead horse's runner returns.

RQ forks a work horse per job and puts it in its own process group, so a plain `kill -9` of the worker
used to leave the horse running its batch. Here the horse asks the kernel for SIGKILL when its parent
dies (Linux `PR_SET_PDEATHSIG`). When a horse dies on its own (out of memory, a segfault, `kill -9` of
the horse), the worker re-enqueues that batch's missing runners at once instead of waiting for the
reconciler; the chunk it held counts the crash (see `BatchChunk.attempts`).

Every child of a worker dies with it: the work horse and the RQ scheduler child (which would otherwise
outlive a `kill -9` of its worker, holding the scheduler locks). `BatchWorkerPool` is RQ's own worker
pool (what django-rq's `rqworker-pool` runs): it replaces a dead worker within a second, its workers
die with it, and it runs the reconciler (and the hooks other apps add to RECONCILE_HOOKS, such as due
webhook deliveries) every `reconcile_seconds`, so one supervised process serves the whole queue side.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from typing import Any

from django.db import connections
from rq import Worker
from rq.scheduler import RQScheduler
from rq.worker_pool import WorkerPool

from batch.queueing import RUNNER_JOB
from batch.recovery import batch_recover
from hockeyhub.heartbeat import HEARTBEAT_SECONDS, beat, forget
from hockeyhub.reconcile import RECONCILE_HOOKS

log = logging.getLogger("batch")

PR_SET_PDEATHSIG = 1
SLOT_FREE_WAIT_SECONDS = 5.0


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def batch_of(job: Any) -> int | None:
    """Return the batch id a runner job works on, or None for any other job."""
    if getattr(job, "func_name", "") != RUNNER_JOB:
        return None
    return int(job.args[0])


class DiesWithWorkerScheduler(RQScheduler):
    """RQ's scheduler process, bound to the worker that forked it (PR_SET_PDEATHSIG)."""

    def start(self) -> Any:
        self._worker_pid = os.getpid()
        return super().start()

    def work(self) -> None:
        die_with_parent(self._worker_pid)
        super().work()


class BatchWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Beat every HEARTBEAT_SECONDS while idle (RQ's default ttl beats every 405 s): /healthz counts beats.
        kwargs["worker_ttl"] = min(kwargs.get("worker_ttl") or 420, HEARTBEAT_SECONDS + 15)
        super().__init__(*args, **kwargs)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = "%H:%M:%S",
        log_format: str = "%(asctime)s %(message)s",
    ) -> None:
        """RQ's own start-up of the scheduler, with a scheduler that dies with this worker."""
        self.scheduler = DiesWithWorkerScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        # Our own key, written again on every beat: /healthz counts it, and a flushed Redis has it
        # back within one beat (RQ's worker registry is written only at birth).
        with contextlib.suppress(Exception):
            beat(self.connection, self.name, timeout or self.worker_ttl + 60)

    def register_death(self) -> None:
        with contextlib.suppress(Exception):
            forget(self.connection, self.name)
        super().register_death()

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        self._parent_pid = os.getpid()
        super().fork_work_horse(job, queue)

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()
        die_with_parent(self._parent_pid)

    def handle_work_horse_killed(self, job: Any, retpid: Any, ret_val: Any, rusage: Any) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        batch_id = batch_of(job)
        if batch_id is None:
            return
        try:
            # The horse's session (and its slot lock) ends as PostgreSQL sees the socket close.
            deadline = time.monotonic() + SLOT_FREE_WAIT_SECONDS
            while True:
                report = batch_recover(batch_ids=[batch_id])
                if any(r.action != "alive" for r in report) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            log.warning("batch %s: work horse died; recovery: %s", batch_id, [r.action for r in report])
        finally:
            # The next horse is forked from this process: it must not inherit an open connection.
            with contextlib.suppress(Exception):
                connections.close_all()


class PooledBatchWorker(BatchWorker):
    """A worker forked by BatchWorkerPool: it dies with the pool's master, so nothing is orphaned."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        die_with_parent(os.getppid())
        super().__init__(*args, **kwargs)


class BatchWorkerPool(WorkerPool):
    """RQ's worker pool: keeps `num_workers` PooledBatchWorkers alive (a dead one is replaced within a
    second) and reconciles every `reconcile_seconds` (0: never) from its master process."""

    def __init__(self, *args: Any, reconcile_seconds: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reconcile_seconds = reconcile_seconds
        self._next_reconcile = time.monotonic() + reconcile_seconds

    def check_workers(self, respawn: bool = True) -> None:
        if self.reconcile_seconds and time.monotonic() >= self._next_reconcile:
            self._next_reconcile = time.monotonic() + self.reconcile_seconds
            reconcile()
        super().check_workers(respawn=respawn)

    def handle_dead_worker(self, worker_data: Any) -> None:
        log.warning("worker pid %s died; the pool starts another", worker_data.pid)
        super().handle_dead_worker(worker_data)
        # Its job (a runner's turn) died with it: reconcile in a second (once its work horse's session
        # and slot lock are gone), not at the next round, so that batch goes on within seconds.
        if self.reconcile_seconds:
            self._next_reconcile = min(self._next_reconcile, time.monotonic() + 1.0)


def reconcile() -> None:
    """The reconciler and its hooks, each failure logged, never raised; connections closed after, as
    the pool's master forks workers."""
    try:
        for job in (batch_recover, *RECONCILE_HOOKS):
            try:
                job()
            except Exception:  # noqa: BLE001 - a reconciler that raises must not stop the pool
                log.exception("reconciler step %s failed", getattr(job, "__name__", job))
    finally:
        with contextlib.suppress(Exception):
            connections.close_all()
