"""The RQ worker class batch_worker runs: its work horse dies with it, and a dead horse's runner returns.

RQ forks a work horse per job and puts it in its own process group, so a plain `kill -9` of the worker
used to leave the horse running its batch. Here the horse asks the kernel for SIGKILL when its parent
dies (Linux `PR_SET_PDEATHSIG`). When a horse dies on its own (out of memory, a segfault, `kill -9` of
the horse), the worker re-enqueues that batch's missing runners at once instead of waiting for the
reconciler; the chunk it held counts the crash (see `BatchChunk.attempts`).
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

from batch.queueing import RUNNER_JOB
from batch.recovery import batch_recover
from hockeyhub.heartbeat import beat, forget

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


class BatchWorker(Worker):
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
