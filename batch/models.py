"""Batches of operations, their chunks and items, and the change log that makes undo possible.

PostgreSQL holds the truth about a batch: RQ jobs only carry ids. Counters on Batch move in the same
transaction as a chunk's work, so progress never shows work that rolled back.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from hockeyhub.fields import batch_link, team_link, user_link


class OperationType(models.TextChoices):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    ARCHIVE = "ARCHIVE", "Archive / restore"
    ASSIGN = "ASSIGN", "Assign players"
    SCHEDULE = "SCHEDULE"
    DUPLICATE = "DUPLICATE"
    TEMPLATE = "TEMPLATE"
    # Internal: a compensating operation built from the change log (undo, rollback-on-error).
    REVERT = "REVERT", "Revert a change"


class ItemOutcomeCounts(models.Model):
    """How many of a batch's items ended in each outcome: on the batch, and on its analytics roll-ups."""

    OUTCOMES = ("succeeded", "failed", "skipped", "cancelled", "conflicted")

    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    conflicted = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Batch(ItemOutcomeCounts):
    class Kind(models.TextChoices):
        NORMAL = "normal", "Batch"
        UNDO = "undo"
        RETRY = "retry", "Retry of failed items"
        RESUME = "resume", "Resume of the remaining items"

    class Status(models.TextChoices):
        PENDING = "PENDING"
        VALIDATING = "VALIDATING"
        QUEUED = "QUEUED"
        RUNNING = "RUNNING"
        CANCELLING = "CANCELLING"
        ROLLING_BACK = "ROLLING_BACK", "Rolling back"
        COMPLETED = "COMPLETED"
        COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS", "Completed with errors"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        ROLLED_BACK = "ROLLED_BACK", "Rolled back"
        UNDONE = "UNDONE"

    ACTIVE_STATUSES = (
        Status.PENDING,
        Status.VALIDATING,
        Status.QUEUED,
        Status.RUNNING,
        Status.CANCELLING,
        Status.ROLLING_BACK,
    )
    FINAL_STATUSES = (
        Status.COMPLETED,
        Status.COMPLETED_WITH_ERRORS,
        Status.FAILED,
        Status.CANCELLED,
        Status.ROLLED_BACK,
        Status.UNDONE,
    )

    team = team_link("batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True)
    description = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="web, import, admin, command, undo…")
    request_id = models.CharField(
        max_length=100, blank=True, help_text="Idempotency key (metadata.requestId or Idempotency-Key)"
    )
    payload_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the submitted request; a reused key must match it"
    )
    options = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    estimate = models.JSONField(default=dict, blank=True)
    error = models.JSONField(
        default=dict, blank=True, help_text="Why the batch as a whole failed or rolled back"
    )
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undos"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    resume_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resumes"
    )
    medical_check_disabled_by = user_link()
    cancelled_by = user_link()

    total_items = models.PositiveIntegerField(default=0)
    # Items that ended with a warning (players left out or taken off, occurrences or copies skipped, a
    # clash handled): not a sixth outcome, but what makes an otherwise clean batch amber (batch_outcome).
    warned = models.PositiveIntegerField(default=0)
    total_chunks = models.PositiveIntegerField(default=0)
    done_chunks = models.PositiveIntegerField(default=0)
    runner_slots = models.PositiveSmallIntegerField(default=1)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    undo_deadline = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the owner saw the end notice")
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "request_id"],
                condition=~Q(request_id=""),
                name="batch_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["team", "-created_at"], name="batch_team_created_idx")]

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.status})"

    # The counters of a batch's item outcomes (and of those that ended with a warning), as columns.
    COUNTERS = ("total_items", "succeeded", "failed", "skipped", "cancelled", "conflicted", "warned")

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def processed(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.cancelled + self.conflicted

    def counts(self) -> dict[str, int]:
        """The counters under the exchange format's names: one shape for every summary (CLI, API,
        webhooks, progress). withWarnings counts items that ended with a warning (an amber outcome)."""
        return {
            "total": self.total_items,
            "successful": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "conflicts": self.conflicted,
            "withWarnings": self.warned,
        }


class BatchChunk(models.Model):
    """A unit of work: run in one transaction by whichever runner claims it first."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        DONE = "DONE"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    # Dependency depth: a chunk of level n runs only after every chunk of a lower level is done.
    level = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    item_count = models.PositiveIntegerField(default=0)
    # The operation type of every item in the chunk, blank when it mixes types: the cost model fits a
    # fixed cost per chunk and a cost per item from the durations of single-type chunks.
    op_type = models.CharField(max_length=12, blank=True, default="")
    # Tries started, committed before each try: a try that neither commits nor ends in a recorded
    # transient failure died with its runner (attempts - transient_failures - done counts those).
    attempts = models.PositiveSmallIntegerField(default=0)
    transient_failures = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "seq"]
        constraints = [models.UniqueConstraint(fields=["batch", "seq"], name="chunk_batch_seq_unique")]
        indexes = [
            models.Index(
                fields=["batch", "level", "seq"], name="chunk_pending_idx", condition=Q(status="PENDING")
            ),
        ]

    def __str__(self) -> str:
        return f"Chunk {self.batch_id}/{self.seq} ({self.status})"


class BatchItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"
        SKIPPED = "SKIPPED"
        CANCELLED = "CANCELLED"
        CONFLICT = "CONFLICT"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.CANCELLED, Status.CONFLICT)

    # What an item keeps of its operation (the exchange format's fields), in that order.
    OPERATION_FIELDS = (
        "op_id",
        "type",
        "data",
        "priority",
        "dependencies",
        "conflict_resolution",
        "metadata",
        "retry_count",
    )

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    chunk = models.ForeignKey(BatchChunk, null=True, on_delete=models.SET_NULL, related_name="items")
    seq = models.PositiveIntegerField(help_text="Position in the request")
    op_id = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=OperationType.choices)
    data = models.JSONField(default=dict)
    priority = models.IntegerField(default=0)
    dependencies = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    depends_on = ArrayField(models.BigIntegerField(), default=list, blank=True, help_text="Item ids")
    conflict_resolution = models.CharField(
        max_length=20, blank=True, help_text="Overrides the batch's strategy"
    )
    metadata = models.JSONField(
        default=dict, blank=True, help_text="The operation's own metadata, kept and returned in results"
    )
    retry_count = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the operation was tried before (exchange retryCount)"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(
        null=True, blank=True, help_text="{code, message, details, recoverable, suggestedAction}"
    )
    warnings = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True, help_text="The item's share of its chunk's time")

    class Meta:
        ordering = ["batch", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "op_id"], name="item_batch_op_unique"),
            # A position in the request is unique. The index serves results pages and the admin, which
            # list a batch's items in request order (a total order, so the admin adds no tiebreak).
            models.UniqueConstraint(fields=["batch", "seq"], name="item_batch_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="item_batch_status_idx"),
            models.Index(fields=["chunk"], name="item_chunk_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.op_id} {self.type} ({self.status})"


class BatchChange(models.Model):
    """What one item did to one object, with what it takes to reverse it.

    Written in the chunk's transaction, so a change is logged exactly when it is committed.
    """

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        ARCHIVED = "archived"
        RESTORED = "restored"
        DELETED = "deleted", "Deleted permanently"
        ASSIGNED = "assigned"
        UNASSIGNED = "unassigned"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="changes")
    item = models.ForeignKey(BatchItem, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=40, help_text="app_label.model")
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=12, choices=Action.choices)
    before = models.JSONField(null=True, blank=True, help_text="Before-image of the changed fields")
    after = models.JSONField(null=True, blank=True, help_text="After-image of the changed fields")
    version_after = models.PositiveIntegerField(null=True, blank=True)
    undoable = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "id"]
        indexes = [models.Index(fields=["model", "object_id"], name="change_object_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.model}:{self.object_id}"


class BatchPlan(models.Model):
    """A dry run's promise, pinned for its run (`batch/plans.py`).

    Validate stores the request it judged, a fingerprint of its operations and options, and each target
    workout with its version then; a Run that names the plan runs exactly that request, or is refused
    naming the workouts that changed since. It belongs to the user who validated and expires.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = team_link()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the operations and options")
    request = models.JSONField(help_text="The validated request as sent")
    targets = models.JSONField(default=list, help_text="[{id, version, name, start}] at validation")
    invalid = models.JSONField(default=list, help_text="Operation ids the dry run found errors in")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    batch = batch_link()

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="batch_plan_user_idx")]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({len(self.targets)} workouts)"
