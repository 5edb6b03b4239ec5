from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from batch.recovery import batch_recover
from hockeyhub.heartbeat import HEARTBEAT_SECONDS


class Command(BaseCommand):
    help = "Run an RQ worker on the batch queue, after re-enqueuing runners for stalled batches."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty")
        parser.add_argument("--no-recover", action="store_true", help="Skip the start-up reconciliation")
        parser.add_argument("--name", help="Worker name")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.BATCH_RECOVER_ON_WORKER_START and not opts["no_recover"]:
            batch_recover()  # what it does is logged (JSON lines, like everything else a worker says)
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
