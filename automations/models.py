"""Automations: reactions to events (a restriction taking effect), notices to trainers, recipes and
schedules. Every change they make is an ordinary batch, submitted through `batch.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RestrictionReaction(models.Model):
    """One handling of one version of a restriction: the unique key makes a repeated event a no-op."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        BATCH = "batch", "Batch submitted"
        NOTHING = "nothing", "Nothing to change"
        LIFTED = "lifted", "Lifted or shortened (nobody put back)"
        FAILED = "failed", "Failed"

    restriction = models.ForeignKey(
        "medical.MedicalRestriction", on_delete=models.CASCADE, related_name="automation_reactions"
    )
    # The restriction's content fingerprint (+ ":day" for "reached its effective date"): its version.
    key = models.CharField(max_length=80)
    team = models.ForeignKey("workouts.Team", on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    batch = models.ForeignKey(
        "batch.Batch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    team = models.ForeignKey("workouts.Team", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    batch = models.ForeignKey(
        "batch.Batch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offers_undo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "seen_at"], name="notice_user_seen_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"
