from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.actions import BatchActionRefused
from batch.management.commands._common import get_batch, wait_for
from batch.undo import batch_undo


class Command(BaseCommand):
    help = "Undo a batch within its undo window (--force overwrites objects edited since)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--force", action="store_true", help="Revert objects edited since the batch too")
        parser.add_argument("--wait", action="store_true", help="Follow the undo until it ends")

    def handle(self, *args: Any, **opts: Any) -> None:
        get_batch(opts["batch_id"])
        try:
            undo = batch_undo(batch_id=opts["batch_id"], user=None, force=opts["force"], channel="command")
        except BatchActionRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Undo batch {undo.pk} of batch {opts['batch_id']}: {undo.status}")
        if opts["wait"]:
            undo = wait_for(undo.pk, self.stdout)
            original = get_batch(opts["batch_id"])
            self.stdout.write(
                f"Undo batch {undo.pk}: {undo.status} ({undo.succeeded} reverted, "
                f"{undo.conflicted} conflicts, {undo.failed} failed, {undo.skipped} not undoable); "
                f"batch {original.pk}: {original.status}"
            )
