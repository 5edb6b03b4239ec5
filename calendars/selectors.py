"""Reads for calendars: busy time for the calendar rules and pages, imported calendars, feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import Count, Q, QuerySet

from calendars.models import BusyEvent, FeedToken, ImportedCalendar
from calendars.tokens import TOKEN_PREFIX, hash_token
from workouts.calendar import BusyPeriod
from workouts.models import Team


def busy_events(
    *, team_id: int | None, facility_ids: Collection[int] | None, low: dt.datetime, high: dt.datetime
) -> QuerySet[BusyEvent]:
    """Busy events overlapping [low, high) of the team's calendars and those facilities' (None: all)."""
    owners = Q(calendar__team_id=team_id) if team_id is not None else Q(pk__in=[])
    if facility_ids is None:
        owners |= Q(calendar__facility__isnull=False)
    elif facility_ids:
        owners |= Q(calendar__facility_id__in=list(facility_ids))
    return BusyEvent.objects.filter(owners, start__lt=high, end__gt=low).order_by("start", "id")


def busy_provider(
    team_id: int | None, facility_ids: Collection[int] | None, low: dt.datetime, high: dt.datetime
) -> list[BusyPeriod]:
    """The provider `workouts.calendar` asks for busy time: one query."""
    rows = busy_events(team_id=team_id, facility_ids=facility_ids, low=low, high=high).values_list(
        "pk", "title", "start", "end", "calendar__team_id", "calendar__facility_id", "calendar__name"
    )
    return [
        BusyPeriod(
            key=str(pk), title=title, start=start, end=end, team_id=team, facility_id=facility, source=source
        )
        for pk, title, start, end, team, facility, source in rows
    ]


def calendars_for_team(*, team: Team) -> QuerySet[ImportedCalendar]:
    """The team's imported calendars and the facilities' (shared by the club), with event counts."""
    return (
        ImportedCalendar.objects.filter(Q(team=team) | Q(facility__isnull=False))
        .select_related("team", "facility")
        .annotate(event_count=Count("events"))
        .order_by("facility__name", "name", "id")
    )


def feeds_for_team(*, team: Team) -> QuerySet[FeedToken]:
    return (
        FeedToken.objects.filter(team=team, revoked_at__isnull=True)
        .select_related("team", "player", "facility")
        .order_by("kind", "player__last_name", "facility__name", "id")
    )


def feed_for_token(token: str) -> FeedToken | None:
    """The live feed a secret opens (one indexed query), or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return (
        FeedToken.objects.select_related("team", "player", "facility")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
