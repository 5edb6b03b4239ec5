from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.actions import BatchActionRefused
from batch.management.commands._common import EXIT_QUOTA, get_batch, wait_for
from batch.quotas import QuotaExceeded
from batch.resume import batch_resume


class Command(BaseCommand):
    help = "Run what a cancelled or stopped batch never ran, as a new batch linked to it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--wait", action="store_true", help="Follow the resume until it ends")

    def handle(self, *args: Any, **opts: Any) -> None:
        get_batch(opts["batch_id"])
        try:
            resume = batch_resume(batch_id=opts["batch_id"], user=None, channel="command")
        except BatchActionRefused as exc:
            raise CommandError(exc.message) from exc
        except QuotaExceeded as exc:
            self.stderr.write(f"Refused by a quota ({exc.quota}): {exc.message}")
            sys.exit(EXIT_QUOTA)
        left_out = resume.metadata.get("leftOut") or []
        note = f" ({len(left_out)} left out: they depend on undone work)" if left_out else ""
        self.stdout.write(
            f"Resume batch {resume.pk} of batch {opts['batch_id']}: {resume.total_items} items, "
            f"{resume.status}{note}"
        )
        if opts["wait"]:
            resume = wait_for(resume.pk, self.stdout)
            self.stdout.write(
                f"Resume batch {resume.pk}: {resume.status} "
                f"({resume.succeeded} succeeded, {resume.failed} failed)"
            )
