"""manage.py calendar_import FILE --team SLUG | --facility ID [--name NAME]: busy time from an .ics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendars.ics import CalendarFileError
from calendars.models import ImportedCalendar
from calendars.services import CalendarRefused, imported_calendar_import
from workouts.models import Facility, Team


class Command(BaseCommand):
    help = "Import an iCalendar file as busy time for a team or a facility (re-importing by name updates it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="an .ics file, or - for standard input")
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--team", help="the team's slug")
        owner.add_argument("--facility", type=int, help="the facility's id")
        parser.add_argument("--name", help="the calendar's name (default: the file's name)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        team = facility = None
        if options["team"]:
            team = Team.objects.filter(slug=options["team"]).first()
            if team is None:
                raise CommandError(f"no team with slug {options['team']!r}")
        else:
            facility = Facility.objects.filter(pk=options["facility"]).first()
            if facility is None:
                raise CommandError(f"no facility with id {options['facility']}")
        name = options["name"] or (Path(path).stem if path != "-" else "Imported calendar")
        try:
            result = imported_calendar_import(
                user=None,
                data=data,
                name=name,
                team=team,
                facility=facility,
                source=ImportedCalendar.Source.COMMAND,
                channel="command",
            )
        except CalendarFileError as exc:
            raise CommandError(f"{path}: {exc.message}; nothing was imported") from None
        except CalendarRefused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(result.summary())
