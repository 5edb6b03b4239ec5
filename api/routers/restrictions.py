"""POST /api/v1/restrictions: medics and staff record a restriction (audited; automations react to it)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from api.auth import principal
from api.problems import ApiProblem, field_error
from api.routers.catalog import router
from api.schemas import Problem
from medical.models import MedicalRestriction
from medical.services import restriction_record
from workouts.models import Exercise, Player

# The same router (and path) as GET /restrictions: ninja answers both methods on one URL.
ERRORS = frozenset({400, 401, 403, 404, 422, 429})


class RestrictionIn(Schema):
    playerId: int = Field(ge=1, le=2**53)
    title: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00]*$")
    severity: MedicalRestriction.Severity
    status: MedicalRestriction.Status = MedicalRestriction.Status.ACTIVE
    effectiveDate: dt.date
    expiryDate: dt.date | None = None
    bodyParts: list[Exercise.BodyPart] = Field(default_factory=list, max_length=20)
    movementPatterns: list[Exercise.Pattern] = Field(default_factory=list, max_length=20)
    exerciseCategories: list[Exercise.Category] = Field(default_factory=list, max_length=20)
    maxExertion: int | None = Field(None, ge=0, le=100)
    requiresSupervision: bool = False
    noContact: bool = False
    clinicalNotes: str = Field("", max_length=5000, pattern=r"^[^\x00]*$")


class RestrictionCreated(Schema):
    id: int


@router.post(
    "/restrictions",
    response={201: RestrictionCreated, ERRORS: Problem},
    summary="Record a medical restriction (medics and staff; audited)",
)
def restriction_new(request: HttpRequest, payload: RestrictionIn, team: str | None = None):
    who = principal(request)
    target = who.team(team)
    values = {
        "title": payload.title,
        "severity": payload.severity,
        "status": payload.status,
        "effective_date": payload.effectiveDate,
        "expiry_date": payload.expiryDate,
        "body_parts": [str(v) for v in payload.bodyParts],
        "movement_patterns": [str(v) for v in payload.movementPatterns],
        "exercise_categories": [str(v) for v in payload.exerciseCategories],
        "max_exertion": payload.maxExertion,
        "requires_supervision": payload.requiresSupervision,
        "no_contact": payload.noContact,
        "clinical_notes": payload.clinicalNotes,
    }
    try:
        restriction = restriction_record(
            user=who.user, team=target, player_id=payload.playerId, values=values, channel="api"
        )
    except Player.DoesNotExist:
        raise ApiProblem(
            422,
            "NOT_FOUND",
            f"player {payload.playerId} is not on team {target.slug}",
            errors=[field_error("playerId", "NOT_FOUND", "no such player")],
        ) from None
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        detail = "; ".join(
            f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in messages.items()
        )
        raise ApiProblem(422, "INVALID", detail or "invalid restriction") from None
    return Status(201, {"id": restriction.pk})
