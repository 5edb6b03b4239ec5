"""Validate or submit a batch request file (the exchange format)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.errors import IdempotencyConflict, InvalidRequest
from batch.management.commands._common import EXIT_QUOTA, wait_for
from batch.models import Batch
from batch.quotas import QuotaExceeded
from batch.request_file import RequestFileError, printable, read_request_body
from batch.selectors import batch_summary, summary_chunks
from batch.services import batch_submit
from batch.validation import batch_validate
from hockeyhub.commands import command_user
from workouts.selectors import teams_for_user

EXIT_INVALID = 2
EXIT_FAILED_ITEMS = 3


class Command(BaseCommand):
    help = "Validate (--dry-run) or submit a batch request JSON file; --wait follows it to the end."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Path to the request JSON, or - for standard input")
        parser.add_argument("--user", required=True, help="Username the batch runs as")
        parser.add_argument("--team", help="Team slug (required when the user has several teams)")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing")
        parser.add_argument("--wait", action="store_true", help="Follow progress until the batch ends")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        raw = self.read_request(opts["file"])
        user = command_user(opts["user"])
        team = self.pick_team(user, opts.get("team"))
        if opts["dry_run"]:
            report = batch_validate(user=user, team=team, raw=raw)
            if opts["json"]:
                self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
            else:
                self.print_report(report.as_dict())
            if not report.valid:
                sys.exit(EXIT_INVALID)
            return
        try:
            batch = batch_submit(user=user, team=team, raw=raw, source="command", channel="command")
        except InvalidRequest as exc:
            if opts["json"]:
                problems = [p.as_dict() for p in exc.problems]
                # Ours (problems) and the guide's names (errors, validationErrors) for the same list.
                body = {
                    "valid": False,
                    "problems": problems,
                    "errors": problems,
                    "validationErrors": problems,
                }
                self.stdout.write(json.dumps(body, indent=2))
            else:
                # The first line says it all; the full list follows for the one fixing the file.
                count = len(exc.problems)
                more = f" (and {count - 1} more below)" if count > 1 else ""
                first = printable(exc.problems[0])
                first = first if len(first) <= 300 else first[:299] + "…"
                self.stderr.write(f"The request is invalid: {first}{more}")
                if count > 1:
                    for problem in exc.problems:
                        self.stderr.write(f"  - {printable(problem)}")
            sys.exit(EXIT_INVALID)
        except QuotaExceeded as exc:
            if opts["json"]:
                self.stdout.write(json.dumps({"valid": True, "refused": exc.as_dict()}, indent=2))
            else:
                self.stderr.write(f"Refused by a quota ({exc.quota}): {exc.message}")
            sys.exit(EXIT_QUOTA)
        except IdempotencyConflict as exc:
            if opts["json"]:
                problem = {
                    "code": "IDEMPOTENCY_CONFLICT",
                    "message": str(exc),
                    "batchId": getattr(exc.batch, "pk", None),
                }
                body = {
                    "valid": False,
                    "problems": [problem],
                    "errors": [problem],
                    "validationErrors": [problem],
                }
                self.stdout.write(json.dumps(body, indent=2))
            else:
                self.stderr.write(printable(exc))
            sys.exit(EXIT_INVALID)
        if getattr(batch, "replayed", False) and not opts["json"]:
            self.stdout.write(f"requestId already used with the same request: this is batch {batch.pk}.")
        if not opts["json"]:
            self.stdout.write(
                f"Batch {batch.pk} submitted: {batch.total_items} operations in "
                f"{batch.total_chunks} chunks, up to {batch.runner_slots} runners."
            )
        if not opts["wait"]:
            if opts["json"]:
                self.stdout.write(json.dumps(batch_summary(batch=batch, include_results=False), indent=2))
            return
        batch = wait_for(batch.pk, self.stdout if not opts["json"] else self.stderr)
        if opts["json"]:
            for piece in summary_chunks(batch):
                self.stdout.write(piece, ending="")
        else:
            self.stdout.write(
                f"Batch {batch.pk} ended {batch.status}: {batch.succeeded} succeeded, "
                f"{batch.failed} failed, {batch.skipped} skipped, {batch.cancelled} cancelled."
            )
        if batch.status != Batch.Status.COMPLETED or batch.failed:
            sys.exit(EXIT_FAILED_ITEMS)

    def read_request(self, path: str) -> Any:
        try:
            return read_request_body(path)
        except RequestFileError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from exc

    def pick_team(self, user: Any, slug: str | None) -> Any:
        teams = list(teams_for_user(user=user).order_by("name"))
        if slug:
            for team in teams:
                if team.slug == slug:
                    return team
            raise CommandError(f"user {user.username} has no team {slug!r}")
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise CommandError(f"user {user.username} is not a member of any team")
        raise CommandError("the user has several teams; pass --team " + "|".join(t.slug for t in teams))

    def print_report(self, report: dict[str, Any]) -> None:
        for problem in report["problems"]:
            where = " ".join(
                x for x in (problem["operationId"] and f"[{problem['operationId']}]", problem["field"]) if x
            )
            # Op ids, fields and messages quoting them come from the file: escaped, they cannot forge lines.
            self.stdout.write(f"ERROR {printable(where)}: {printable(problem['message'])}")
        for warning in report.get("warnings", []):
            where = " ".join(
                x for x in (warning["operationId"] and f"[{warning['operationId']}]", warning["field"]) if x
            )
            self.stdout.write(f"WARN  {printable(where)} {warning['code']}: {printable(warning['message'])}")
        for item in report["items"]:
            op = printable(item["id"])
            for error in item["errors"]:
                self.stdout.write(f"ERROR [{op}] {error['code']}: {printable(error['message'])}")
            for warning in item["warnings"]:
                self.stdout.write(f"WARN  [{op}] {warning.get('code')}: {printable(warning['message'])}")
        summary, est = report["summary"], report["estimate"]
        self.stdout.write(
            f"{'VALID' if report['valid'] else 'INVALID'}: {summary['operations']} operations, "
            f"{summary['ok']} ok, {summary['withErrors']} with errors, {summary['warnings']} warnings"
        )
        if est:
            self.stdout.write(
                f"Estimate: {est['rows']} rows, {est['chunks']} chunks, ~{est['seconds']} s "
                f"with {est['runners']} runners; undoable: {est['undoable']}"
            )
