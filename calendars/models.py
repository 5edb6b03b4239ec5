"""Calendars in and out: imported busy time (games, bookings) and secret-token feeds of the plan."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from hockeyhub.fields import team_link, user_link
from hockeyhub.models import Timestamped


class ImportedCalendar(Timestamped):
    """An outside calendar whose events are busy time for one team or one facility."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        COMMAND = "command", "Command line"
        URL = "url", "Subscribed URL"

    team = models.ForeignKey(
        "workouts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="imported_calendars"
    )
    facility = models.ForeignKey(
        "workouts.Facility",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="imported_calendars",
    )
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    url = models.URLField(max_length=500, blank=True)
    etag = models.CharField(max_length=200, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_by = user_link()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False, facility__isnull=True)
                | Q(team__isnull=True, facility__isnull=False),
                name="imported_calendar_one_owner",
            ),
            models.UniqueConstraint(
                fields=["team", "facility", "name"],
                nulls_distinct=False,
                name="imported_calendar_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_label(self) -> str:
        return f"team {self.team}" if self.team_id else f"facility {self.facility}"


class BusyEvent(models.Model):
    """One occurrence of an imported event (a recurring event is expanded, one row per occurrence).

    `uid` + `instance` (the occurrence's RECURRENCE-ID, in UTC or as a date) identify it across
    re-imports, so a changed feed updates rows in place and drops those gone.
    """

    calendar = models.ForeignKey(ImportedCalendar, on_delete=models.CASCADE, related_name="events")
    uid = models.CharField(max_length=255)
    instance = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=255)
    location = models.CharField(max_length=255, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    all_day = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "uid", "instance"], name="busy_event_identity"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="busy_event_end_after_start"),
        ]
        indexes = [models.Index(fields=["start", "end"], name="busy_event_span_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.start:%Y-%m-%d %H:%M})"


class FeedToken(models.Model):
    """A secret feed URL: a team's, a player's or a facility's plan as text/calendar.

    Only a SHA-256 of the token is stored. The token itself is an HMAC of `nonce` under SECRET_KEY,
    so the page can show the link again while the database alone can never open a feed. Rotating
    revokes this row and makes a new one; a revoked token answers 404.
    """

    class Kind(models.TextChoices):
        TEAM = "team"
        PLAYER = "player"
        FACILITY = "facility"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    team = team_link("feed_tokens")
    player = models.ForeignKey(
        "workouts.Player", null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    facility = models.ForeignKey(
        "workouts.Facility", null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    nonce = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = user_link()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="team", player__isnull=True, facility__isnull=True)
                | Q(kind="player", player__isnull=False, facility__isnull=True)
                | Q(kind="facility", player__isnull=True, facility__isnull=False),
                name="feed_token_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "team", "player", "facility"],
                condition=Q(revoked_at__isnull=True),
                nulls_distinct=False,
                name="feed_token_one_live_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} feed: {self.subject}"

    @property
    def subject(self) -> str:
        if self.kind == self.Kind.PLAYER:
            return str(self.player)
        if self.kind == self.Kind.FACILITY:
            return str(self.facility)
        return str(self.team)
