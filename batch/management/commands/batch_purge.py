from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from batch.purge import batch_purge


class Command(BaseCommand):
    help = (
        "Remove change logs past their undo deadline (those batches can no longer be undone) and delete "
        "finished batches older than BATCH_RESULT_RETENTION_DAYS. Safe to run from cron."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be removed")

    def handle(self, *args: Any, **opts: Any) -> None:
        report = batch_purge(dry_run=opts["dry_run"])
        verb = "would remove" if report.dry_run else "removed"
        self.stdout.write(
            f"Change logs past their undo deadline: {verb} {report.changes} changes of "
            f"{report.change_logs} batches"
        )
        self.stdout.write(
            f"Batches finished over {settings.BATCH_RESULT_RETENTION_DAYS} days ago: {verb} "
            f"{report.batches} batches with {report.items} items"
        )
