from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from automations.models import Schedule


class Command(BaseCommand):
    help = "List schedules: recipe, team, rule, policy, paused, next run, last run's batch."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object per line")

    def handle(self, *args: Any, **opts: Any) -> None:
        for s in Schedule.objects.select_related("recipe__team").order_by("recipe__team__slug", "pk"):
            last = s.runs.order_by("-occurrence").first()
            row = {
                "id": s.pk,
                "team": s.recipe.team.slug,
                "recipe": s.recipe.name,
                "version": s.recipe.version,
                "rrule": s.rrule,
                "missed": s.missed,
                "paused": s.paused,
                "nextRun": timezone.localtime(s.next_run_at).isoformat() if s.next_run_at else None,
                "lastRun": {
                    "occurrence": last.occurrence.isoformat(),
                    "status": last.status,
                    "batch": last.batch_id,
                }
                if last
                else None,
            }
            if opts["json"]:
                self.stdout.write(json.dumps(row))
            else:
                self.stdout.write(
                    f"{row['id']:>5} {row['team']:<12} {row['recipe'][:30]:<30} {row['rrule'][:40]:<40} "
                    f"{'paused' if s.paused else row['nextRun'] or '-'}"
                )
