from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.actions import BatchActionRefused
from batch.management.commands._common import EXIT_QUOTA, get_batch, wait_for
from batch.quotas import QuotaExceeded
from batch.retry import batch_retry_failed


class Command(BaseCommand):
    help = "Retry a batch's failed items as a new batch linked to it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--wait", action="store_true", help="Follow the retry until it ends")

    def handle(self, *args: Any, **opts: Any) -> None:
        get_batch(opts["batch_id"])
        try:
            retry = batch_retry_failed(batch_id=opts["batch_id"], user=None, channel="command")
        except BatchActionRefused as exc:
            raise CommandError(exc.message) from exc
        except QuotaExceeded as exc:
            self.stderr.write(f"Refused by a quota ({exc.quota}): {exc.message}")
            sys.exit(EXIT_QUOTA)
        self.stdout.write(
            f"Retry batch {retry.pk} of batch {opts['batch_id']}: {retry.total_items} items, {retry.status}"
        )
        if opts["wait"]:
            retry = wait_for(retry.pk, self.stdout)
            self.stdout.write(
                f"Retry batch {retry.pk}: {retry.status} ({retry.succeeded} succeeded, {retry.failed} failed)"
            )
