"""/api/v1/workouts, /players, /templates, /restrictions: what a client needs to build requests.

The same filters as the list pages, scoped to the caller's team.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from api.auth import principal
from api.pagination import TeamPageQuery, offset_page
from api.presenters import players_dicts, restriction_dict
from api.schemas import PlayerPage, Problem, RestrictionPage, TemplatePage, WorkoutPage
from medical.roles import is_medic_or_staff
from medical.selectors import restrictions_for_team
from medical.services import clinical_notes_read_many
from workouts.forms import SORTS, WorkoutFilterForm
from workouts.models import Player, Workout
from workouts.selectors import (
    players_for_team,
    templates_for_team,
    workouts_filtered,
    workouts_for_team,
)

router = Router(tags=["catalog"])
ERRORS = frozenset({400, 401, 403, 404, 422, 429})


class WorkoutFilters(TeamPageQuery):
    q: str | None = Field(None, max_length=100, description="Name, notes or facility contains")
    type: Workout.Type | None = None
    status: Literal["all", "draft", "scheduled", "completed", "cancelled", "archived"] | None = Field(
        None, description="Default: active (not archived); `all` includes archived"
    )
    dateFrom: dt.date | None = None
    dateTo: dt.date | None = None
    sort: Literal[tuple(SORTS)] | None = None  # type: ignore[valid-type]


@router.get(
    "/workouts", response={200: WorkoutPage, ERRORS: Problem}, summary="Workouts (the list page's filters)"
)
def workouts(request: HttpRequest, filters: Query[WorkoutFilters]):
    team = principal(request).team(filters.team)
    form = WorkoutFilterForm(
        {
            "q": filters.q or "",
            "type": filters.type or "",
            "status": filters.status or "",
            "date_from": filters.dateFrom or "",
            "date_to": filters.dateTo or "",
            "sort": filters.sort or "",
        }
    )
    if not form.is_valid():
        from api.problems import ApiProblem, field_error

        errors = [
            field_error(field, "VALIDATION_ERROR", " ".join(msgs)) for field, msgs in form.errors.items()
        ]
        raise ApiProblem(400, "BAD_REQUEST", "Some filters are invalid.", errors=errors)
    qs = workouts_filtered(workouts_for_team(team=team), form.filters)
    return offset_page(qs, filters)


class PlayerFilters(TeamPageQuery):
    q: str | None = Field(None, max_length=100, description="First or last name contains")
    position: Player.Position | None = None
    availability: Player.Availability | None = None


@router.get(
    "/players", response={200: PlayerPage, ERRORS: Problem}, summary="The roster, with medical status"
)
def players(request: HttpRequest, filters: Query[PlayerFilters]):
    team = principal(request).team(filters.team)
    qs = players_for_team(team=team)
    if filters.q:
        qs = qs.filter(Q(first_name__icontains=filters.q) | Q(last_name__icontains=filters.q))
    if filters.position:
        qs = qs.filter(position=filters.position)
    if filters.availability:
        qs = qs.filter(availability=filters.availability)
    return offset_page(
        qs.order_by("last_name", "first_name", "id"),
        filters,
        present=players_dicts,
    )


class TemplateFilters(TeamPageQuery):
    q: str | None = Field(None, max_length=100, description="Name contains")
    category: Workout.Type | None = None


@router.get("/templates", response={200: TemplatePage, ERRORS: Problem}, summary="Workout templates")
def templates(request: HttpRequest, filters: Query[TemplateFilters]):
    team = principal(request).team(filters.team)
    qs = templates_for_team(team=team, user=principal(request).user)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    if filters.category:
        qs = qs.filter(category=filters.category)
    return offset_page(qs.order_by("name", "id"), filters)


class RestrictionFilters(TeamPageQuery):
    current: bool = Field(False, description="Only restrictions in effect today")
    player: int | None = Field(None, ge=1, le=2**53, description="One player's restrictions")
    include: Literal["clinicalNotes"] | None = Field(
        None, description="clinicalNotes: medics and staff only (403 otherwise); every read is audited"
    )


@router.get(
    "/restrictions",
    response={200: RestrictionPage, ERRORS: Problem},
    summary="Medical restrictions (summaries; clinical notes for medical staff, audited)",
)
def restrictions(request: HttpRequest, filters: Query[RestrictionFilters]):
    who = principal(request)
    team = who.team(filters.team)
    with_notes = filters.include == "clinicalNotes"
    if with_notes and not is_medic_or_staff(user=who.user, team=team):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only medical staff and club staff may read clinical notes.")
    rows = restrictions_for_team(
        user=who.user, team=team, include_notes=with_notes, current_only=filters.current
    )
    if filters.player:
        rows = [r for r in rows if r.player_id == filters.player]
    offset_rows = _slice(rows, filters)
    if with_notes:
        with transaction.atomic():
            clinical_notes_read_many(
                user=who.user,
                team=team,
                restriction_ids=[r.id for r in offset_rows["data"]],
                channel="api",
                purpose="GET /api/v1/restrictions?include=clinicalNotes",
            )
    offset_rows["data"] = [restriction_dict(r, with_notes=with_notes) for r in offset_rows["data"]]
    return offset_rows


def _slice(rows: list, filters: RestrictionFilters) -> dict:
    from api.pagination import bad_cursor, decode_cursor, encode_cursor

    offset = decode_cursor(filters.cursor) or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise bad_cursor()
    page = rows[offset : offset + filters.limit]
    more = len(rows) > offset + filters.limit
    return {
        "data": page,
        "hasMore": more,
        "nextCursor": encode_cursor(offset + filters.limit) if more else None,
    }
