"""Imported busy time (games, bookings) arrives as calendar bookings marked `busy`, without a workout
and maybe without a facility: it holds the team's players, and a game makes the day before a game eve."""

from __future__ import annotations

import datetime as dt

from planner.context import add_bookings, is_game
from planner.solver import Instance, SessionSpec, solve
from tests.planner.conftest import MONDAY
from workouts.calendar import Booking, at

DAY = 96


def busy_booking(team, title: str, day: dt.date, start: dt.time, end: dt.time, facility_id=None) -> Booking:
    booking = Booking(
        key=f"busy:{title}",
        workout_id=None,
        team_id=team.pk,
        name=title,
        start=at(day, start),
        end=at(day, end),
        facility_id=facility_id,
        busy=True,
    )
    assert booking.title == title  # a busy booking's name is its event's title
    return booking


def week(team, bookings: list[Booking], sessions: list[SessionSpec]) -> Instance:
    base = at(MONDAY, dt.time.min)
    inst = Instance(
        day_starts=[d * DAY for d in range(8)],
        hours={(1, d): (d * DAY + 28, d * DAY + 84) for d in range(7)},
        sessions=sessions,
    )
    add_bookings(
        inst, bookings, team=team, base=base, first=MONDAY, last=MONDAY + dt.timedelta(days=6), hard=set()
    )
    return inst


def test_a_game_holds_the_players_and_its_eve_takes_no_hard_session(team):
    thursday = MONDAY + dt.timedelta(days=3)
    game = busy_booking(team, "Game vs Luleå", thursday, dt.time(7), dt.time(21))
    assert is_game(game)
    hard = SessionSpec(0, "Sprints", 4, 90, 100, (1, 2), (1,), hard=True, allowed_days=frozenset({2, 3}))
    easy = SessionSpec(1, "Mobility", 4, 30, 50, (1,), (1,), allowed_days=frozenset({3}))
    inst = week(team, [game], [hard, easy])
    assert inst.game_days == {3: inst.team_busy[0].label}
    solution = solve(inst, time_limit=1)
    # Wednesday is the game's eve and Thursday's open hours are all game: nothing fits.
    assert solution.unplaced == [0, 1]
    inst.no_hard_before_game = False
    assert solve(inst, time_limit=1).placements[0].day == 2


def test_a_team_booking_without_facility_blocks_only_its_hours(team):
    meeting = busy_booking(team, "Video session", MONDAY, dt.time(7), dt.time(12))
    assert not is_game(meeting)
    spec = SessionSpec(0, "Lift", 4, 60, 100, (1,), (1,), allowed_days=frozenset({0}))
    solution = solve(week(team, [meeting], [spec]), time_limit=1)
    assert solution.placements[0].start >= 48  # noon
