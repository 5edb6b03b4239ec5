"""manage.py analytics_rebuild [--from YYYY-MM-DD] [--to YYYY-MM-DD]: re-derive roll-ups from the rows."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from analytics.services import rollups_rebuild


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Rebuild the analytics roll-ups of batches submitted on these local days (default: all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="date_from", type=str, help="First local day (inclusive)")
        parser.add_argument("--to", dest="date_to", type=str, help="Last local day (inclusive)")

    def handle(self, *args, date_from: str | None, date_to: str | None, **options) -> None:
        first = _day(date_from) if date_from else None
        last = _day(date_to) if date_to else None
        if first and last and first > last:
            raise CommandError("--from is after --to")
        started = time.monotonic()
        verbose = options["verbosity"] > 1
        report = rollups_rebuild(
            date_from=first,
            date_to=last,
            progress=(lambda r: self.stdout.write(f"  {r.batches} batches…")) if verbose else None,
        )
        self.stdout.write(
            f"Rebuilt roll-ups of {report.batches} batches ({report.rows} rows) "
            f"in {time.monotonic() - started:.1f}s"
        )
