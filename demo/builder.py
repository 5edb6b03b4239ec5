"""Build the demo club: every part in one transaction, each team with its own seeded random generator."""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone

from demo.club import PASSWORD, TEAMS, seed_facilities, seed_players, seed_users
from demo.exercises import seed_exercises
from demo.restrictions import seed_restrictions
from demo.season import seed_templates, seed_workouts
from medical.models import MedicalRestriction
from workouts.models import Assignment, Exercise, Membership, Player, Team, Workout

SEASON = "2026-27"
SEED = 2026


def build_demo_club() -> list[str]:
    """Create whatever of the demo club is missing; return the report lines (counts and logins)."""
    started = timezone.now()
    with transaction.atomic(durable=True):
        users = seed_users()
        facilities = seed_facilities()
        exercises = seed_exercises()
        for index, (name, slug) in enumerate(TEAMS):
            team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "season": SEASON})
            trainer = users["trainer"] if index == 0 else users["trainer2"]
            for user, role in (
                (trainer, Membership.Role.TRAINER),
                (users["medic"], Membership.Role.MEDIC),
            ):
                Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
            players = seed_players(team, random.Random(f"{SEED}-{slug}-players"))
            seed_workouts(team, trainer, players, facilities, exercises, random.Random(f"{SEED}-{slug}-w"))
            seed_templates(team, trainer, exercises, random.Random(f"{SEED}-{slug}-t"))
            seed_restrictions(team, users["medic"], players, random.Random(f"{SEED}-{slug}-r"))
    elapsed = (timezone.now() - started).total_seconds()
    return [
        f"Demo club ready in {elapsed:.1f}s: {Team.objects.count()} teams, "
        f"{Player.objects.count()} players, "
        f"{Exercise.objects.count()} exercises, {Workout.objects.count()} workouts, "
        f"{Assignment.objects.count()} assignments, {MedicalRestriction.objects.count()} restrictions.",
        f"Logins (password '{PASSWORD}'):",
        "  trainer   — physical trainer, Frölunda Hawks",
        "  trainer2  — physical trainer, Luleå Lynx",
        "  medic     — medical staff, both teams",
        "  admin     — staff superuser (/admin/)",
    ]
