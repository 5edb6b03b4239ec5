from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from batch.recovery import batch_recover


class Command(BaseCommand):
    help = "Re-enqueue runners for unfinished batches that have none (after a crash or a Redis flush)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--watch", type=float, metavar="SECONDS", help="Repeat every SECONDS until stopped"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            for entry in batch_recover():
                self.stdout.write(f"batch {entry.batch_id}: {entry.action}")
            if not opts.get("watch"):
                return
            time.sleep(opts["watch"])
