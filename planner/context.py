"""From a problem and the domain to the solver's Instance: what is already on the calendar, the opening
hours, the players' limits and the medical gate's verdicts, in a constant number of queries.

All occupancy comes from `workouts.calendar.Calendar.load` and its bookings, so busy time other
features put on the calendar (imported games and bookings: `busy` bookings without a workout, maybe
without a facility) holds the team here too. A busy booking of the team whose title names a game
makes the day before it a game eve.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from medical.compliance import ExerciseSpec
from medical.gate import MedicalGate, PlannedWorkout, blocked, planned_workouts
from planner.problem import (
    HIGH_INTENSITY,
    STEP_MINUTES,
    WEEKDAY_NAMES,
    PlannerProblemError,
    ProblemIn,
    SessionIn,
)
from planner.solver import Busy, Instance, SessionSpec
from workouts.calendar import Booking, Calendar, at, local_day
from workouts.models import Assignment, Facility, Player, Team, TemplateExercise, Workout, WorkoutTemplate
from workouts.rules import move_refusal, template_visible_to

STEP = dt.timedelta(minutes=STEP_MINUTES)
GAME_WORDS = re.compile(r"\b(game|match|vs\.?|versus)\b", re.IGNORECASE)


@dataclass
class Context:
    """The instance and the names and objects needed to word a plan and its obstacles."""

    team: Team
    problem: ProblemIn
    base: dt.datetime
    instance: Instance
    players: dict[int, Player]
    facilities: dict[int, Facility]
    workouts: dict[int, Workout] = field(default_factory=dict)  # sessions' existing workouts
    templates: dict[int, WorkoutTemplate] = field(default_factory=dict)
    workout_players: dict[int, list[int]] = field(default_factory=dict)
    reasons: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (session, day, player) -> why

    def moment(self, step: int) -> dt.datetime:
        return self.base + step * STEP

    def day(self, index: int) -> dt.date:
        return self.problem.from_ + dt.timedelta(days=index)


def _floor(base: dt.datetime, moment: dt.datetime) -> int:
    return math.floor((moment - base) / STEP)


def _ceil(base: dt.datetime, moment: dt.datetime) -> int:
    return math.ceil((moment - base) / STEP)


def is_game(booking: Booking) -> bool:
    """A busy booking whose kind or title says it is a game (imported fixtures)."""
    if not getattr(booking, "busy", False):
        return False
    kind = str(getattr(booking, "kind", "") or "")
    title = str(getattr(booking, "title", "") or booking.name or "")
    return kind.lower() in {"game", "match"} or bool(GAME_WORDS.search(title))


def booking_label(booking: Booking, team: Team) -> str:
    start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
    if getattr(booking, "busy", False):
        name = str(getattr(booking, "title", "") or booking.name or "busy")
    elif booking.team_id == team.pk:
        name = booking.name
    else:
        name = "another team's workout"
    return f"{name} ({start:%a %d %b %H:%M}–{end:%H:%M})"


def build_context(*, problem: ProblemIn, team: Team, user: Any) -> Context:
    """Return the solver's instance for the problem; PlannerProblemError naming any id that is not the
    team's (or not known)."""
    errors: list[str] = []
    days = problem.days
    base = at(days[0], dt.time.min)
    day_starts = [_floor(base, at(d, dt.time.min)) for d in [*days, days[-1] + dt.timedelta(days=1)]]

    squad = {p.pk: p for p in Player.objects.filter(team=team)}
    facilities = {f.pk: f for f in Facility.objects.order_by("name")}
    workout_ids = {s.workout_id for s in problem.sessions if s.workout_id}
    workouts = {w.pk: w for w in Workout.objects.filter(team=team, pk__in=workout_ids)}
    template_ids = {s.template_id for s in problem.sessions if s.template_id}
    templates = {
        t.pk: t
        for t in WorkoutTemplate.objects.filter(team=team, pk__in=template_ids)
        if template_visible_to(t, user_id=getattr(user, "pk", None))
    }
    for i, s in enumerate(problem.sessions):
        where = f"sessions[{i}]"
        if isinstance(s.player_ids, list):
            unknown = sorted(set(s.player_ids) - set(squad))
            if unknown:
                errors.append(
                    f"{where}.playerIds: {', '.join(map(str, unknown))} "
                    f"{'is not a player' if len(unknown) == 1 else 'are not players'} of {team.name}"
                )
        missing = sorted(set(s.facility_ids) - set(facilities))
        if missing:
            errors.append(f"{where}.facilityIds: no facility {', '.join(map(str, missing))}")
        if s.workout_id:
            if s.player_ids:
                errors.append(
                    f"{where}.playerIds: leave it out for an existing workout (its players are placed)"
                )
            if [x.workout_id for x in problem.sessions].count(s.workout_id) > 1:
                errors.append(f"{where}.workoutId: workout {s.workout_id} is named by more than one session")
            workout = workouts.get(s.workout_id)
            if workout is None:
                errors.append(f"{where}.workoutId: {team.name} has no workout {s.workout_id}")
            elif (refusal := move_refusal(workout)) is not None:
                errors.append(f"{where}.workoutId: {refusal.message}")
        if s.template_id and s.template_id not in templates:
            errors.append(f"{where}.templateId: {team.name} has no template {s.template_id} you may use")
    if errors:
        raise PlannerProblemError(errors)

    calendar = Calendar.load(team=team, days=days, players=squad)
    seen: set[str] = set()
    bookings: list[Booking] = []
    for d in [days[0] - dt.timedelta(days=1), *days, days[-1] + dt.timedelta(days=1)]:
        for b in calendar.on_day(d):
            if b.key not in seen and b.workout_id not in workout_ids:
                seen.add(b.key)
                bookings.append(b)

    # Which of the team's existing workouts are hard (the rest rule looks back at them): one query.
    own_ids = [b.workout_id for b in bookings if b.workout_id and b.team_id == team.pk]
    hard = set(
        Workout.objects.filter(pk__in=own_ids, intensity__gte=HIGH_INTENSITY).values_list("pk", flat=True)
    )

    inst = Instance(
        day_starts=day_starts,
        hours={},
        sessions=[],
        limits={pk: p.daily_load_limit for pk, p in squad.items()},
        rest_steps=problem.rules.rest_hours_after_high_intensity * 60 // STEP_MINUTES,
        no_hard_before_game=problem.rules.no_hard_day_before_game,
    )
    for f in facilities.values():
        for n, d in enumerate(days):
            if f.closes_at <= f.opens_at:
                inst.hours[f.pk, n] = None
            else:
                inst.hours[f.pk, n] = (_ceil(base, at(d, f.opens_at)), _floor(base, at(d, f.closes_at)))
    add_bookings(inst, bookings, team=team, base=base, first=days[0], last=days[-1], hard=hard)

    ctx = Context(
        team=team,
        problem=problem,
        base=base,
        instance=inst,
        players=squad,
        facilities=facilities,
        workouts=workouts,
        templates=templates,
    )
    for workout_id, player_id in Assignment.objects.filter(workout_id__in=workouts).values_list(
        "workout_id", "player_id"
    ):
        ctx.workout_players.setdefault(workout_id, []).append(player_id)
    _sessions(ctx)
    return ctx


