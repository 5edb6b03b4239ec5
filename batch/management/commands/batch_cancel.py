from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batch.management.commands._common import get_batch
from batch.services import batch_cancel


class Command(BaseCommand):
    help = "Cancel a batch: no new chunk starts; remaining items end CANCELLED."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        get_batch(opts["batch_id"])
        batch = batch_cancel(batch_id=opts["batch_id"], user=None, channel="command")
        self.stdout.write(f"Batch {batch.pk}: {batch.status}")
