"""manage.py calendar_sync [--id N]: fetch subscribed calendar URLs now (for cron, or after a Redis loss)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calendars.models import ImportedCalendar
from calendars.services import imported_calendar_sync


class Command(BaseCommand):
    help = "Sync subscribed calendar URLs now (all of them, or one with --id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, help="only this calendar")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = ImportedCalendar.objects.filter(source=ImportedCalendar.Source.URL).order_by("pk")
        if options["id"]:
            qs = qs.filter(pk=options["id"])
        for pk, name in qs.values_list("pk", "name"):
            self.stdout.write(f"{name}: {imported_calendar_sync(calendar_id=pk)}")
