"""Automations: reactions to events (a restriction taking effect), notices to trainers, recipes and
schedules. Every change they make is an ordinary batch, submitted through `batch.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hockeyhub.fields import batch_link, team_link
from hockeyhub.models import Timestamped


class RestrictionReaction(models.Model):
    """One handling of one version of a restriction: the unique key makes a repeated event a no-op."""

    class Outcome(models.TextChoices):
        PENDING = "pending"
        BATCH = "batch", "Batch submitted"
        NOTHING = "nothing", "Nothing to change"
        LIFTED = "lifted", "Lifted or shortened (nobody put back)"
        FAILED = "failed"

    restriction = models.ForeignKey(
        "medical.MedicalRestriction", on_delete=models.CASCADE, related_name="automation_reactions"
    )
    # The restriction's content fingerprint (+ ":day" for "reached its effective date"): its version.
    key = models.CharField(max_length=80)
    team = team_link()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    batch = batch_link()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["restriction", "key"], name="reaction_restriction_key_unique")
        ]

    def __str__(self) -> str:
        return f"restriction {self.restriction_id} @ {self.key}: {self.outcome}"


class Notice(models.Model):
    """A message to one user (a trainer) about something an automation did, with the batch to undo."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = team_link()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    batch = batch_link()
    offers_undo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "seen_at"], name="notice_user_seen_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class Recipe(Timestamped):
    """A named, team-scoped, versioned batch request whose dates are relative to the run (see recipes.py)."""

    class Trigger(models.TextChoices):
        NONE = "", "Only when run or scheduled"
        PLAYER_JOINED = "player_joined", "When a player joins the team (@player is the new player)"

    team = team_link("recipes")
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    request = models.JSONField(
        help_text="An exchange-format request; strings like '@week+1 07:30' are relative"
    )
    builtin = models.CharField(
        max_length=30, blank=True, help_text="A built-in recipe's kind, e.g. copy_week"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source_batch = batch_link()

    class Meta:
        ordering = ["team", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class Schedule(models.Model):
    """A recipe on an RFC 5545 recurrence in the club's zone; each occurrence fires exactly once."""

    class Missed(models.TextChoices):
        LATEST = "latest", "Run the latest missed occurrence once"
        SKIP = "skip", "Skip missed occurrences"

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="schedules")
    rrule = models.CharField(max_length=500, help_text="e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0")
    start = models.DateTimeField(help_text="DTSTART: its club-zone wall time is kept across DST")
    missed = models.CharField(max_length=6, choices=Missed.choices, default=Missed.LATEST)
    paused = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The last occurrence handled (fired, failed or skipped): the next tick looks after it.
    last_occurrence = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_run_at", "id"]

    def __str__(self) -> str:
        return f"{self.recipe.name}: {self.rrule}"


class ScheduleRun(models.Model):
    """One occurrence of a schedule: the unique (schedule, occurrence) row is what makes it fire once."""

    class Status(models.TextChoices):
        CLAIMED = "claimed"
        SUBMITTED = "submitted", "Batch submitted"
        FAILED = "failed"
        SKIPPED = "skipped", "Skipped (missed)"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    occurrence = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    batch = batch_link()
    recipe_version = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurrence", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "occurrence"], name="schedule_run_occurrence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} @ {self.occurrence:%Y-%m-%d %H:%M}: {self.status}"
