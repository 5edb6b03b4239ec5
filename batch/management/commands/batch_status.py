from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batch.management.commands._common import get_batch
from batch.selectors import Progress, summary_chunks


class Command(BaseCommand):
    help = "Show a batch's state and counts (--json: the full summary with per-item results)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        batch = get_batch(opts["batch_id"])
        if opts["json"]:
            for piece in summary_chunks(batch):
                self.stdout.write(piece, ending="")
            return
        p = Progress(batch)
        self.stdout.write(
            f"Batch {batch.pk} [{batch.kind}] team {batch.team.slug} by {batch.created_by}: {batch.status}"
        )
        self.stdout.write(
            f"  {p.processed}/{batch.total_items} done ({p.percent}%): {batch.succeeded} succeeded, "
            f"{batch.failed} failed, {batch.skipped} skipped, {batch.cancelled} cancelled, "
            f"{batch.conflicted} conflicts; chunks {batch.done_chunks}/{batch.total_chunks}"
        )
        if p.throughput:
            self.stdout.write(
                f"  throughput {p.throughput} ops/s" + (f", ETA {p.eta_seconds}s" if p.eta_seconds else "")
            )
        if batch.undo_deadline:
            self.stdout.write(f"  undo possible until {batch.undo_deadline:%Y-%m-%d %H:%M %Z}")
