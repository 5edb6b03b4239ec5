"""Writes for the medical app. Reading clinical notes is an audited action, so it lives here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from workouts.selectors import User, is_medical_reader


def clinical_notes_read(*, user: User, restriction: MedicalRestriction, channel: str, purpose: str) -> str:
    """Return the restriction's clinical notes after auditing the read; PermissionDenied for non-medics.

    Not durable: the admin calls it inside its own change-view transaction.
    """
    team = restriction.player.team
    if not is_medical_reader(user=user, team=team):
        raise PermissionDenied("Only medical staff may read clinical notes.")
    with transaction.atomic():
        audit_record(
            actor=user,
            action=AuditEvent.Action.CLINICAL_NOTES_READ,
            obj=restriction,
            team=team,
            channel=channel,
            purpose=purpose,
            details={"playerId": restriction.player_id},
        )
    return restriction.clinical_notes