def add_bookings(
    inst: Instance,
    bookings: list[Booking],
    *,
    team: Team,
    base: dt.datetime,
    first: dt.date,
    last: dt.date,
    hard: set[int],
) -> None:
    """Put the calendar's bookings on the instance: a facility's bookings hold the facility (any team);
    the team's workouts hold their players and count toward their daily load; the team's busy time (a
    `busy` booking, or one with neither workout nor facility) holds every player, and a game makes the
    day before it a game eve."""
    for b in bookings:
        busy = Busy(_floor(base, b.start), _ceil(base, b.end), booking_label(b, team))
        if b.facility_id is not None:
            inst.facility_busy.setdefault(b.facility_id, []).append(busy)
        if b.team_id != team.pk:
            continue
        if getattr(b, "busy", False) or (b.workout_id is None and b.facility_id is None):
            inst.team_busy.append(busy)
            if is_game(b):
                inst.game_days.setdefault((local_day(b.start) - first).days, busy.label)
            continue
        for pid, load in b.loads.items():
            inst.player_busy.setdefault(pid, []).append(busy)
            if b.workout_id in hard:
                inst.existing_hard.setdefault(pid, []).append(busy)
            for day in b.days():
                if first <= day <= last:
                    key = (pid, (day - first).days)
                    inst.existing_load[key] = inst.existing_load.get(key, 0) + load


