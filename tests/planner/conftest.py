"""A club week to plan: a team with a trainer, two facilities open 07:00–21:00, a few players, and a
week in February 2030 (far from any DST change; the clock is pinned before it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.factories import FacilityFactory, PlayerFactory

MONDAY = dt.date(2030, 2, 4)
SUNDAY = MONDAY + dt.timedelta(days=6)


@pytest.fixture(autouse=True)
def _before_the_week():
    """Plan a future week from a fixed morning (the Wednesday before, 10:00 club time)."""
    moment = timezone.make_aware(dt.datetime(2030, 1, 30, 10, 0))
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def gym(db):
    return FacilityFactory(name="Gym", opens_at=dt.time(7, 0), closes_at=dt.time(21, 0))


@pytest.fixture
def rink(db):
    return FacilityFactory(name="Ice rink", opens_at=dt.time(7, 0), closes_at=dt.time(21, 0))


@pytest.fixture
def squad(team):
    return [PlayerFactory(team=team, daily_load_limit=200) for _ in range(4)]


def session(name: str, facilities: list[Any], players: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "durationMinutes": extra.pop("durationMinutes", 60),
        "intensity": extra.pop("intensity", 60),
        "playerIds": [p.pk for p in players],
        "facilityIds": [f.pk for f in facilities],
        **extra,
    }


def problem(team: Any, sessions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "team": team.slug,
        "from": MONDAY.isoformat(),
        "to": SUNDAY.isoformat(),
        "sessions": sessions,
        "timeLimitSeconds": extra.pop("timeLimitSeconds", 2),
        **extra,
    }
