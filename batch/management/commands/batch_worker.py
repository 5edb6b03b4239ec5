from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from batch.recovery import batch_recover
from batch.worker import BatchWorkerPool, PooledBatchWorker
from hockeyhub.heartbeat import HEARTBEAT_SECONDS


class Command(BaseCommand):
    help = "Run an RQ worker on the batch queue, after re-enqueuing runners for stalled batches."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty")
        parser.add_argument("--no-recover", action="store_true", help="Skip the start-up reconciliation")
        parser.add_argument("--name", help="Worker name")
        parser.add_argument(
            "--pool",
            type=int,
            metavar="N",
            help="Run N workers under RQ's worker pool, which replaces a dead one (and reconciles)",
        )
        parser.add_argument(
            "--reconcile-every",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="With --pool: run the reconciler every SECONDS (0: never)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.BATCH_RECOVER_ON_WORKER_START and not opts["no_recover"]:
            batch_recover()  # what it does is logged (JSON lines, like everything else a worker says)
        if opts.get("pool"):
            self.run_pool(opts["pool"], opts["reconcile_every"], opts["burst"], opts.get("verbosity", 1))
            return
        # rqworker closes the DB connections before forking work horses.
        # Webhook deliveries share the worker; the scheduler moves their delayed retries onto the queue.
        call_command(
            "rqworker",
            settings.RQ_QUEUE_NAME,
            settings.WEBHOOK_QUEUE_NAME,
            with_scheduler=True,
            burst=opts["burst"],
            worker_class="batch.worker.BatchWorker",
            name=opts.get("name"),
            # Heartbeats every HEARTBEAT_SECONDS while idle (RQ's default is every 405 s), which /healthz
            # counts (hockeyhub.heartbeat).
            worker_ttl=HEARTBEAT_SECONDS + 15,
            verbosity=opts.get("verbosity", 1),
        )

    def run_pool(self, count: int, reconcile_seconds: float, burst: bool, verbosity: int) -> None:
        queues = [
            django_rq.get_queue(settings.RQ_QUEUE_NAME),
            django_rq.get_queue(settings.WEBHOOK_QUEUE_NAME),
        ]
        pool = BatchWorkerPool(
            queues=queues,
            connection=queues[0].connection,
            num_workers=count,
            worker_class=PooledBatchWorker,
            reconcile_seconds=reconcile_seconds,
        )
        connections.close_all()  # the pool forks its workers
        pool.start(burst=burst, logging_level="WARNING" if verbosity == 0 else "INFO")
