"""Domain errors the workout services raise; the batch engine stores `as_dict()` on failed items."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain said no. Carries a stable code, a message and what the user can do."""

    code: str = "DOMAIN_ERROR"
    suggested_action: str = ""
    # Whether retrying the same operation later may succeed (e.g. after a conflict is resolved).
    recoverable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        suggested_action: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if suggested_action is not None:
            self.suggested_action = suggested_action
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        """Return the error in the exchange shape {code, message, details, recoverable, suggestedAction}."""
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "recoverable": self.recoverable,
            "suggestedAction": self.suggested_action,
        }


class VersionConflict(DomainError):
    code = "VERSION_CONFLICT"
    suggested_action = "Reload the workout to see the latest changes, then try again."
    recoverable = True


class WrongTeam(DomainError):
    code = "WRONG_TEAM"
    suggested_action = "Pick players and workouts from the same team."


class InvalidField(DomainError):
    code = "INVALID_FIELD"
    suggested_action = "Correct the value and try again."


class InvalidState(DomainError):
    code = "INVALID_STATE"
    suggested_action = "Check the workout's status; archived workouts must be restored first."


class ScheduleConflict(DomainError):
    code = "SCHEDULE_CONFLICT"
    suggested_action = "Choose a time inside the facility's opening hours."
    recoverable = True
