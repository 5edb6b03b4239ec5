"""Error shapes the engine reports: request validation errors and per-item failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ErrorCode:
    VALIDATION = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION = "PERMISSION_DENIED"
    CONFLICT = "CONFLICT"
    BUSY_TIME = "BUSY_TIME"  # busy time from an imported calendar (a game, a booking)
    VERSION_CONFLICT = "VERSION_CONFLICT"
    MEDICAL = "MEDICAL_RESTRICTION"
    DEPENDENCY_FAILED = "DEPENDENCY_FAILED"
    STOPPED_ON_ERROR = "STOPPED_ON_ERROR"
    ROLLED_BACK = "ROLLED_BACK"  # ran, then rolled back with its all-or-nothing batch
    CANCELLED = "CANCELLED"
    TRANSIENT_EXHAUSTED = "TRANSIENT_ERROR"
    INTERNAL = "INTERNAL_ERROR"
    RUNNER_CRASHED = "RUNNER_CRASHED"
    NOT_UNDOABLE = "NOT_UNDOABLE"
    WARNINGS_NOT_ACKNOWLEDGED = "WARNINGS_NOT_ACKNOWLEDGED"


@dataclass
class ItemError(Exception):
    """A per-item failure: recorded on the item, never retried unless `recoverable` and transient."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    recoverable: bool = False
    suggested_action: str = ""
    # SKIPPED (conflict strategy SKIP) or CONFLICT (undo) instead of FAILED.
    status: str = "FAILED"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "recoverable": self.recoverable,
            "suggestedAction": self.suggested_action,
        }


@dataclass(frozen=True)
class RequestProblem:
    """A validation problem with a request: which operation, which field, what is wrong."""

    message: str
    code: str = ErrorCode.VALIDATION
    operation_id: str | None = None
    field: str | None = None
    severity: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, Any]:
        return {
            "operationId": self.operation_id,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }

    def __str__(self) -> str:
        where = " ".join(
            p
            for p in (
                f"operation {self.operation_id!r}" if self.operation_id else "",
                f"field {self.field!r}" if self.field else "",
            )
            if p
        )
        return f"{where}: {self.message}" if where else self.message


class InvalidRequest(Exception):
    """The request cannot be submitted; `problems` says why, per operation and field."""

    def __init__(self, problems: list[RequestProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]) + (" …" if len(problems) > 5 else ""))


class IdempotencyConflict(Exception):
    """An idempotency key was reused with a different payload; `batch` is the first one's batch.

    `batch` is None when the key was used for another team's batch: a key names one request of one
    user in one team, and a caller acting for this team is not told about the other one's batch.
    """

    def __init__(self, *, batch: Any, request_id: str) -> None:
        self.batch = batch
        self.request_id = request_id
        super().__init__(
            f"requestId {request_id!r} was already used for batch {batch.pk} with a different request; "
            "use a new key for a different request"
            if batch is not None
            else f"requestId {request_id!r} was already used for a batch of another team; "
            "use a new key for this team"
        )
