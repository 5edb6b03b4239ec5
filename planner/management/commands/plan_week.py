"""Plan a week from a problem JSON file and print the batch request it makes (nothing is written).

manage.py plan_week problem.json --user trainer | manage.py batch_run - --user trainer
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.request_file import RequestFileError, read_request_file
from hockeyhub.commands import command_user
from planner.planning import plan_week
from planner.problem import PlannerProblemError

EXIT_INFEASIBLE = 2


class Command(BaseCommand):
    help = "Plan sessions into a week with the constraint solver; print the batch request on stdout."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The problem JSON, or - for standard input")
        parser.add_argument("--user", required=True, help="Username of the trainer planning")
        parser.add_argument(
            "--json", action="store_true", help="Print the whole plan (request, sessions, why not)"
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="When some sessions do not fit, still print the request for those that do (exit 0)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            raw = read_request_file(opts["file"])
        except RequestFileError as exc:
            raise CommandError(str(exc).replace("request", "problem"), returncode=EXIT_INFEASIBLE) from exc
        user = command_user(opts["user"])
        try:
            result = plan_week(user=user, raw=raw)
        except PlannerProblemError as exc:
            if opts["json"]:
                self.stdout.write(json.dumps({"valid": False, "problems": exc.messages}, indent=2))
            else:
                self.stderr.write("The problem is invalid:")
                for message in exc.messages:
                    self.stderr.write(f"  - {message}")
            sys.exit(EXIT_INFEASIBLE)
        placed = sum(s.placed for s in result.sessions)
        self.stderr.write(
            f"Placed {placed} of {len(result.sessions)} sessions in {result.seconds:.1f} s; "
            f"highest daily load {result.peak_load}%."
        )
        for outcome in result.sessions:
            for blocked in outcome.blocked_players:
                self.stderr.write(f"  {outcome.name}: {blocked['name']} left out — {blocked['reason']}")
        for explanation in result.explanations:
            self.stderr.write(explanation)
        if opts["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2, default=str))
        elif result.feasible or opts["partial"]:
            self.stdout.write(json.dumps(result.request, indent=2))
        if not result.feasible and not opts["partial"]:
            sys.exit(EXIT_INFEASIBLE)
