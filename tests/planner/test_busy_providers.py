"""Busy time from the calendar's providers (what `calendars` registers for imported games and
bookings) reaches the planner through `Calendar.load`: a game holds the team, its eve takes no hard
session, and the plan still passes the batch dry run (which judges BUSY_TIME)."""

from __future__ import annotations

import datetime as dt

import pytest

from batch.validation import batch_validate
from planner.planning import plan_week
from tests.planner.conftest import MONDAY, problem, session
from workouts import calendar as calendar_module
from workouts.calendar import BusyPeriod, at, local_day, register_busy_provider

pytestmark = pytest.mark.django_db
WEDNESDAY = MONDAY + dt.timedelta(days=2)


@pytest.fixture
def game(team):
    period = BusyPeriod(
        key="game-1",
        title="Game vs Luleå",
        start=at(WEDNESDAY, dt.time(7)),
        end=at(WEDNESDAY, dt.time(21)),
        team_id=team.pk,
        source="fixtures",
    )

    def provider(team_id, facility_ids, low, high):
        return [period] if team_id == period.team_id and period.start < high and low < period.end else []

    register_busy_provider(provider)
    yield period
    calendar_module._busy_providers.remove(provider)


def test_a_game_holds_the_day_and_its_eve(trainer, team, gym, squad, game):
    raw = problem(
        team,
        [
            session("Sprints", [gym], squad, intensity=90, days=["TUE", "WED", "THU"]),
            session("Stretch", [gym], squad, intensity=20, days=["TUE", "WED"]),
        ],
    )
    result = plan_week(user=trainer, raw=raw)
    assert result.feasible
    sprints, stretch = result.sessions
    assert local_day(sprints.start) == MONDAY + dt.timedelta(
        days=3
    )  # not Tuesday (eve), not Wednesday (game)
    assert local_day(stretch.start) == MONDAY + dt.timedelta(days=1)
    report = batch_validate(user=trainer, team=team, raw=result.request).as_dict()
    assert report["valid"] and report["summary"]["conflicts"] == 0, report


def test_a_session_only_allowed_on_game_day_is_explained(trainer, team, gym, squad, game):
    result = plan_week(user=trainer, raw=problem(team, [session("Lift", [gym], squad, days=["WED"])]))
    assert not result.feasible
    assert "the team's busy time: Game vs Luleå" in result.sessions[0].explanation
