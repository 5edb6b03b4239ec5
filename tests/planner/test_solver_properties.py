"""Property tests: on random small problems every plan keeps every hard rule.

The solver is pure (planner.solver works on numbers), so these run without the database: many
problems, each solved in a fraction of a second.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.solver import Busy, Instance, SessionSpec, explain, solve

DAY = 96  # 15-minute steps in a day (no DST change in these problems)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    days = draw(st.integers(1, 3))
    day_starts = [d * DAY for d in range(days + 1)]
    facilities = list(range(1, draw(st.integers(1, 2)) + 1))
    players = list(range(1, draw(st.integers(1, 4)) + 1))
    hours: dict[tuple[int, int], tuple[int, int] | None] = {}
    for f, d in itertools.product(facilities, range(days)):
        if draw(st.integers(0, 9)) == 0:
            hours[f, d] = None  # closed that day
        else:
            opens = draw(st.integers(24, 40))
            hours[f, d] = (d * DAY + opens, d * DAY + draw(st.integers(opens + 8, 88)))

    def busy(label: str) -> Busy:
        start = draw(st.integers(0, days * DAY - 2))
        return Busy(start, start + draw(st.integers(1, 16)), label)

    sessions = []
    for i in range(draw(st.integers(1, 5))):
        who = draw(st.lists(st.sampled_from(players), min_size=1, max_size=len(players), unique=True))
        where = draw(st.lists(st.sampled_from(facilities), min_size=1, unique=True))
        allowed = draw(st.none() | st.frozensets(st.integers(0, days - 1), min_size=1))
        own = {}
        if draw(st.booleans()):
            lo = draw(st.integers(20, 60))
            own = {d: (d * DAY + lo, d * DAY + lo + draw(st.integers(4, 40))) for d in range(days)}
        blocked = {}
        for d in range(days):
            out = draw(st.frozensets(st.sampled_from(who), max_size=1))
            if out:
                blocked[d] = out
        intensity = draw(st.sampled_from([30, 60, 80, 95]))
        sessions.append(
            SessionSpec(
                index=i,
                name=f"s{i}",
                steps=draw(st.integers(2, 8)),
                intensity=intensity,
                load=draw(st.sampled_from([0, 50, 100, 120])),
                players=tuple(who),
                facilities=tuple(where),
                hard=intensity >= 80,
                allowed_days=allowed,
                own=own,
                preferred={d: d * DAY + 40 for d in range(days)} if draw(st.booleans()) else {},
                blocked=blocked,
            )
        )
    return Instance(
        day_starts=day_starts,
        hours=hours,
        sessions=sessions,
        limits={p: draw(st.sampled_from([100, 150, 200, 300])) for p in players},
        facility_busy={f: [busy(f"f{f}") for _ in range(draw(st.integers(0, 2)))] for f in facilities},
        player_busy={p: [busy(f"p{p}") for _ in range(draw(st.integers(0, 1)))] for p in players},
        team_busy=[busy("game") for _ in range(draw(st.integers(0, 1)))],
        existing_load={(p, d): draw(st.sampled_from([0, 50, 100])) for p in players for d in range(days)},
        existing_hard={p: [busy(f"h{p}")] for p in players if draw(st.booleans())},
        game_days=dict.fromkeys(draw(st.frozensets(st.integers(0, days))), "game"),
        rest_steps=draw(st.sampled_from([0, 8, 48])),
        no_hard_before_game=draw(st.booleans()),
    )


def check_plan(inst: Instance, solution) -> None:
    specs = {s.index: s for s in inst.sessions}
    placed = solution.placements
    for pl in placed.values():
        s = specs[pl.session]
        span = (pl.start, pl.end)
        assert pl.end - pl.start == s.steps
        assert pl.facility in s.facilities
        assert inst.day_starts[pl.day] <= pl.start and pl.end <= inst.day_starts[pl.day + 1]
        hours = inst.hours[pl.facility, pl.day]
        assert hours is not None and hours[0] <= pl.start and pl.end <= hours[1], "opening hours"
        if s.allowed_days is not None:
            assert pl.day in s.allowed_days, "allowed days"
        if pl.day in s.own:
            assert s.own[pl.day][0] <= pl.start and pl.end <= s.own[pl.day][1], "earliest/latest"
        blocked = s.blocked.get(pl.day, frozenset())
        assert set(pl.players) == set(s.players) - blocked, "restricted players are left out"
        assert set(pl.left_out) == set(s.players) & blocked
        for b in inst.facility_busy.get(pl.facility, []):
            assert not _overlap(span, (b.start, b.end)), "facility already booked"
        for b in inst.team_busy:
            assert not _overlap(span, (b.start, b.end)), "the team's busy time"
        for p in pl.players:
            for b in inst.player_busy.get(p, []):
                assert not _overlap(span, (b.start, b.end)), "player already booked"
        if s.hard and inst.no_hard_before_game:
            assert pl.day + 1 not in inst.game_days, "hard session the day before a game"
    for a, b in itertools.combinations(placed.values(), 2):
        if a.facility == b.facility:
            assert not _overlap((a.start, a.end), (b.start, b.end)), "facility double booked"
        if set(a.players) & set(b.players):
            assert not _overlap((a.start, a.end), (b.start, b.end)), "player double booked"
        both_hard = specs[a.session].hard and specs[b.session].hard
        if inst.rest_steps and both_hard and set(a.players) & set(b.players):
            first, second = sorted([a, b], key=lambda x: x.start)
            assert first.end + inst.rest_steps <= second.start, "rest after a hard session"
    for p, limit in inst.limits.items():
        for d in range(inst.days):
            added = sum(specs[pl.session].load for pl in placed.values() if pl.day == d and p in pl.players)
            if added:
                assert inst.existing_load.get((p, d), 0) + added <= limit, "daily load limit"
    for pl in placed.values():
        if not (inst.rest_steps and specs[pl.session].hard):
            continue
        for p in pl.players:
            for h in inst.existing_hard.get(p, []):
                assert pl.end + inst.rest_steps <= h.start or h.end + inst.rest_steps <= pl.start


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances())
def test_every_plan_keeps_every_hard_rule(inst):
    solution = solve(inst, time_limit=0.5)
    check_plan(inst, solution)
    assert sorted([*solution.placements, *solution.unplaced]) == [s.index for s in inst.sessions]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_same_problem_gives_the_same_plan(inst):
    assert solve(inst, time_limit=0.5).placements == solve(inst, time_limit=0.5).placements


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_an_unplaced_session_gets_obstacles_that_really_block_it(inst):
    solution = solve(inst, time_limit=0.5)
    for i in solution.unplaced:
        rules = explain(inst, i, sorted(solution.placements), time_limit=1.0)
        assert rules, "an unplaced session is explained"
        kinds = {r[0] for r in rules}
        assert kinds <= {"hours", "booked", "player", "load", "busy", "rest", "pregame", "window", "session"}
