"""The club-wide, append-only audit trail, and the abstract bases the apps' models share."""

from __future__ import annotations

from django.db import models

from hockeyhub.fields import user_link


class Timestamped(models.Model):
    """A row that records when it was created and when it was last saved."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One thing somebody did that matters: a batch action or a read of clinical notes."""

    class Action(models.TextChoices):
        BATCH_SUBMITTED = "batch.submitted", "Batch submitted"
        BATCH_CANCELLED = "batch.cancelled", "Batch cancelled"
        BATCH_UNDONE = "batch.undone", "Batch undo requested"
        BATCH_RETRIED = "batch.retried", "Batch retry-failed requested"
        BATCH_RESUMED = "batch.resumed", "Batch resume requested"
        BATCH_ROLLED_BACK = "batch.rolled_back", "Batch rolled back"
        BATCH_MEDICAL_CHECK_DISABLED = "batch.medical_check_disabled", "Medical check turned off"
        BATCH_QUOTA_REFUSED = "batch.quota_refused", "Batch refused by a quota"
        LOGIN_LOCKED_OUT = "auth.locked_out", "Login locked out after failed attempts"
        CLINICAL_NOTES_READ = "medical.notes_read", "Clinical notes read"
        RESTRICTION_CHANGED = "medical.restriction_changed", "Restriction changed"
        API_TOKEN_CREATED = "api.token_created", "API token created"
        API_TOKEN_REVOKED = "api.token_revoked", "API token revoked"
        WEBHOOK_CREATED = "webhook.created", "Webhook endpoint created"
        WEBHOOK_DELETED = "webhook.deleted", "Webhook endpoint deleted"
        MEDICAL_OVERRIDE = "medical.override", "Blocked player assigned anyway (medical override)"

    actor = user_link()
    actor_username = models.CharField(max_length=150, blank=True, help_text="Kept if the user is deleted")
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    team = models.ForeignKey(
        "workouts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, help_text="web, admin, command, export, worker")
    purpose = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"
