"""/api/v1/analytics: batch figures and training load, from analytics.selectors, scoped like the pages.

A token sees its team; a session every team its user works in (staff: the club). Filters are checked by
the dashboard's own form (analytics.forms), so the API and the page refuse the same input, with 400.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import BaseModel, ConfigDict, Field

from analytics.forms import AnalyticsFilterForm, Scope, scope_of
from analytics.selectors import batch_errors, batch_series, batch_summary, batch_types, training_load
from api.auth import principal
from api.problems import ApiProblem
from api.schemas import Problem, RowOut
from workouts.models import Team

router = Router(tags=["analytics"])
ERRORS = frozenset({400, 401, 403, 404, 429})


class Range(Schema):
    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date | None = Field(
        None,
        alias="from",
        description="First local day (club's zone), inclusive; default: 8 weeks before `to`",
    )
    to: dt.date | None = Field(None, description="Last local day, inclusive; default: today")
    team: str | None = Field(
        None, max_length=60, description="Team slug; default: every team the caller sees"
    )


class BatchFilters(Range):
    groupBy: Literal["day", "week", "type", "user"] = Field(
        "week", description="Rows per local day, ISO week (its Monday), operation type or user"
    )


class ItemOutcomesOut(RowOut):
    items: int
    succeeded: int
    failed: int
    skipped: int
    cancelled: int
    conflicted: int
    successRate: float | None


class SeriesRowOut(ItemOutcomesOut):
    key: str
    label: str
    batches: int
    completed: int
    withErrors: int
    failedBatches: int
    cancelledBatches: int
    undoneBatches: int


class SummaryOut(ItemOutcomesOut):
    batches: int
    automatedBatches: int
    automatedItems: int
    manualBatches: int
    manualItems: int
    retriedBatches: int
    undoneBatches: int
    durationP50Ms: float | None
    durationP95Ms: float | None
    estimateRatioP50: float | None
    estimateRatioP95: float | None
    outcomes: dict[str, int]


class TypeOut(RowOut):
    type: str
    label: str
    batches: int
    items: int
    succeeded: int
    failed: int
    timedItems: int
    workMs: float
    durationP50Ms: float | None = Field(description="Median over batches of the type's work time")
    durationP95Ms: float | None
    throughputP50: float | None = Field(description="Median items per second of work")
    throughputP95: float | None
    estimateMsPerItem: float | None
    actualMsPerItem: float | None
    estimateRatio: float | None


class ActionOut(RowOut):
    action: str = Field(description="The suggested action; empty gathers a batch's rarer ones")
    items: int


class ErrorOut(RowOut):
    code: str
    items: int
    batches: int
    retriedBatches: int
    undoneBatches: int
    retryRate: float | None
    undoRate: float | None
    actions: list[ActionOut]

    @staticmethod
    def resolve_actions(row: Any) -> list[dict[str, Any]]:
        return [{"action": action, "items": items} for action, items in row.actions]


class BatchAnalytics(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date
    groupBy: str
    teams: list[str]
    summary: SummaryOut
    rows: list[SeriesRowOut]
    types: list[TypeOut]
    errors: list[ErrorOut]


class WeekOut(RowOut):
    week: dt.date = Field(description="Monday of the ISO week")
    sessions: int
    minutes: int
    load: int = Field(description="Sum of assignment load % (the daily limit's model)")
    change: float | None = Field(description="Share of change from the week before; null after a zero week")
    acwr: float | None = Field(description="Acute:chronic ratio: load over the mean of the 4 weeks before")
    flagged: bool
    restricted: bool


class PlayerLoadOut(RowOut):
    id: int
    name: str
    jerseyNumber: int
    weeks: list[WeekOut]


class WeekTotalOut(RowOut):
    week: dt.date
    sessions: int
    minutes: int
    load: int
    playersRestricted: int
    playersFlagged: int


class LoadAnalytics(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date
    teams: list[str]
    jump: float = Field(
        description="A rise above this share week on week flags the player (ANALYTICS_LOAD_JUMP)"
    )
    weeks: list[dt.date]
    totals: list[WeekTotalOut]
    players: list[PlayerLoadOut]


def _filters(request: HttpRequest, filters: Range, group: str = "week") -> tuple[AnalyticsFilterForm, Scope]:
    form = AnalyticsFilterForm(
        {
            "team": filters.team or "",
            "date_from": filters.from_.isoformat() if filters.from_ else "",
            "date_to": filters.to.isoformat() if filters.to else "",
            "group": group,
        }
    )
    if not form.is_valid():
        raise ApiProblem(400, "BAD_REQUEST", form.first_error())
    who = principal(request)
    scope = scope_of(teams=who.teams(), slug=form.cleaned_data["team"] or None, club_wide=who.user.is_staff)
    return form, scope


def _echo(form: AnalyticsFilterForm, scope: Scope) -> dict[str, Any]:
    """What every answer repeats of its question: the local days it covers and the teams it counts."""
    teams = Team.objects.filter(pk__in=scope.team_ids).order_by("slug").values_list("slug", flat=True)
    return {"from": form.cleaned_data["date_from"], "to": form.cleaned_data["date_to"], "teams": list(teams)}


@router.get(
    "/analytics/batches",
    response={200: BatchAnalytics, ERRORS: Problem},
    by_alias=True,
    summary="Batch figures over a range: rows by day/week/type/user, per-type times, errors",
)
def batches(request: HttpRequest, filters: Query[BatchFilters]):
    """From the roll-ups kept at each batch's finish. Days and weeks are the club's local ones."""
    form, scope = _filters(request, filters, filters.groupBy)
    args = {
        "team_ids": scope.team_ids,
        "first": form.cleaned_data["date_from"],
        "last": form.cleaned_data["date_to"],
    }
    return {
        **_echo(form, scope),
        "groupBy": filters.groupBy,
        "summary": batch_summary(**args),
        "rows": batch_series(**args, group=filters.groupBy),
        "types": batch_types(**args),
        "errors": batch_errors(**args),
    }


@router.get(
    "/analytics/load",
    response={200: LoadAnalytics, ERRORS: Problem},
    by_alias=True,
    summary="Planned training load per player per ISO week, with week-on-week change and flags",
)
def load(request: HttpRequest, filters: Query[Range]):
    """Whole ISO weeks meeting the range; at most two seasons of weeks at a time."""
    form, scope = _filters(request, filters)
    if message := form.load_range_error():
        raise ApiProblem(400, "BAD_REQUEST", message)
    first, last = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    result = training_load(team_ids=scope.team_ids, first=first, last=last)
    return {
        **_echo(form, scope),
        "jump": result.jump,
        "weeks": result.weeks,
        "totals": result.totals,
        "players": result.players,
    }
