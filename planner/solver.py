"""The CP-SAT model of a planning problem, and the search for why a session cannot be placed.

Pure: an `Instance` holds plain numbers (time in 15-minute steps from the first day's club midnight,
facilities and players by id) and `solve` / `explain` never touch the database, so the benchmark and
the property tests drive them directly. `planner.context` builds the Instance from the domain.

Every rule is enforced only under a *rule literal* (the opening hours of one facility, the bookings
at one facility, one player's other workouts, one player's daily load limit, the team's busy time,
the rest rule, the day-before-a-game rule, a session's own window). When planning they are all fixed
true; when explaining they become assumptions, and the solver's
`sufficient_assumptions_for_infeasibility` names the rules that stand in a session's way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # OR-Tools is imported where a model is built: every command and web process
    from ortools.sat.python import cp_model  # loads this module (URL conf), few of them solve

SEED = 20261202
# The share of the time limit each goal gets, in order: place, lowest peak, spread, preferred times.
STAGE_SHARES = (0.4, 0.3, 0.15, 0.15)
DETERMINISTIC_SHARE = 0.6


@dataclass(frozen=True)
class Busy:
    """A fixed stretch of time someone or something is taken, in steps [start, end)."""

    start: int
    end: int
    label: str


@dataclass
class SessionSpec:
    index: int
    name: str
    steps: int
    intensity: int
    load: int
    players: tuple[int, ...]
    facilities: tuple[int, ...]
    hard: bool = False
    allowed_days: frozenset[int] | None = None  # None: every day of the range
    own: dict[int, tuple[int, int]] = field(default_factory=dict)  # day -> earliest start, latest end
    preferred: dict[int, int] = field(default_factory=dict)  # day -> the step it would like to start
    blocked: dict[int, frozenset[int]] = field(default_factory=dict)  # day -> players left out that day
    current: tuple[int, int] | None = None  # an existing workout's (facility, start step)


@dataclass
class Instance:
    day_starts: list[int]  # the step of each day's club midnight, and one past the last day
    hours: dict[tuple[int, int], tuple[int, int] | None]  # (facility, day) -> open, close; None: closed
    sessions: list[SessionSpec]
    limits: dict[int, int] = field(default_factory=dict)  # player -> daily load limit
    facility_busy: dict[int, list[Busy]] = field(default_factory=dict)
    player_busy: dict[int, list[Busy]] = field(default_factory=dict)
    team_busy: list[Busy] = field(default_factory=list)  # games and bookings: hold every session of the team
    existing_load: dict[tuple[int, int], int] = field(default_factory=dict)  # (player, day) -> load %
    existing_hard: dict[int, list[Busy]] = field(default_factory=dict)  # player -> hard workouts
    game_days: dict[int, str] = field(default_factory=dict)  # day index (may be one past the end) -> label
    rest_steps: int = 0
    no_hard_before_game: bool = True

    @property
    def days(self) -> int:
        return len(self.day_starts) - 1

    @property
    def horizon(self) -> int:
        return self.day_starts[-1]

    def day_of(self, step: int) -> int:
        for d in range(self.days):
            if self.day_starts[d] <= step < self.day_starts[d + 1]:
                return d
        return self.days - 1


@dataclass(frozen=True)
class Placement:
    session: int
    facility: int
    day: int
    start: int
    end: int
    players: tuple[int, ...]  # who trains: the session's players less those blocked that day
    left_out: tuple[int, ...]


@dataclass
class Solution:
    placements: dict[int, Placement]
    unplaced: list[int]
    peak_load: int
    status: str
    seconds: float
    stages: list[str] = field(default_factory=list)


Rule = tuple[Any, ...]


def alike_players(inst: Instance) -> dict[int, list[int]]:
    """Players whose rules are the same (the same sessions with the same blocked days, limit, bookings,
    load carried and hard workouts) give the same constraints: the model states them once, for the
    first of them. A squad of 40 in three groups is three players to the solver."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for p in sorted({p for s in inst.sessions for p in s.players}):
        key = (
            tuple(
                (s.index, tuple(sorted(d for d, who in s.blocked.items() if p in who)))
                for s in inst.sessions
                if p in s.players
            ),
            inst.limits.get(p),
            tuple(inst.player_busy.get(p, ())),
            tuple(inst.existing_load.get((p, d), 0) for d in range(inst.days)),
            tuple(inst.existing_hard.get(p, ())),
        )
        groups.setdefault(key, []).append(p)
    return {same[0]: same for same in groups.values()}


