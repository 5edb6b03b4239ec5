from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from automations.schedules import automation_tick
from automations.triggers import restrictions_taking_effect


class Command(BaseCommand):
    help = "Fire the schedules due at an instant (default now); print one JSON line per run."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--at", help="ISO 8601 instant, e.g. 2027-03-28T18:00+02:00 (naive: club time)")
        parser.add_argument(
            "--restrictions", action="store_true", help="Also react to restrictions taking effect that day"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        at = timezone.now()
        if opts["at"]:
            try:
                at = dt.datetime.fromisoformat(opts["at"])
            except ValueError:
                raise CommandError(f"--at: {opts['at']!r} is not an ISO 8601 instant") from None
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        for row in automation_tick(at=at):
            self.stdout.write(json.dumps(row, sort_keys=True))
        if opts["restrictions"]:
            from workouts.calendar import local_day

            for pk in restrictions_taking_effect(day=local_day(at)):
                self.stdout.write(json.dumps({"restriction": pk, "status": "enqueued"}))
