"""Export a team's restrictions as CSV; clinical notes only for medics/staff, and every read audited."""

from __future__ import annotations

import csv
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http import Http404

from hockeyhub.commands import command_user
from hockeyhub.csvcells import csv_safe_row
from medical.models import MedicalRestriction
from medical.services import clinical_notes_read
from workouts.selectors import team_for_user

COLUMNS = [
    "player",
    "jersey",
    "title",
    "severity",
    "status",
    "effective",
    "expires",
    "body_parts",
    "movement_patterns",
    "categories",
    "max_exertion",
    "supervision",
]


class Command(BaseCommand):
    help = "Write a team's medical restrictions as CSV to stdout (--notes: clinical notes, medics only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--team", help="Team slug (default: the user's first team)")
        parser.add_argument("--notes", action="store_true", help="Include clinical notes (audited per row)")
        parser.add_argument("--purpose", default="", help="Why the notes are read (recorded in the audit)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = command_user(opts["user"])
        try:
            team = team_for_user(user=user, slug=opts.get("team"))
        except Http404 as exc:
            raise CommandError(f"user {user.username} has no team {opts.get('team')!r}") from exc
        if opts["notes"] and not opts["purpose"]:
            raise CommandError("--notes needs --purpose (it is recorded in the audit trail)")
        restrictions = list(
            MedicalRestriction.objects.filter(player__team=team)
            .select_related("player")
            .order_by("player__last_name", "-effective_date")
        )
        notes: dict[int, str] = {}
        if opts["notes"]:
            # Every read is audited and committed before any note is written out: output that breaks
            # half way (a closed pipe, a full disk) can leave reads audited that never left, never the
            # other way round.
            try:
                with transaction.atomic(durable=True):
                    for r in restrictions:
                        notes[r.pk] = clinical_notes_read(
                            user=user, restriction=r, channel="export", purpose=opts["purpose"]
                        )
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from exc
        writer = csv.writer(self.stdout)
        try:
            writer.writerow(COLUMNS + (["clinical_notes"] if opts["notes"] else []))
            for r in restrictions:
                row = [
                    r.player.name,
                    r.player.jersey_number,
                    r.title,
                    r.severity,
                    r.status,
                    r.effective_date,
                    r.expiry_date or "",
                    " ".join(r.body_parts),
                    " ".join(r.movement_patterns),
                    " ".join(r.exercise_categories),
                    r.max_exertion or "",
                    r.requires_supervision,
                ]
                if opts["notes"]:
                    row.append(notes[r.pk])
                writer.writerow(csv_safe_row(row))
        except OSError as exc:
            raise CommandError(f"the output broke after the audit was written: {exc}") from exc
