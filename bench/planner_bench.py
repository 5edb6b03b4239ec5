"""Benchmark: the planner (CP-SAT) against first fit on the calendar's own rules.

One week, 30 sessions, 40 players (20 forwards, 14 defence, 6 goalies), 3 facilities, another team
holding the rink most afternoons. For each problem it prints the solver's time, how many sessions each
method placed and the highest daily load of any player. First fit is what ADJUST_TIME and
FIND_ALTERNATIVE do one session at a time: try the session's first day and facility at its earliest
time, then `Calendar.next_free_same_day`, then each other allowed facility, then `Calendar.alternative`,
then the next allowed day — keeping only slots inside the session's own window.

    .venv/bin/python bench/planner_bench.py [--seeds 5] [--time-limit 8]

No database: the Calendar is built in memory from unsaved Facility and Player rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hockeyhub.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from planner.solver import Busy, Instance, SessionSpec, peak_of, solve  # noqa: E402
from workouts.calendar import Booking, Calendar, Slot, at, local_day  # noqa: E402
from workouts.models import Facility, Player  # noqa: E402

MONDAY = dt.date(2030, 2, 4)  # far from a DST change
DAYS = [MONDAY + dt.timedelta(days=n) for n in range(7)]
STEP = dt.timedelta(minutes=15)
BASE = at(MONDAY, dt.time.min)
FORWARDS, DEFENCE, GOALIES = range(1, 21), range(21, 35), range(35, 41)
EVERYONE = range(1, 41)


@dataclass
class Session:
    name: str
    minutes: int
    intensity: int
    load: int
    players: tuple[int, ...]
    facilities: tuple[int, ...]
    days: tuple[int, ...]
    earliest: dt.time
    latest: dt.time


def step(moment: dt.datetime) -> int:
    return int((moment - BASE) / STEP)


def problem(
    seed: int, limit: int
) -> tuple[dict[int, Facility], dict[int, Player], list[Booking], list[Session]]:
    rng = random.Random(seed)
    facilities = {
        1: Facility(pk=1, name="Gym", opens_at=dt.time(7), closes_at=dt.time(21)),
        2: Facility(pk=2, name="Ice rink", opens_at=dt.time(6), closes_at=dt.time(22)),
        3: Facility(pk=3, name="Field", opens_at=dt.time(8), closes_at=dt.time(20)),
    }
    players = {
        pk: Player(pk=pk, first_name="P", last_name=str(pk), daily_load_limit=limit) for pk in EVERYONE
    }
    taken = []
    for n, day in enumerate(DAYS[:5]):
        start = rng.choice([dt.time(14), dt.time(15), dt.time(16)])
        taken.append(
            Booking(f"other:{n}", 10_000 + n, 99, "Juniors on ice", at(day, start), at(day, dt.time(20)), 2)
        )
    sessions: list[Session] = []
    weekdays = tuple(range(6))

    def add(name: str, count: int, minutes: int, intensity: int, load: int, who, where, early, late) -> None:
        for i in range(count):
            days = tuple(sorted(rng.sample(weekdays, rng.randint(2, 4))))
            sessions.append(
                Session(f"{name} {i + 1}", minutes, intensity, load, tuple(who), where, days, early, late)
            )

    add("Team ice", 6, 90, 85, 100, EVERYONE, (2,), dt.time(7), dt.time(16))
    add("Forwards gym", 8, 60, 70, 70, FORWARDS, (1, 3), dt.time(8), dt.time(19))
    add("Defence gym", 8, 60, 70, 70, DEFENCE, (1, 3), dt.time(8), dt.time(19))
    add("Goalie ice", 4, 45, 80, 60, GOALIES, (2,), dt.time(7), dt.time(14))
    add("Recovery", 4, 45, 30, 30, EVERYONE, (1, 3), dt.time(9), dt.time(20))
    rng.shuffle(sessions)
    return facilities, players, taken, sessions


def instance(facilities, players, taken, sessions) -> Instance:
    day_starts = [step(at(d, dt.time.min)) for d in [*DAYS, DAYS[-1] + dt.timedelta(days=1)]]
    hours = {
        (f.pk, n): (step(at(d, f.opens_at)), step(at(d, f.closes_at)))
        for f in facilities.values()
        for n, d in enumerate(DAYS)
    }
    busy: dict[int, list[Busy]] = {}
    for b in taken:
        busy.setdefault(b.facility_id, []).append(Busy(step(b.start), step(b.end), b.name))
    specs = [
        SessionSpec(
            index=i,
            name=s.name,
            steps=s.minutes // 15,
            intensity=s.intensity,
            load=s.load,
            players=s.players,
            facilities=s.facilities,
            hard=s.intensity >= 80,
            allowed_days=frozenset(s.days),
            own={n: (step(at(d, s.earliest)), step(at(d, s.latest))) for n, d in enumerate(DAYS)},
        )
        for i, s in enumerate(sessions)
    ]
    return Instance(
        day_starts=day_starts,
        hours=hours,
        sessions=specs,
        limits={pk: p.daily_load_limit for pk, p in players.items()},
        facility_busy=busy,
        no_hard_before_game=False,
    )


def first_fit(facilities, players, taken, sessions) -> tuple[int, int, float]:
    """Place the sessions one by one with the calendar's rules; return (placed, peak load, seconds)."""
    began = time.monotonic()
    calendar = Calendar(team_id=1, facilities=facilities, bookings=list(taken))
    calendar.players.update(players)
    placed = 0
    for i, s in enumerate(sessions):
        found = None
        for n in s.days:
            day = DAYS[n]
            for f in s.facilities:
                start = max(at(day, s.earliest), at(day, facilities[f].opens_at))
                slot = Slot(
                    start=start,
                    end=start + dt.timedelta(minutes=s.minutes),
                    facility_id=f,
                    loads=dict.fromkeys(s.players, s.load),
                    key=f"s{i}",
                    name=s.name,
                )
                tries = [slot] if not calendar.conflicts(slot) else []
                tries += [calendar.next_free_same_day(slot), calendar.alternative(slot)]
                for candidate in tries:
                    if candidate is not None and fits(candidate, s):
                        found = candidate
                        break
                if found:
                    break
            if found:
                break
        if found:
            calendar.book_slot(found)
            placed += 1
    peak = 0
    for day in DAYS:
        for pid in players:
            peak = max(peak, sum(b.loads.get(pid, 0) for b in calendar.on_day(day)))
    return placed, peak, time.monotonic() - began