class PlanModel:
    """The CP-SAT model of an instance; `explaining` turns the rule literals into free variables."""

    def __init__(self, inst: Instance, *, explaining: bool = False) -> None:
        from ortools.sat.python import cp_model

        self.inst = inst
        self.explaining = explaining
        self.m = cp_model.CpModel()
        self.true = self.m.new_bool_var("true")
        self.m.add(self.true == 1)
        self.rules: dict[Rule, cp_model.IntVar] = {}
        self.placed: dict[int, Any] = {}
        self.start: dict[int, Any] = {}
        self.x: dict[int, dict[tuple[int, int], Any]] = {}
        self.y: dict[int, dict[int, Any]] = {}
        self.z: dict[int, dict[int, Any]] = {}
        self.day_loads: dict[tuple[int, int], Any] = {}
        self.peak = None
        self.player_peaks: list[Any] = []
        self.deviation: list[Any] = []
        self.stays: list[Any] = []
        self._build()

    # -- rule literals ------------------------------------------------------------------------------

    def rule(self, *key: Any) -> Any:
        if not self.explaining:
            return self.true
        if key not in self.rules:
            self.rules[key] = self.m.new_bool_var("rule:" + ":".join(map(str, key)))
        return self.rules[key]

    def _fixed(self, busy: Busy, lit: Any, name: str) -> Any:
        return self.m.new_optional_fixed_size_interval_var(busy.start, busy.end - busy.start, lit, name)

    # -- the model ----------------------------------------------------------------------------------

    def _build(self) -> None:
        inst, m = self.inst, self.m
        horizon = inst.horizon
        facility_intervals: dict[int, list[Any]] = {}
        session_interval: dict[int, Any] = {}
        for s in inst.sessions:
            placed = m.new_bool_var(f"placed{s.index}")
            start = m.new_int_var(0, max(0, horizon - s.steps), f"start{s.index}")
            self.placed[s.index], self.start[s.index] = placed, start
            x: dict[tuple[int, int], Any] = {}
            for f in s.facilities:
                for d in range(inst.days):
                    if not self.explaining and not self._possible(s, f, d):
                        continue
                    lit = m.new_bool_var(f"x{s.index}:{f}:{d}")
                    x[f, d] = lit
                    m.add(start >= inst.day_starts[d]).only_enforce_if(lit)
                    m.add(start + s.steps <= inst.day_starts[d + 1]).only_enforce_if(lit)
                    self._hours(s, f, d, lit, start)
                    self._window(s, d, lit, start)
            if x:
                m.add(sum(x.values()) == placed)
            else:
                m.add(placed == 0)
            self.x[s.index] = x
            self.y[s.index] = {}
            for f in s.facilities:
                lits = [v for (ff, _), v in x.items() if ff == f]
                if not lits:
                    continue
                y = m.new_bool_var(f"y{s.index}:{f}")
                m.add(sum(lits) == y)
                self.y[s.index][f] = y
                facility_intervals.setdefault(f, []).append(
                    m.new_optional_interval_var(start, s.steps, start + s.steps, y, f"at{s.index}:{f}")
                )
            self.z[s.index] = {}
            for d in range(inst.days):
                lits = [v for (_, dd), v in x.items() if dd == d]
                if lits:
                    z = m.new_bool_var(f"z{s.index}:{d}")
                    m.add(sum(lits) == z)
                    self.z[s.index][d] = z
            session_interval[s.index] = m.new_optional_interval_var(
                start, s.steps, start + s.steps, placed, f"session{s.index}"
            )
            self._before_games(s)
            self._preferences(s)

        for f, intervals in facility_intervals.items():
            lit = self.rule("booked", f)
            fixed = [self._fixed(b, lit, f"busy:{f}") for b in self.inst.facility_busy.get(f, [])]
            m.add_no_overlap(intervals + fixed)

        # The team's busy time (games, bookings) holds every session of the team, as the rulebook says.
        team_lit = self.rule("busy")
        team_fixed = [self._fixed(b, team_lit, "team") for b in inst.team_busy]
        if team_fixed:
            for s in inst.sessions:
                m.add_no_overlap([session_interval[s.index], *team_fixed])
        self.alike = alike_players(inst)
        peak_cap = max([0, *inst.existing_load.values()]) + sum(s.load for s in inst.sessions) + 1
        self.peak = m.new_int_var(0, peak_cap, "peak")
        for p, same in self.alike.items():
            self._player(p, session_interval, peak_cap, weight=len(same))

    def _possible(self, s: SessionSpec, f: int, d: int) -> bool:
        """Whether (facility, day) can hold the session at all under every rule (planning only)."""
        if s.allowed_days is not None and d not in s.allowed_days:
            return False
        lo, hi = self._range(s, f, d)
        return hi - lo >= s.steps

    def _range(self, s: SessionSpec, f: int, d: int) -> tuple[int, int]:
        hours = self.inst.hours.get((f, d))
        lo, hi = hours if hours else (0, 0)
        if d in s.own:
            lo, hi = max(lo, s.own[d][0]), min(hi, s.own[d][1])
        return lo, hi

    def _hours(self, s: SessionSpec, f: int, d: int, lit: Any, start: Any) -> None:
        hours = self.inst.hours.get((f, d))
        rule = self.rule("hours", f)
        if not hours or hours[1] - hours[0] < s.steps:
            self.m.add_bool_or([~lit, ~rule])
            return
        self.m.add(start >= hours[0]).only_enforce_if([lit, rule])
        self.m.add(start + s.steps <= hours[1]).only_enforce_if([lit, rule])

    def _window(self, s: SessionSpec, d: int, lit: Any, start: Any) -> None:
        rule = self.rule("window", s.index)
        if s.allowed_days is not None and d not in s.allowed_days:
            self.m.add_bool_or([~lit, ~rule])
            return
        if d in s.own:
            lo, hi = s.own[d]
            if hi - lo < s.steps:
                self.m.add_bool_or([~lit, ~rule])
                return
            self.m.add(start >= lo).only_enforce_if([lit, rule])
            self.m.add(start + s.steps <= hi).only_enforce_if([lit, rule])

    def _before_games(self, s: SessionSpec) -> None:
        if not (s.hard and self.inst.no_hard_before_game):
            return
        rule = self.rule("pregame")
        for game_day in self.inst.game_days:
            z = self.z[s.index].get(game_day - 1)
            if z is not None:
                self.m.add_bool_or([~z, ~rule])

    def _preferences(self, s: SessionSpec) -> None:
        m, start = self.m, self.start[s.index]
        targets = dict(s.preferred)
        if targets:
            dev = m.new_int_var(0, self.inst.horizon, f"dev{s.index}")
            for d, z in self.z[s.index].items():
                if d in targets:
                    m.add(dev >= start - targets[d]).only_enforce_if(z)
                    m.add(dev >= targets[d] - start).only_enforce_if(z)
            self.deviation.append(dev)
        if s.current is not None:
            stay = m.new_bool_var(f"stay{s.index}")
            y = self.y[s.index].get(s.current[0])
            if y is None:
                m.add(stay == 0)
            else:
                m.add(start == s.current[1]).only_enforce_if(stay)
                m.add_implication(stay, y)
            self.stays.append((stay, self.placed[s.index]))

    def _player(self, p: int, session_interval: dict[int, Any], peak_cap: int, weight: int) -> None:
        """The rules of one player, standing for `weight` players alike (see alike_players)."""
        inst, m = self.inst, self.m
        intervals: list[Any] = []
        hard: list[tuple[SessionSpec, Any]] = []
        loads: dict[int, list[Any]] = {}
        for s in inst.sessions:
            if p not in s.players:
                continue
            blocked_days = {d for d, who in s.blocked.items() if p in who and d in self.z[s.index]}
            if not blocked_days:
                present = self.placed[s.index]
                intervals.append(session_interval[s.index])
            else:
                present = m.new_bool_var(f"p{s.index}:{p}")
                m.add(sum(z for d, z in self.z[s.index].items() if d not in blocked_days) == present)
                start = self.start[s.index]
                intervals.append(
                    m.new_optional_interval_var(start, s.steps, start + s.steps, present, f"in{s.index}:{p}")
                )
            if s.hard:
                hard.append((s, present))
            for d, z in self.z[s.index].items():
                if d not in blocked_days and s.load:
                    loads.setdefault(d, []).append(s.load * z)
        lit = self.rule("player", p)
        intervals += [self._fixed(b, lit, f"busy:p{p}") for b in inst.player_busy.get(p, [])]
        m.add_no_overlap(intervals)

        if inst.rest_steps and hard:
            rest = self.rule("rest")
            gap = inst.rest_steps
            extended = []
            for s, present in hard:
                if self.explaining:
                    q = m.new_bool_var(f"rest{s.index}:{p}")
                    m.add_bool_and([present, rest]).only_enforce_if(q)
                    m.add_bool_or([~present, ~rest, q])
                else:
                    q = present
                start = self.start[s.index]
                extended.append(
                    m.new_optional_interval_var(
                        start, s.steps + gap, start + s.steps + gap, q, f"r{s.index}:{p}"
                    )
                )
            for b in inst.existing_hard.get(p, []):
                extended.append(self._fixed(Busy(b.start, b.end + gap, b.label), rest, f"rest:p{p}"))
            if len(extended) > 1:
                m.add_no_overlap(extended)

        limit = inst.limits.get(p)
        player_peak = m.new_int_var(0, peak_cap, f"peak{p}")
        self.player_peaks.append(player_peak * weight)
        lit = self.rule("load", p)
        for d in range(inst.days):
            carried = inst.existing_load.get((p, d), 0)
            terms = loads.get(d, [])
            total = carried + sum(terms)
            m.add(self.peak >= total)
            m.add(player_peak >= total)
            if terms and limit is not None:
                m.add(sum(terms) <= max(limit - carried, 0)).only_enforce_if(lit)

    # -- reading a solution ----------------------------------------------------------------------------

    def placements(self, solver: cp_model.CpSolver) -> dict[int, Placement]:
        out = {}
        for s in self.inst.sessions:
            if not solver.boolean_value(self.placed[s.index]):
                continue
            (f, d) = next(k for k, v in self.x[s.index].items() if solver.boolean_value(v))
            start = solver.value(self.start[s.index])
            left_out = s.blocked.get(d, frozenset())
            out[s.index] = Placement(
                session=s.index,
                facility=f,
                day=d,
                start=start,
                end=start + s.steps,
                players=tuple(p for p in s.players if p not in left_out),
                left_out=tuple(p for p in s.players if p in left_out),
            )
        return out

    def hint(self, solver: cp_model.CpSolver) -> None:
        self.m.clear_hints()
        for s in self.inst.sessions:
            self.m.add_hint(self.placed[s.index], solver.boolean_value(self.placed[s.index]))
            self.m.add_hint(self.start[s.index], solver.value(self.start[s.index]))
            for v in self.x[s.index].values():
                self.m.add_hint(v, solver.boolean_value(v))


