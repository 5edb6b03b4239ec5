"""/api/v1/calendars: imported busy time (upload .ics, list, events, delete) and the plan's feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from api.auth import principal
from api.problems import ApiProblem, refusal
from api.schemas import Problem, RowOut
from calendars.ics import CalendarFileError
from calendars.models import FeedToken, ImportedCalendar
from calendars.selectors import busy_events, calendars_for_team, feeds_for_team
from calendars.services import (
    CalendarRefused,
    feed_token_get_or_create,
    feed_token_revoke,
    feed_token_rotate,
    imported_calendar_delete,
    imported_calendar_import,
)
from calendars.tokens import feed_path
from workouts.models import Facility, Player

router = Router(tags=["calendars"])
ERRORS = frozenset({400, 401, 403, 404, 409, 422, 429})
MAX_EVENTS = 2000


class CalendarOut(Schema):
    id: int
    name: str
    team: str | None = Field(None, description="the team's slug (busy time for the team)")
    facilityId: int | None = Field(None, description="the facility (busy time for the facility, every team)")
    source: str
    events: int
    lastSyncedAt: dt.datetime | None
    lastError: str


class ImportOut(CalendarOut):
    created: int
    updated: int
    removed: int
    unchanged: int


class EventOut(RowOut):
    id: int
    calendarId: int
    uid: str
    title: str
    location: str
    start: dt.datetime
    end: dt.datetime
    allDay: bool


class FeedIn(Schema):
    kind: Literal["team", "player", "facility"]
    playerId: int | None = Field(None, ge=1, le=2**31 - 1)
    facilityId: int | None = Field(None, ge=1, le=2**31 - 1)


class FeedOut(Schema):
    id: int
    kind: str
    subject: str
    playerId: int | None
    facilityId: int | None
    url: str | None = Field(
        None, description="the secret feed URL (text/calendar); null if it must be rotated"
    )
    createdAt: dt.datetime


class Span(Schema):
    start: dt.datetime
    end: dt.datetime


def calendar_dict(c: ImportedCalendar, events: int | None = None) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "team": c.team.slug if c.team_id else None,
        "facilityId": c.facility_id,
        "source": c.source,
        "events": events if events is not None else getattr(c, "event_count", 0),
        "lastSyncedAt": c.last_synced_at,
        "lastError": c.last_error,
    }


def feed_dict(request: HttpRequest, f: FeedToken) -> dict[str, Any]:
    path = feed_path(f)
    return {
        "id": f.pk,
        "kind": f.kind,
        "subject": f.subject,
        "playerId": f.player_id,
        "facilityId": f.facility_id,
        "url": request.build_absolute_uri(path) if path else None,
        "createdAt": f.created_at,
    }


def refused(exc: CalendarRefused | CalendarFileError, field: str) -> ApiProblem:
    return refusal(422, "CALENDAR_REFUSED", exc.message, field=exc.field or field)


@router.get(
    "/calendars", response={200: list[CalendarOut], ERRORS: Problem}, summary="The team's imported calendars"
)
def index(request: HttpRequest, team: str | None = None):
    return [calendar_dict(c) for c in calendars_for_team(team=principal(request).team(team))]


@router.post(
    "/calendars",
    response={201: ImportOut, ERRORS: Problem},
    summary="Import an .ics as busy time for the team (or a facility); the same name re-imports",
)
def create(
    request: HttpRequest,
    file: File[UploadedFile],
    name: Form[str],
    facilityId: Form[int | None] = None,
    team: str | None = None,
):
    who = principal(request)
    target = who.team(team)
    facility = None
    if facilityId is not None:
        facility = Facility.objects.filter(pk=facilityId).first()
        if facility is None:
            raise ApiProblem(422, "CALENDAR_REFUSED", f"no facility with id {facilityId}")
    if file.size is not None and file.size > settings.CALENDAR_IMPORT_MAX_BYTES:
        raise ApiProblem(
            422, "CALENDAR_REFUSED", f"the file is larger than {settings.CALENDAR_IMPORT_MAX_BYTES:,} bytes"
        )
    try:
        result = imported_calendar_import(
            user=who.user,
            data=file.read(),
            name=name,
            team=None if facility else target,
            facility=facility,
            channel="api",
        )
    except CalendarFileError as exc:
        raise refused(exc, "file") from None
    except CalendarRefused as exc:
        raise refused(exc, "name") from None
    body = calendar_dict(result.calendar, events=result.total)
    body.update(
        created=result.created, updated=result.updated, removed=result.removed, unchanged=result.unchanged
    )
    return Status(201, body)


def get_calendar(request: HttpRequest, calendar_id: int, team: str | None) -> ImportedCalendar:
    return get_object_or_404(calendars_for_team(team=principal(request).team(team)), pk=calendar_id)


@router.get(
    "/calendars/busy",
    response={200: list[EventOut], ERRORS: Problem},
    summary="Busy time (the team's and the facilities') overlapping a span of at most 366 days",
)
def busy(request: HttpRequest, span: Query[Span], team: str | None = None):
    # A time without an offset is club time.
    start, end = (v if v.tzinfo else timezone.make_aware(v) for v in (span.start, span.end))
    if end <= start or end - start > dt.timedelta(days=366):
        raise ApiProblem(400, "BAD_SPAN", "end must be after start, at most 366 days later")
    target = principal(request).team(team)
    rows = busy_events(team_id=target.pk, facility_ids=None, low=start, high=end)[:MAX_EVENTS]
    return list(rows)


@router.get(
    "/calendars/{int:calendar_id}",
    response={200: CalendarOut, ERRORS: Problem},
    summary="One imported calendar",
)
def show(request: HttpRequest, calendar_id: int, team: str | None = None):
    return calendar_dict(get_calendar(request, calendar_id, team))


@router.get(
    "/calendars/{int:calendar_id}/events",
    response={200: list[EventOut], ERRORS: Problem},
    summary="The calendar's busy events (occurrences expanded), by start",
)
def events(request: HttpRequest, calendar_id: int, team: str | None = None):
    calendar = get_calendar(request, calendar_id, team)
    return list(calendar.events.order_by("start", "id")[:MAX_EVENTS])


@router.delete(
    "/calendars/{int:calendar_id}",
    response={204: None, ERRORS: Problem},
    summary="Delete an imported calendar and its busy time",
)
def delete(request: HttpRequest, calendar_id: int, team: str | None = None):
    calendar = get_calendar(request, calendar_id, team)
    imported_calendar_delete(
        user=principal(request).user, calendar=ImportedCalendar.objects.get(pk=calendar.pk), channel="api"
    )
    return Status(204, None)


@router.get(
    "/calendars/feeds", response={200: list[FeedOut], ERRORS: Problem}, summary="The team's live feed links"
)
def feeds(request: HttpRequest, team: str | None = None):
    return [feed_dict(request, f) for f in feeds_for_team(team=principal(request).team(team))]


@router.post(
    "/calendars/feeds",
    response={201: FeedOut, ERRORS: Problem},
    summary="The live feed link of the team, a player or a facility (made on first use)",
)
def feed_create(request: HttpRequest, payload: FeedIn, team: str | None = None):
    who = principal(request)
    target = who.team(team)
    player = facility = None
    if payload.kind == "player":
        player = Player.objects.filter(team=target, pk=payload.playerId).first() if payload.playerId else None
    if payload.kind == "facility":
        facility = Facility.objects.filter(pk=payload.facilityId).first() if payload.facilityId else None
    try:
        feed = feed_token_get_or_create(
            user=who.user, kind=payload.kind, team=target, player=player, facility=facility, channel="api"
        )
    except CalendarRefused as exc:
        raise refused(exc, exc.field) from None
    return Status(201, feed_dict(request, feed))


def get_feed(request: HttpRequest, feed_id: int) -> FeedToken:
    teams = principal(request).teams().values("pk")
    return get_object_or_404(
        FeedToken.objects.select_related("team", "player", "facility").filter(
            team__in=teams, revoked_at__isnull=True
        ),
        pk=feed_id,
    )


@router.post(
    "/calendars/feeds/{int:feed_id}/rotate",
    response={201: FeedOut, ERRORS: Problem},
    summary="A new link for the feed; the old one answers 404 from now on",
)
def feed_rotate(request: HttpRequest, feed_id: int):
    feed = feed_token_rotate(user=principal(request).user, feed=get_feed(request, feed_id), channel="api")
    return Status(201, feed_dict(request, feed))


@router.delete(
    "/calendars/feeds/{int:feed_id}", response={204: None, ERRORS: Problem}, summary="Revoke a feed link"
)
def feed_revoke(request: HttpRequest, feed_id: int):
    feed_token_revoke(user=principal(request).user, feed=get_feed(request, feed_id), channel="api")
    return Status(204, None)
