"""Response shapes of the JSON API (camelCase, like the exchange format). Requests use the exchange
format's own models; these describe what the API answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import AliasGenerator, ConfigDict, Field
from pydantic.alias_generators import to_snake


class RowOut(Schema):
    """An answer read straight off a row: each camelCase field reads the row's snake_case attribute
    (scheduledStart from scheduled_start), a ``resolve_<field>`` static method computes one that is not
    an attribute, and a dict keyed by the camelCase names is read as well."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_snake),
        validate_by_name=True,
        validate_by_alias=True,
    )


class ProblemItem(Schema):
    operationId: str | None = None
    field: str | None = None
    code: str
    message: str
    severity: str = "error"


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[ProblemItem] | None = None
    batchId: int | None = Field(None, description="409 IDEMPOTENCY_CONFLICT: the batch the key belongs to")
    requestId: str | None = None
    retryAfter: int | None = Field(None, description="429: seconds to wait (also in Retry-After)")
    quota: str | None = Field(None, description="429: which quota refused the request")
    limit: int | None = None
    current: int | None = None
    requested: int | None = None


class CurrentOperation(Schema):
    id: str
    type: str


class Chunks(Schema):
    done: int
    total: int


class ProgressOut(Schema):
    total: int
    completed: int = Field(description="Operations that reached an outcome (any status)")
    successful: int
    failed: int
    skipped: int
    cancelled: int
    conflicts: int
    withWarnings: int = Field(0, description="Operations that ended with a warning (an amber outcome)")
    remaining: int
    inProgress: int = Field(description="Operations in the chunks runners hold right now")
    percentComplete: float
    successRate: float | None = Field(description="successful / completed, 0..1; null before any outcome")
    currentOperation: CurrentOperation | None = None
    throughputPerSecond: float | None = None
    etaSeconds: float | None = None
    estimatedTimeRemaining: float | None = Field(None, description="The guide's name: etaSeconds, in seconds")
    chunks: Chunks


class Offers(Schema):
    """What the batch offers now, as the pages do (an action not offered answers 409)."""

    undo: bool
    forceUndo: bool
    retry: bool
    resume: int = Field(description="How many operations a resume would run (0: none)")


class BatchOut(Schema):
    id: int
    team: str
    kind: str
    status: str
    description: str
    source: str
    requestId: str | None
    createdBy: str
    createdAt: dt.datetime
    queuedAt: dt.datetime | None
    startedAt: dt.datetime | None
    finishedAt: dt.datetime | None
    undoDeadline: dt.datetime | None
    undoAvailable: bool
    offers: Offers
    undoOf: int | None
    retryOf: int | None
    resumeOf: int | None
    options: dict[str, Any]
    metadata: dict[str, Any]
    estimate: dict[str, Any]
    error: dict[str, Any] | None
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, description="What the request held that was ignored or translated"
    )
    progress: ProgressOut
    links: dict[str, str]


class BatchPage(Schema):
    data: list[BatchOut]
    hasMore: bool
    nextCursor: str | None


class ValidationOut(Schema):
    valid: bool
    problems: list[ProblemItem]
    errors: list[ProblemItem] = Field(
        description="The guide's name: every error, the request's and each operation's"
    )
    validationErrors: list[ProblemItem] = Field(description="The guide's BatchError name; the same as errors")
    warnings: list[ProblemItem] = Field(
        description="Accepted but ignored or translated (progressCallback, PROMPT_USER, result fields…)"
    )
    summary: dict[str, Any]
    items: list[dict[str, Any]]
    estimate: dict[str, Any]
    planId: str | None = Field(None, description="Pass as ?plan= to POST /batches to run exactly this")
    fingerprint: str | None = Field(None, description="SHA-256 of the validated operations and options")
    planExpiresAt: dt.datetime | None = None


