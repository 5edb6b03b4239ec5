"""Seed a believable demo club (built by demo/): teams, rosters, exercises, workouts, restrictions.

Safe to re-run: each part is created only when missing, and the random generator is seeded, so a
second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.builder import build_demo_club


class Command(BaseCommand):
    help = "Create a demo club (teams, players, exercises, a season of workouts, restrictions). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in build_demo_club():
            self.stdout.write(line)
