"""/api/v1/planner: plan a week with the constraint solver; the answer holds an exchange-format request
to validate and submit (POST /batches/validate, POST /batches). Nothing is written here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from api.auth import principal
from api.body import read_json
from api.problems import ApiProblem, field_error
from api.schemas import Problem
from planner.planning import plan_week
from planner.problem import PlannerProblemError, ProblemIn

router = Router(tags=["planner"])
ERRORS = frozenset({400, 401, 403, 404, 422, 429})


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The problem's JSON Schema with its $defs written in place (the models have no cycles)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


PROBLEM_BODY = {
    "requestBody": {
        "required": True,
        "description": "The week to plan: team, from, to, sessions, rules (see docs/api.md, Planner).",
        "content": {"application/json": {"schema": _inline(ProblemIn.model_json_schema(by_alias=True))}},
    }
}


class PlanOut(Schema):
    team: str
    feasible: bool = Field(description="Every session placed; else `unplaced` says why not")
    request: dict[str, Any] = Field(description="The plan as an exchange-format batch request")
    sessions: list[dict[str, Any]]
    unplaced: list[dict[str, Any]] = Field(
        description="Sessions that do not fit, with whyNot and explanation"
    )
    blockedPlayers: list[dict[str, Any]] = Field(
        description="Players the medical gate leaves out, per session"
    )
    peakDailyLoad: int
    solveSeconds: float
    solverStatus: str
    stages: list[str]


def _field(message: str) -> tuple[str | None, str]:
    head, sep, tail = message.partition(": ")
    return (head, tail) if sep and " " not in head else (None, message)


@router.post(
    "",
    response={200: PlanOut, ERRORS: Problem},
    openapi_extra=PROBLEM_BODY,
    summary="Plan sessions into a week (CP-SAT); answers a batch request to validate and run",
)
def plan(request: HttpRequest):
    """Places the sessions under the club's rules (opening hours, bookings and busy time, double
    booking, daily load, restrictions, rest, no hard session the day before a game). 200 even when some
    sessions do not fit (`feasible: false`, with the obstacles per session); 400 for a problem that
    cannot be planned as sent."""
    who = principal(request)
    raw = read_json(request)
    if isinstance(raw, dict) and isinstance(raw.get("team"), str):
        who.team(raw["team"])  # 404 for a team the caller (or the token) may not plan for
    try:
        result = plan_week(user=who.user, raw=raw)
    except PlannerProblemError as exc:
        errors = []
        for message in exc.messages:
            field, text = _field(message)
            errors.append(field_error(field, "INVALID_PROBLEM", text, severity="error"))
        raise ApiProblem(400, "INVALID_PROBLEM", exc.messages[0], errors=errors) from None
    return result.as_dict()
