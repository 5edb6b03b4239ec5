"""/api/v1/recipes and /api/v1/automations: saved requests, their schedules and run history.

Team-scoped like everything else: a recipe belongs to one team, and a caller sees only the recipes of
the teams they work in (a token: its team).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.auth import principal
from api.pagination import TeamPageQuery, keyset_page
from api.problems import ApiProblem, refusal
from api.schemas import Problem
from automations.models import Recipe, Schedule, ScheduleRun
from automations.recipes import RecipeError, recipe_create
from automations.schedules import ScheduleError, next_runs, schedule_create

router = Router(tags=["automations"])
ERRORS = frozenset({400, 401, 403, 404, 422, 429})


class RecipeIn(Schema):
    name: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00]*$")
    request: dict[str, Any] = Field(
        description="An exchange-format request; dates may be relative (@week+N HH:MM, @day+N, @run+P7D) "
        "and an operation may carry forEachWorkout {from, to, status?, type?} instead of fixed ids"
    )
    trigger: Literal["", "player_joined"] = Field(
        "", description='player_joined: run it for each new player of the team ("@player" is their id)'
    )


class Created(Schema):
    id: int


class ScheduleIn(Schema):
    rrule: str = Field(min_length=1, max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU")
    start: dt.datetime = Field(description="DTSTART; its club-zone wall time is kept across DST")
    missed: Literal["latest", "skip"] = "latest"


class ScheduleCreated(Schema):
    id: int
    nextRuns: list[str] = Field(description="The next five occurrences, ISO 8601 with the club's offset")


class RecipeOut(Schema):
    id: int
    team: str
    name: str
    version: int
    request: dict[str, Any]
    createdAt: str


class ScheduleOut(Schema):
    id: int
    recipe: int
    rrule: str
    start: str
    missed: str
    paused: bool
    nextRun: str | None


class RunOut(Schema):
    id: int
    schedule: int
    occurrence: str
    status: str
    batch: int | None
    recipeVersion: int
    error: str


class RecipePage(Schema):
    data: list[RecipeOut]
    hasMore: bool
    nextCursor: str | None


class SchedulePage(Schema):
    data: list[ScheduleOut]
    hasMore: bool
    nextCursor: str | None


class RunPage(Schema):
    data: list[RunOut]
    hasMore: bool
    nextCursor: str | None


class RunFilters(TeamPageQuery):
    schedule: int | None = Field(None, ge=1, le=2**53)


def iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def refused(exc: Exception, field: str) -> ApiProblem:
    return refusal(422, "AUTOMATION_REFUSED", str(exc), field=field)


@router.post(
    "/recipes", response={201: Created, ERRORS: Problem}, summary="Save a recipe (a relative request)"
)
def recipe_new(request: HttpRequest, payload: RecipeIn, team: str | None = None):
    who = principal(request)
    try:
        recipe = recipe_create(
            user=who.user,
            team=who.team(team),
            name=payload.name,
            request=payload.request,
            trigger=payload.trigger,
        )
    except RecipeError as exc:
        raise refused(exc, "request") from None
    return Status(201, {"id": recipe.pk})


@router.post(
    "/recipes/{recipe_id}/schedules",
    response={201: ScheduleCreated, ERRORS: Problem},
    summary="Run a recipe on an RRULE in the club's zone",
)
def schedule_new(request: HttpRequest, recipe_id: int, payload: ScheduleIn):
    who = principal(request)
    recipe = get_object_or_404(
        Recipe.objects.filter(team__in=who.teams()).select_related("team"), pk=recipe_id
    )
    try:
        schedule = schedule_create(
            user=who.user, recipe=recipe, rrule_text=payload.rrule, start=payload.start, missed=payload.missed
        )
        upcoming = next_runs(schedule.rrule, schedule.start, after=schedule.last_occurrence)
    except ScheduleError as exc:
        raise refused(exc, "rrule") from None
    return Status(201, {"id": schedule.pk, "nextRuns": [iso(d) for d in upcoming]})


def recipe_dicts(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "team": r.team.slug,
            "name": r.name,
            "version": r.version,
            "request": r.request,
            "createdAt": iso(r.created_at),
        }
        for r in rows
    ]


@router.get("/automations/recipes", response={200: RecipePage, ERRORS: Problem}, summary="The team's recipes")
def recipe_list(request: HttpRequest, filters: Query[TeamPageQuery]):
    team = principal(request).team(filters.team)
    qs = Recipe.objects.filter(team=team).select_related("team")
    return keyset_page(qs, filters, present=recipe_dicts)


def schedule_dicts(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": s.pk,
            "recipe": s.recipe_id,
            "rrule": s.rrule,
            "start": iso(s.start),
            "missed": s.missed,
            "paused": s.paused,
            "nextRun": None if s.paused else iso(s.next_run_at),
        }
        for s in rows
    ]


@router.get(
    "/automations/schedules", response={200: SchedulePage, ERRORS: Problem}, summary="The team's schedules"
)
def schedule_list(request: HttpRequest, filters: Query[TeamPageQuery]):
    team = principal(request).team(filters.team)
    qs = Schedule.objects.filter(recipe__team=team)
    return keyset_page(qs, filters, present=schedule_dicts)


def run_dicts(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "schedule": r.schedule_id,
            "occurrence": iso(r.occurrence),
            "status": r.status,
            "batch": r.batch_id,
            "recipeVersion": r.recipe_version,
            "error": r.error,
        }
        for r in rows
    ]


@router.get(
    "/automations/runs",
    response={200: RunPage, ERRORS: Problem},
    summary="Runs of the team's schedules, newest first, linked to their batches",
)
def run_list(request: HttpRequest, filters: Query[RunFilters]):
    team = principal(request).team(filters.team)
    qs = ScheduleRun.objects.filter(schedule__recipe__team=team)
    if filters.schedule is not None:
        qs = qs.filter(schedule_id=filters.schedule)
    return keyset_page(qs, filters, present=run_dicts)
