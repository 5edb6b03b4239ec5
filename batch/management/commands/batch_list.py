from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batch.models import Batch


class Command(BaseCommand):
    help = "List recent batches with state and counts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--status", help="Only batches in this state, e.g. RUNNING")
        parser.add_argument("--team", help="Team slug")

    def handle(self, *args: Any, **opts: Any) -> None:
        qs = Batch.objects.select_related("team", "created_by").order_by("-created_at")
        if opts.get("status"):
            qs = qs.filter(status=opts["status"].upper())
        if opts.get("team"):
            qs = qs.filter(team__slug=opts["team"])
        self.stdout.write(
            f"{'ID':>6} {'STATUS':<22} {'KIND':<6} {'TEAM':<10} {'USER':<12} {'TOTAL':>7} {'OK':>7} "
            f"{'FAILED':>7} {'SKIP':>6} CREATED"
        )
        for b in qs[: opts["limit"]]:
            self.stdout.write(
                f"{b.pk:>6} {b.status:<22} {b.kind:<6} {b.team.slug:<10} {b.created_by.username:<12} "
                f"{b.total_items:>7} {b.succeeded:>7} {b.failed:>7} {b.skipped:>6} "
                f"{b.created_at:%Y-%m-%d %H:%M}"
            )
