"""Writes for the medical app. Reading clinical notes is an audited action, so it lives here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from medical.roles import is_medic_or_staff
from workouts.models import Team
from workouts.selectors import User


def clinical_notes_read(*, user: User, restriction: MedicalRestriction, channel: str, purpose: str) -> str:
    """Return the restriction's clinical notes after auditing the read; PermissionDenied for non-medics.

    Not durable: the admin calls it inside its own change-view transaction.
    """
    team = restriction.player.team
    if not is_medic_or_staff(user=user, team=team):
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


def clinical_notes_read_many(
    *, user: User, team: Team, restriction_ids: list[int], channel: str, purpose: str
) -> None:
    """Audit a read of several restrictions' clinical notes (one row each); PermissionDenied for non-medics.

    Call before the notes leave the server, inside the request's transaction.
    """
    if not is_medic_or_staff(user=user, team=team):
        raise PermissionDenied("Only medical staff may read clinical notes.")
    rows = MedicalRestriction.objects.filter(pk__in=restriction_ids, player__team=team).values_list(
        "pk", "player_id"
    )
    with transaction.atomic():
        for pk, player_id in rows:
            audit_record(
                actor=user,
                action=AuditEvent.Action.CLINICAL_NOTES_READ,
                object_type=MedicalRestriction._meta.label_lower,
                object_id=pk,
                team=team,
                channel=channel,
                purpose=purpose,
                details={"playerId": player_id},
            )