def fits(slot: Slot, s: Session) -> bool:
    day = local_day(slot.start)
    if slot.facility_id not in s.facilities or day not in [DAYS[n] for n in s.days]:
        return False
    start, end = timezone.localtime(slot.start), timezone.localtime(slot.end)
    return start.time() >= s.earliest and end.time() <= s.latest and start.date() == end.date()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=8.0)
    args = parser.parse_args()
    print("30 sessions, 40 players, 3 facilities, one week; loads in % of a player's day")
    head = f"{'CP-SAT s':>9}{'placed':>8}{'peak':>6}  |{'first fit s':>12}{'placed':>8}{'peak':>6}"
    print(f"{'problem':<18}{head}")
    for limit in (250, 200, 170):
        for seed in range(args.seeds):
            facilities, players, taken, sessions = problem(seed, limit)
            inst = instance(facilities, players, taken, sessions)
            solution = solve(inst, time_limit=args.time_limit)
            assert peak_of(inst, solution.placements) == solution.peak_load
            ff_placed, ff_peak, ff_seconds = first_fit(facilities, players, taken, sessions)
            name = f"limit {limit} #{seed}"
            cp = f"{solution.seconds:>9.2f}{len(solution.placements):>5}/30{solution.peak_load:>6}"
            print(f"{name:<18}{cp}  |{ff_seconds:>12.2f}{ff_placed:>5}/30{ff_peak:>6}")


if __name__ == "__main__":
    main()
