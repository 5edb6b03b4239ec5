"""Queue webhook deliveries that are due, found in the delivery log (after a Redis loss, say)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from webhooks.services import webhook_deliveries_recover


class Command(BaseCommand):
    help = "Queue pending webhook deliveries whose time has come; --watch N repeats every N seconds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--watch", type=float, metavar="SECONDS", help="Repeat every SECONDS seconds")

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            close_old_connections()
            count = webhook_deliveries_recover()
            self.stdout.write(f"{count} due webhook deliveries queued.")
            if not opts["watch"]:
                return
            time.sleep(max(1.0, opts["watch"]))