def _sessions(ctx: Context) -> None:
    problem, base, inst = ctx.problem, ctx.base, ctx.instance
    days = problem.days
    exercises = _exercises(ctx)
    everyone = {pid for s in problem.sessions for pid in _players(ctx, s)}
    gate = MedicalGate(player_ids=everyone, dates=days)
    restricted = {
        n: {pid for pid in everyone if gate.engine.restrictions_for(player_id=pid, on_date=d)}
        for n, d in enumerate(days)
    }
    for i, s in enumerate(problem.sessions):
        players = _players(ctx, s)
        earliest, latest = s.clock("earliest"), s.clock("latest")
        allowed = (
            frozenset(n for n, d in enumerate(days) if WEEKDAY_NAMES[d.weekday()] in s.days)
            if s.days is not None
            else None
        )
        own = {}
        if earliest or latest:
            for n, d in enumerate(days):
                lo = _ceil(base, at(d, earliest)) if earliest else inst.day_starts[n]
                hi = _floor(base, at(d, latest)) if latest else inst.day_starts[n + 1]
                own[n] = (lo, hi)
        preferred = {}
        if s.preferred_start:
            clock = s.clock("preferred_start")
            preferred = {n: _floor(base, at(d, clock)) for n, d in enumerate(days)}
        left_out: dict[int, frozenset[int]] = {}
        for n, d in enumerate(days):
            judged = [pid for pid in players if pid in restricted[n]]
            if not judged:
                continue
            planned = PlannedWorkout(
                exercises=exercises.get(i, ()), on_date=d, intensity=s.intensity, name=s.name
            )
            out = set()
            for verdict in blocked(gate.judge(planned, judged).values()):
                out.add(verdict.player_id)
                ctx.reasons[i, n, verdict.player_id] = verdict.summary()
            if out:
                left_out[n] = frozenset(out)
        current = None
        if s.workout_id:
            w = ctx.workouts[s.workout_id]
            if w.scheduled_start is not None and w.facility_id is not None:
                current = (w.facility_id, _floor(base, w.scheduled_start))
            if w.scheduled_start is not None and not preferred:
                # Moved, it keeps its club time if it can.
                clock = timezone.localtime(w.scheduled_start).time()
                preferred = {n: _floor(base, at(d, clock)) for n, d in enumerate(days)}
        inst.sessions.append(
            SessionSpec(
                index=i,
                name=s.name,
                steps=s.steps,
                intensity=s.intensity,
                load=s.load_percent,
                players=tuple(players),
                facilities=tuple(dict.fromkeys(s.facility_ids)),
                hard=s.is_hard,
                allowed_days=allowed,
                own=own,
                preferred=preferred,
                blocked=left_out,
                current=current,
            )
        )


def _players(ctx: Context, s: SessionIn) -> list[int]:
    if s.player_ids == "squad":
        return sorted(ctx.players)
    if not s.player_ids and s.workout_id:
        return sorted(ctx.workout_players.get(s.workout_id, ()))
    return list(dict.fromkeys(s.player_ids))


def _exercises(ctx: Context) -> dict[int, tuple[ExerciseSpec, ...]]:
    """The exercises the medical gate judges per session: its template's or its workout's (two queries)."""
    out: dict[int, tuple[ExerciseSpec, ...]] = {}
    by_template: dict[int, list[ExerciseSpec]] = {}
    if ctx.templates:
        for row in TemplateExercise.objects.filter(template_id__in=ctx.templates).select_related("exercise"):
            by_template.setdefault(row.template_id, []).append(
                ExerciseSpec.from_exercise(row.exercise, load_percent=row.load_percent)
            )
    saved = planned_workouts(ctx.workouts) if ctx.workouts else {}
    for i, s in enumerate(ctx.problem.sessions):
        if s.template_id:
            out[i] = tuple(by_template.get(s.template_id, ()))
        elif s.workout_id and s.workout_id in saved:
            out[i] = saved[s.workout_id].exercises
    return out
