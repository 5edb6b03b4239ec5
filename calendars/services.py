"""Writes for calendars: importing busy time (one transaction per import) and feed tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from calendars.fetch import FetchFailed, fetch_calendar
from calendars.ics import CalendarFileError, ParsedEvent, parse_busy
from calendars.models import BusyEvent, FeedToken, ImportedCalendar
from calendars.queueing import enqueue_sync
from calendars.tokens import hash_token, token_of
from hockeyhub.audit import audit_record
from hockeyhub.errors import Refused
from webhooks.models import Event
from webhooks.services import webhook_event_send
from webhooks.ssrf import UnsafeTarget, check_url
from workouts.models import Facility, Membership, Player, Team
from workouts.selectors import role_in_team

MANAGE_ROLES = {Membership.Role.TRAINER, Membership.Role.MEDIC, Membership.Role.STAFF}
EVENT_FIELDS = ("title", "location", "start", "end", "all_day")


class CalendarRefused(Refused):
    """A calendar cannot be imported or a feed made as asked; `message` and `field` say why."""


@dataclass(frozen=True)
class ImportResult:
    calendar: ImportedCalendar
    created: int
    updated: int
    removed: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        return (
            f"{self.calendar.name}: {self.total} busy events "
            f"({self.created} new, {self.updated} changed, {self.removed} removed)"
        )


def check_may_manage(*, user: Any, team: Team) -> None:
    if user is None:  # the command line acts as the operator
        return
    if getattr(user, "is_staff", False) or role_in_team(user=user, team=team) in MANAGE_ROLES:
        return
    raise PermissionDenied(f"You do not work in team {team.slug}.")


def _sync_events(calendar: ImportedCalendar, parsed: list[ParsedEvent]) -> tuple[int, int, int, int]:
    """Make the calendar's rows match `parsed`, by (UID, occurrence): four statements at most."""
    existing = {(e.uid, e.instance): e for e in BusyEvent.objects.filter(calendar=calendar)}
    creates, updates = [], []
    unchanged = 0
    for event in parsed:
        row = existing.pop((event.uid, event.instance), None)
        values = {name: getattr(event, name) for name in EVENT_FIELDS}
        if row is None:
            creates.append(BusyEvent(calendar=calendar, uid=event.uid, instance=event.instance, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            updates.append(row)
        else:
            unchanged += 1
    if existing:
        BusyEvent.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    if updates:
        BusyEvent.objects.bulk_update(updates, EVENT_FIELDS, batch_size=1000)
    if creates:
        BusyEvent.objects.bulk_create(creates, batch_size=1000)
    return len(creates), len(updates), len(existing), unchanged


def imported_calendar_import(
    *,
    user: Any,
    data: bytes,
    name: str,
    team: Team | None = None,
    facility: Facility | None = None,
    source: str = ImportedCalendar.Source.UPLOAD,
    channel: str = "web",
) -> ImportResult:
    """Import an .ics as busy time for a team or a facility; a calendar of that name is re-imported.

    The file is read in full first (CalendarFileError on anything malformed); then one transaction
    writes the calendar, its events (updated by UID, those gone removed) and an audit row.
    """
    if (team is None) == (facility is None):
        raise CalendarRefused("import for exactly one team or one facility")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise CalendarRefused("a name of at most 120 characters is required", field="name")
    owner_team = team
    if team is not None:
        check_may_manage(user=user, team=team)
    elif (
        user is not None
        and not getattr(user, "is_staff", False)
        and not Membership.objects.filter(user=user, role__in=MANAGE_ROLES).exists()
    ):
        # A facility is shared by every team: any trainer of the club may import its bookings.
        raise PermissionDenied("You do not work in any team.")
    parsed = parse_busy(data)
    with transaction.atomic(durable=True):
        calendar, created = ImportedCalendar.objects.select_for_update().get_or_create(
            team=team,
            facility=facility,
            name=name,
            defaults={"source": source, "created_by": user if getattr(user, "pk", None) else None},
        )
        counts = _sync_events(calendar, parsed)
        calendar.last_synced_at = timezone.now()
        calendar.last_error = ""
        calendar.save(update_fields=["last_synced_at", "last_error", "updated_at"])
        result = ImportResult(calendar, *counts)
        audit_record(
            actor=user,
            action="calendar.import" if created else "calendar.reimport",
            obj=calendar,
            team=owner_team,
            channel=channel,
            details={
                "name": name,
                "facilityId": facility.pk if facility else None,
                "created": result.created,
                "updated": result.updated,
                "removed": result.removed,
                "unchanged": result.unchanged,
            },
        )
    return result


def imported_calendar_delete(*, user: Any, calendar: ImportedCalendar, channel: str = "web") -> None:
    """Delete an imported calendar and its busy time."""
    if calendar.team_id is not None:
        check_may_manage(user=user, team=calendar.team)
    with transaction.atomic(durable=True):
        audit_record(
            actor=user,
            action="calendar.delete",
            obj=calendar,
            team=calendar.team,
            channel=channel,
            details={"name": calendar.name, "events": calendar.events.count()},
        )
        calendar.delete()


# --- feed tokens ------------------------------------------------------------------------------------


def _owner(kind: str, team: Team, player: Player | None, facility: Facility | None) -> dict[str, Any]:
    if kind == FeedToken.Kind.TEAM:
        return {"kind": kind, "team": team, "player": None, "facility": None}
    if kind == FeedToken.Kind.PLAYER:
        if player is None or player.team_id != team.pk:
            raise CalendarRefused("a player of the team is required", field="player")
        return {"kind": kind, "team": team, "player": player, "facility": None}
    if kind == FeedToken.Kind.FACILITY:
        if facility is None:
            raise CalendarRefused("a facility is required", field="facility")
        return {"kind": kind, "team": team, "player": None, "facility": facility}
    raise CalendarRefused("kind must be team, player or facility", field="kind")


def _new_feed(owner: dict[str, Any], user: Any) -> FeedToken:
    feed = FeedToken(
        **owner, nonce=secrets.token_hex(32), created_by=user if getattr(user, "pk", None) else None
    )
    feed.token_hash = hash_token(token_of(feed))
    feed.save()
    return feed


def feed_token_get_or_create(
    *,
    user: Any,
    kind: str,
    team: Team,
    player: Player | None = None,
    facility: Facility | None = None,
    channel: str = "web",
) -> FeedToken:
    """Return the owner's live feed, making one if there is none."""
    check_may_manage(user=user, team=team)
    owner = _owner(kind, team, player, facility)
    with transaction.atomic(durable=True):
        Team.objects.select_for_update().filter(pk=team.pk).first()  # one maker per team at a time
        feed = FeedToken.objects.filter(**owner, revoked_at__isnull=True).first()
        if feed is None:
            feed = _new_feed(owner, user)
            audit_record(
                actor=user,
                action="calendar.feed_create",
                obj=feed,
                team=team,
                channel=channel,
                details={"kind": kind},
            )
    return feed


def feed_token_rotate(*, user: Any, feed: FeedToken, channel: str = "web") -> FeedToken:
    """Revoke the feed's token and return a new one for the same owner (old URL answers 404)."""
    check_may_manage(user=user, team=feed.team)
    with transaction.atomic(durable=True):
        FeedToken.objects.filter(pk=feed.pk).update(revoked_at=timezone.now())
        owner = {"kind": feed.kind, "team": feed.team, "player": feed.player, "facility": feed.facility}
        new = _new_feed(owner, user)
        audit_record(
            actor=user,
            action="calendar.feed_rotate",
            obj=new,
            team=feed.team,
            channel=channel,
            details={"revoked": feed.pk},
        )
    return new


def feed_token_revoke(*, user: Any, feed: FeedToken, channel: str = "web") -> None:
    check_may_manage(user=user, team=feed.team)
    with transaction.atomic(durable=True):
        FeedToken.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(actor=user, action="calendar.feed_revoke", obj=feed, team=feed.team, channel=channel)


# --- subscribed URLs ---------------------------------------------------------------------------------


def imported_calendar_subscribe(
    *,
    user: Any,
    url: str,
    name: str,
    team: Team | None = None,
    facility: Facility | None = None,
    channel: str = "web",
) -> ImportedCalendar:
    """Subscribe to a calendar URL (checked by the SSRF guard); the first sync is queued on commit."""
    if (team is None) == (facility is None):
        raise CalendarRefused("subscribe for exactly one team or one facility")
    if team is not None:
        check_may_manage(user=user, team=team)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise CalendarRefused("a name of at most 120 characters is required", field="name")
    url = (url or "").strip().replace("webcal://", "https://", 1)
    if not url or len(url) > 500:
        raise CalendarRefused("a URL of at most 500 characters is required", field="url")
    try:
        check_url(url)
    except UnsafeTarget as exc:
        raise CalendarRefused(exc.message, field="url") from None
    with transaction.atomic(durable=True):
        if ImportedCalendar.objects.filter(team=team, facility=facility, name=name).exists():
            raise CalendarRefused("a calendar of this name exists already", field="name")
        calendar = ImportedCalendar.objects.create(
            team=team,
            facility=facility,
            name=name,
            url=url,
            source=ImportedCalendar.Source.URL,
            created_by=user if getattr(user, "pk", None) else None,
        )
        audit_record(
            actor=user,
            action="calendar.subscribe",
            obj=calendar,
            team=team,
            channel=channel,
            details={"url": url},
        )
        transaction.on_commit(lambda: enqueue_sync(calendar_id=calendar.pk))
    return calendar


def imported_calendar_sync(*, calendar_id: int) -> str:
    """Fetch a subscribed calendar and import it (unchanged: 304, nothing written); record a failure.

    The HTTP call happens outside any transaction. A failure keeps the previous events, is shown on
    the page (`last_error`) and sends the team's `calendar.sync_failed` webhook event.
    """
    calendar = ImportedCalendar.objects.select_related("team", "facility").filter(pk=calendar_id).first()
    if calendar is None or calendar.source != ImportedCalendar.Source.URL or not calendar.url:
        return "gone"
    try:
        fetched = fetch_calendar(calendar.url, etag=calendar.etag)
        if fetched.body is None:
            ImportedCalendar.objects.filter(pk=calendar.pk).update(
                last_synced_at=timezone.now(), last_error=""
            )
            return "not modified"
        result = imported_calendar_import(
            user=None,
            data=fetched.body,
            name=calendar.name,
            team=calendar.team,
            facility=calendar.facility,
            source=ImportedCalendar.Source.URL,
            channel="worker",
        )
    except (FetchFailed, CalendarFileError) as exc:
        _sync_failed(calendar, exc.message)
        return f"failed: {exc.message}"
    ImportedCalendar.objects.filter(pk=calendar.pk).update(etag=fetched.etag[:200])
    return result.summary()


def _sync_failed(calendar: ImportedCalendar, message: str) -> None:
    with transaction.atomic(durable=True):
        ImportedCalendar.objects.filter(pk=calendar.pk).update(
            last_error=message[:2000], updated_at=timezone.now()
        )
        audit_record(
            actor=None,
            action="calendar.sync_failed",
            obj=calendar,
            team=calendar.team,
            channel="worker",
            details={"url": calendar.url, "error": message[:500]},
        )
        if calendar.team_id is not None:
            webhook_event_send(
                team=calendar.team,
                event=Event.CALENDAR_SYNC_FAILED,
                data={
                    "calendarId": calendar.pk,
                    "name": calendar.name,
                    "url": calendar.url,
                    "error": message,
                },
            )