def _solver(seconds: float, seed: int) -> cp_model.CpSolver:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    # Deterministic time (a count of work, not of seconds) makes the same problem give the same plan;
    # the wall clock keeps the promised time limit on a busy machine, where it may stop the search first.
    solver.parameters.max_deterministic_time = max(seconds * DETERMINISTIC_SHARE, 0.05)
    solver.parameters.max_time_in_seconds = max(seconds, 0.1)
    return solver


def peak_of(inst: Instance, placements: dict[int, Placement]) -> int:
    """Return the highest daily load of any player, existing workouts included."""
    loads: dict[tuple[int, int], int] = dict(inst.existing_load)
    specs = {s.index: s for s in inst.sessions}
    for pl in placements.values():
        for p in pl.players:
            loads[p, pl.day] = loads.get((p, pl.day), 0) + specs[pl.session].load
    return max(loads.values(), default=0)


def solve(inst: Instance, *, time_limit: float = 10.0, seed: int = SEED) -> Solution:
    """Place as many sessions as possible; then lower the peak daily load, spread load, keep to
    preferred times and move as few existing workouts as possible — each goal kept while the next is
    sought."""
    from ortools.sat.python import cp_model

    began = time.monotonic()
    plan = PlanModel(inst)
    m = plan.m
    stages: list[str] = []
    placed_sum = sum(plan.placed.values())
    goals: list[tuple[str, Any, bool]] = [("placed", placed_sum, True), ("peak", plan.peak, False)]
    if plan.player_peaks:
        goals.append(("spread", sum(plan.player_peaks), False))
    n = len(inst.sessions)
    if plan.deviation or plan.stays:
        moves = sum(placed - stay for stay, placed in plan.stays) if plan.stays else 0
        goals.append(("preferred", sum(plan.deviation) * (n + 1) + moves, False))
    best: cp_model.CpSolver | None = None
    status_name = "UNKNOWN"
    for (name, expr, maximize), share in zip(goals, STAGE_SHARES, strict=False):
        if maximize:
            m.maximize(expr)
        else:
            m.minimize(expr)
        solver = _solver(time_limit * share, seed)
        status = solver.solve(m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        value = int(round(solver.objective_value))
        stages.append(f"{name}={value}{'' if status == cp_model.OPTIMAL else '~'}")
        status_name = solver.status_name(status)
        best = solver
        plan.hint(solver)
        m.add(expr >= value if maximize else expr <= value)
    placements = plan.placements(best) if best is not None else {}
    return Solution(
        placements=placements,
        unplaced=[s.index for s in inst.sessions if s.index not in placements],
        peak_load=peak_of(inst, placements),
        status=status_name,
        seconds=time.monotonic() - began,
        stages=stages,
    )


def explain(
    inst: Instance, session: int, placed: Sequence[int], *, time_limit: float = 5.0, seed: int = SEED
) -> list[Rule]:
    """Return the rules (and other sessions, as ("session", i)) that together keep `session` off the
    plan: an infeasible set of assumptions, shrunk until each one matters. Empty if none was proved
    within the time limit."""
    from ortools.sat.python import cp_model

    plan = PlanModel(inst, explaining=True)
    named: dict[Rule, Any] = {("place", session): plan.placed[session]}
    named.update({("session", i): plan.placed[i] for i in placed if i != session})
    named.update(plan.rules)
    began = time.monotonic()

    def infeasible(keys: Sequence[Rule]) -> list[Rule] | None:
        plan.m.clear_assumptions()
        plan.m.add_assumptions([named[k] for k in keys])
        left = max(time_limit - (time.monotonic() - began), 0.05)
        solver = _solver(min(left, time_limit / 2), seed)
        solver.parameters.max_time_in_seconds = left
        # Presolve may prove infeasibility without saying which assumptions it used.
        solver.parameters.cp_model_presolve = False
        if solver.solve(plan.m) != cp_model.INFEASIBLE:
            return None
        core = set(solver.sufficient_assumptions_for_infeasibility())
        return [k for k in keys if named[k].index in core] or list(keys)

    everything = list(named)
    core = infeasible(everything)
    if core is None:
        return []
    if len(core) < len(everything) and infeasible(core) is None:
        core = everything  # the solver's core was not enough on its own: shrink from everything
    # Shrink: drop each assumption in turn and keep the drop when the rest is still infeasible.
    for key in list(core):
        if key == ("place", session) or key not in core or time.monotonic() - began > time_limit:
            continue
        rest = [k for k in core if k != key]
        smaller = infeasible(rest)
        if smaller is not None:
            core = smaller if ("place", session) in smaller else rest
    return [k for k in core if k != ("place", session)]
