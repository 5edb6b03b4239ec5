"""The demo club's people and places: logins, facilities, team names and the players' rosters."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model

from workouts.models import Facility, Player, Team

PASSWORD = "hockeyhub"

FACILITIES = [
    ("Scandinavium main rink", dt.time(6, 0), dt.time(23, 0), 40),
    ("Practice rink B", dt.time(6, 30), dt.time(22, 0), 30),
    ("Performance gym", dt.time(6, 0), dt.time(21, 0), 28),
    ("Recovery centre & pool", dt.time(7, 0), dt.time(20, 0), 16),
]

TEAMS = [("Frölunda Hawks", "hawks"), ("Luleå Lynx", "lynx")]

FIRST_NAMES = [
    "Erik",
    "Lucas",
    "Oscar",
    "William",
    "Elias",
    "Hugo",
    "Axel",
    "Liam",
    "Viktor",
    "Filip",
    "Anton",
    "Gustav",
    "Isak",
    "Jesper",
    "Linus",
    "Marcus",
    "Nils",
    "Rasmus",
    "Simon",
    "Theo",
    "Adam",
    "Albin",
    "Jonathan",
    "Mattias",
    "Oliver",
    "Sebastian",
    "Alexander",
    "Joel",
    "Kasper",
    "Leo",
    "Emil",
    "Mika",
    "Aleksi",
    "Patrik",
    "Tomas",
    "Jakub",
    "Connor",
    "Tyler",
    "Brandon",
    "Noah",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Lindqvist",
    "Lindström",
    "Berglund",
    "Holmberg",
    "Sandström",
    "Forsberg",
    "Lundgren",
    "Ekman",
    "Wallin",
    "Nyström",
    "Sjöberg",
    "Hedlund",
    "Lindholm",
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Novák",
    "Dvořák",
    "MacDonald",
    "Thompson",
    "Fischer",
    "Åberg",
    "Öberg",
    "Strand",
    "Björk",
    "Engström",
    "Dahl",
    "Hägg",
]


def seed_users() -> dict[str, Any]:
    """Return the demo logins by username, created (with the demo password) when missing."""
    User = get_user_model()  # noqa: N806
    specs = {
        "trainer": {"first_name": "Tove", "last_name": "Lindgren"},
        "trainer2": {"first_name": "Jari", "last_name": "Aho"},
        "medic": {"first_name": "Dr. Sara", "last_name": "Holm"},
        "admin": {"first_name": "Club", "last_name": "Admin", "is_staff": True, "is_superuser": True},
    }
    users = {}
    for username, fields in specs.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={**fields, "email": f"{username}@hockeyhub.example"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    return users


def seed_facilities() -> list[Facility]:
    """Return the club's facilities, created when missing."""
    facilities = []
    for name, opens_at, closes_at, capacity in FACILITIES:
        facility, _ = Facility.objects.get_or_create(
            name=name, defaults={"opens_at": opens_at, "closes_at": closes_at, "capacity": capacity}
        )
        facilities.append(facility)
    return facilities


def seed_players(team: Team, rng: random.Random) -> list[Player]:
    """Return the team's roster by jersey number, drawing 25 players when the team has none."""
    if not team.players.exists():
        positions = (
            [Player.Position.GOALIE] * 3 + [Player.Position.DEFENCE] * 8 + [Player.Position.FORWARD] * 14
        )
        names: set[tuple[str, str]] = set()
        while len(names) < len(positions):
            names.add((rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)))
        numbers = rng.sample(range(1, 99), len(positions))
        Player.objects.bulk_create(
            Player(
                team=team,
                first_name=first,
                last_name=last,
                jersey_number=number,
                position=position,
                daily_load_limit=rng.choice([150, 180, 200, 200, 220]),
            )
            for (first, last), number, position in zip(sorted(names), numbers, positions, strict=True)
        )
    return list(team.players.order_by("jersey_number"))
