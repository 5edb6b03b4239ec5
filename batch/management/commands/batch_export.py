"""Write a batch back out as an exchange-format request (to re-run, edit or archive it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.export import definition_chunks, rerun_refusal
from batch.management.commands._common import get_batch


class Command(BaseCommand):
    help = "Print a batch's operations, options and metadata as exchange-format JSON (batch_run reads it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument(
            "--failed-only",
            action="store_true",
            help="Only what failed, and what was skipped but could go differently (what retry would run); "
            "refs to succeeded operations resolved. Exits 1 when there is nothing to run again",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        batch = get_batch(opts["batch_id"])
        if opts["failed_only"] and (refused := rerun_refusal(batch)):
            raise CommandError(refused)  # an empty request is not valid input for batch_run
        for piece in definition_chunks(batch, failed_only=opts["failed_only"]):
            self.stdout.write(piece, ending="")
