"""Per-team webhook endpoints and the log of every delivery to them (Standard Webhooks signing)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from hockeyhub.fields import batch_link, team_link, user_link


class Event(models.TextChoices):
    BATCH_COMPLETED = "batch.completed", "Batch completed"
    BATCH_FAILED = "batch.failed", "Batch failed or rolled back"
    BATCH_CANCELLED = "batch.cancelled", "Batch cancelled"
    BATCH_UNDONE = "batch.undone", "Batch undone"
    CALENDAR_SYNC_FAILED = "calendar.sync_failed", "Calendar subscription failed to sync"
    AUTOMATION_FAILED = "automation.failed", "Automation failed (a scheduled recipe could not run)"


class WebhookEndpoint(models.Model):
    team = team_link("webhook_endpoints")
    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=30, choices=Event.choices))
    description = models.CharField(max_length=200, blank=True)
    # "whsec_" + base64 of 32 random bytes. Kept readable because every delivery is signed with it;
    # it is shown to users once, when the endpoint is created.
    secret = models.CharField(max_length=100)
    created_by = user_link()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["team", "url"], name="webhook_team_url_unique")]

    def __str__(self) -> str:
        return f"{self.url} ({self.team})"


class WebhookDelivery(models.Model):
    """One event for one endpoint, tried until it answers 2xx or 24 hours have passed."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    batch = batch_link("webhook_deliveries")
    event = models.CharField(max_length=30, choices=Event.choices)
    msg_id = models.CharField(max_length=40, help_text="webhook-id: the same on every attempt")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # [{at, status, error, ms}] per attempt, newest last.
    log = models.JSONField(default=list, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