class Target(Schema):
    type: str = Field(description="workout or template")
    id: int | None = Field(description="null when the operation created nothing")
    name: str
    date: dt.date | None = Field(description="The workout's local date")
    player: str | None = Field(None, description="For an undo step on one player's assignment")
    gone: bool = Field(False, description="The object no longer exists (named from the change log)")


class ResultOut(Schema):
    id: str = Field(description="The operation's id in the request")
    seq: int
    type: str
    status: str
    priority: int
    dependencies: list[str]
    attempts: int
    durationMs: float | None
    finishedAt: dt.datetime | None
    target: Target | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    warnings: list[Any]
    metadata: dict[str, Any] | None = Field(description="The operation's metadata from the request")
    data: dict[str, Any] | None = Field(
        None, description="The operation's data as submitted: a failed result sent back is an operation again"
    )


class ResultPage(Schema):
    data: list[ResultOut]
    hasMore: bool
    nextCursor: str | None


class FacilityOut(RowOut):
    id: int
    name: str


class WorkoutOut(RowOut):
    id: int
    name: str
    type: str
    status: str
    scheduledStart: dt.datetime | None
    scheduledEnd: dt.datetime | None
    facility: FacilityOut | None
    intensity: int
    notes: str
    templateId: int | None
    archived: bool
    version: int

    @staticmethod
    def resolve_archived(workout: Any) -> bool:
        return workout.archived_at is not None


class WorkoutPage(Schema):
    data: list[WorkoutOut]
    hasMore: bool
    nextCursor: str | None


class PlayerOut(Schema):
    id: int
    firstName: str
    lastName: str
    jerseyNumber: int
    position: str
    availability: str
    dailyLoadLimit: int
    medicalStatus: str = Field(description="available, modified or out (restrictions in effect today)")


class PlayerPage(Schema):
    data: list[PlayerOut]
    hasMore: bool
    nextCursor: str | None


class TemplateOut(RowOut):
    id: int
    name: str
    category: str
    description: str
    tags: list[str]
    visibility: str
    intensity: int
    durationMinutes: int
    version: int


class TemplatePage(Schema):
    data: list[TemplateOut]
    hasMore: bool
    nextCursor: str | None


class RestrictionOut(Schema):
    id: int
    playerId: int
    playerName: str
    jerseyNumber: int
    title: str
    severity: str
    status: str
    bodyParts: list[str]
    movementPatterns: list[str]
    exerciseCategories: list[str]
    maxExertion: int | None
    noContact: bool
    requiresSupervision: bool
    effectiveDate: dt.date
    expiryDate: dt.date | None
    inEffect: bool
    clinicalNotes: str | None = Field(
        None, description="Only with include=clinicalNotes, for medics and staff; every read is audited"
    )


class RestrictionPage(Schema):
    data: list[RestrictionOut]
    hasMore: bool
    nextCursor: str | None


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently dropped
    url: str = Field(max_length=500, pattern=r"^[^\x00]*$")
    events: list[str] = Field(min_length=1, max_length=5)
    description: str = Field("", max_length=200, pattern=r"^[^\x00]*$")


class WebhookOut(RowOut):
    id: int
    team: str
    url: str
    events: list[str]
    description: str
    createdAt: dt.datetime

    @staticmethod
    def resolve_team(endpoint: Any) -> str:
        return endpoint.team.slug


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: shown only in this answer; verify signatures with it")


class WebhookPage(Schema):
    data: list[WebhookOut]
    hasMore: bool
    nextCursor: str | None


class DeliveryOut(RowOut):
    id: int
    event: str
    msgId: str
    batchId: int | None
    status: str
    attempts: int
    responseStatus: int | None
    createdAt: dt.datetime
    deliveredAt: dt.datetime | None
    nextAttemptAt: dt.datetime | None
    log: list[dict[str, Any]]


class DeliveryPage(Schema):
    data: list[DeliveryOut]
    hasMore: bool
    nextCursor: str | None
