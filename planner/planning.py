"""Plan a week: parse the problem, build the instance, solve, explain what did not fit, and write the
plan as an exchange-format batch request. Nothing is written to the database: the trainer validates
and runs the request as a normal batch.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from planner.context import Context, build_context
from planner.problem import PlannerProblemError, ProblemIn, parse_problem
from planner.solver import SEED, explain, solve
from planner.wording import sentence, why_not
from workouts.models import Team, Workout
from workouts.selectors import teams_for_user

REQUEST_SOURCE = "planner"
# Operation metadata is bounded (batch.exchange.fields.FREE_JSON_MAX_CHARS): reasons are shortened.
METADATA_BUDGET = 1900
REASON_CHARS = 160


@dataclass
class SessionOutcome:
    index: int
    name: str
    operation_id: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    facility_id: int | None = None
    facility: str = ""
    player_ids: list[int] = field(default_factory=list)
    blocked_players: list[dict[str, Any]] = field(default_factory=list)
    moved: bool | None = None  # for an existing workout: whether the plan moves it
    why_not: list[str] = field(default_factory=list)
    explanation: str = ""

    @property
    def placed(self) -> bool:
        return self.start is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "placed": self.placed,
            "operationId": self.operation_id,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "facilityId": self.facility_id,
            "facility": self.facility,
            "playerIds": self.player_ids,
            "blockedPlayers": self.blocked_players,
            "moved": self.moved,
            "whyNot": self.why_not,
            "explanation": self.explanation,
        }


@dataclass
class PlanResult:
    team: Team
    problem: ProblemIn
    request: dict[str, Any]
    sessions: list[SessionOutcome]
    peak_load: int
    seconds: float
    status: str
    stages: list[str]

    @property
    def feasible(self) -> bool:
        return all(s.placed for s in self.sessions)

    @property
    def explanations(self) -> list[str]:
        return [s.explanation for s in self.sessions if not s.placed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team.slug,
            "feasible": self.feasible,
            "request": self.request,
            "sessions": [s.as_dict() for s in self.sessions],
            "unplaced": [s.as_dict() for s in self.sessions if not s.placed],
            "blockedPlayers": [{"session": s.name, **b} for s in self.sessions for b in s.blocked_players],
            "peakDailyLoad": self.peak_load,
            "solveSeconds": round(self.seconds, 3),
            "solverStatus": self.status,
            "stages": self.stages,
        }


def team_of(*, user: Any, slug: str) -> Team:
    team = teams_for_user(user=user).filter(slug=slug).first()
    if team is None:
        raise PlannerProblemError([f"team: you do not work in a team {slug!r}"])
    return team


def plan_week(*, user: Any, raw: Any, explain_limit: float | None = None) -> PlanResult:
    """Return the plan of the problem (a JSON value); PlannerProblemError if it cannot be planned as sent."""
    problem = parse_problem(raw)
    team = team_of(user=user, slug=problem.team)
    ctx = build_context(problem=problem, team=team, user=user)
    solution = solve(ctx.instance, time_limit=problem.time_limit_seconds, seed=SEED)
    outcomes = _outcomes(ctx, solution.placements)
    placed = {i: (p.start, p.facility) for i, p in solution.placements.items()}
    # Explaining shares one more time limit among the sessions that did not fit.
    total = explain_limit if explain_limit is not None else max(2.0, problem.time_limit_seconds)
    limit = max(total / max(len(solution.unplaced), 1), 0.5)
    for i in solution.unplaced:
        rules = explain(ctx.instance, i, sorted(placed), time_limit=limit)
        outcomes[i].why_not = why_not(ctx, i, rules, placed)
        outcomes[i].explanation = sentence(ctx, i, outcomes[i].why_not)
    return PlanResult(
        team=team,
        problem=problem,
        request=_request(ctx, outcomes),
        sessions=outcomes,
        peak_load=solution.peak_load,
        seconds=solution.seconds,
        status=solution.status,
        stages=solution.stages,
    )


def _outcomes(ctx: Context, placements: dict[int, Any]) -> list[SessionOutcome]:
    out = []
    for i, s in enumerate(ctx.problem.sessions):
        outcome = SessionOutcome(index=i, name=s.name)
        p = placements.get(i)
        if p is not None:
            outcome.start, outcome.end = ctx.moment(p.start), ctx.moment(p.end)
            outcome.facility_id = p.facility
            outcome.facility = ctx.facilities[p.facility].name
            outcome.player_ids = list(p.players)
            outcome.blocked_players = [
                {
                    "playerId": pid,
                    "name": ctx.players[pid].name,
                    "reason": ctx.reasons.get((i, p.day, pid), "blocked by a medical restriction"),
                }
                for pid in p.left_out
            ]
            if s.workout_id:
                w: Workout = ctx.workouts[s.workout_id]
                outcome.moved = not (
                    w.scheduled_start == outcome.start
                    and w.scheduled_end == outcome.end
                    and w.facility_id == p.facility
                )
        out.append(outcome)
    return out


def _stamp(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _note(outcome: SessionOutcome) -> dict[str, Any]:
    """Operation metadata: the session and who the medical gate leaves out, within the size bound."""
    note: dict[str, Any] = {"planner": outcome.name[:100]}
    if outcome.blocked_players:
        note["blockedPlayers"] = [
            {**b, "reason": b["reason"][:REASON_CHARS]} for b in outcome.blocked_players
        ]
        if len(json.dumps(note)) > METADATA_BUDGET:
            note["blockedPlayers"] = [b["playerId"] for b in outcome.blocked_players]
    return note


def _request(ctx: Context, outcomes: list[SessionOutcome]) -> dict[str, Any]:
    operations = []
    for outcome in outcomes:
        if not outcome.placed:
            continue
        s = ctx.problem.sessions[outcome.index]
        op_id = f"plan-{outcome.index + 1}"
        if s.workout_id:
            if not outcome.moved:
                continue
            operations.append(
                {
                    "id": op_id,
                    "type": "SCHEDULE",
                    "data": {
                        "workoutId": s.workout_id,
                        "start": _stamp(outcome.start),
                        "end": _stamp(outcome.end),
                        "facilityId": outcome.facility_id,
                    },
                    "metadata": _note(outcome),
                }
            )
        else:
            workout: dict[str, Any] = {
                "name": s.name,
                "status": "scheduled",
                "scheduledStart": _stamp(outcome.start),
                "scheduledEnd": _stamp(outcome.end),
                "facilityId": outcome.facility_id,
                "intensity": s.intensity,
            }
            if s.type:
                workout["type"] = s.type
            data: dict[str, Any] = {
                "workout": workout,
                "assignments": [
                    {"playerId": pid, "loadPercent": s.load_percent} for pid in outcome.player_ids
                ],
            }
            if s.template_id:
                data["templateId"] = s.template_id
            if not data["assignments"]:
                del data["assignments"]
            operations.append({"id": op_id, "type": "CREATE", "data": data, "metadata": _note(outcome)})
        outcome.operation_id = op_id
    first, last = ctx.problem.from_, ctx.problem.to
    return {
        "operations": operations,
        "options": {"conflictResolution": "FAIL", "blockedPlayers": "exclude"},
        "metadata": {
            "description": f"Plan of {ctx.team.name}, {first.isoformat()} to {last.isoformat()}"[:300],
            "source": REQUEST_SOURCE,
            "tags": ["planner"],
        },
    }
