"""Writes for the medical app. Reading clinical notes is an audited action, so it lives here."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction

from hockeyhub.audit import Auditor, audit_record
from hockeyhub.models import AuditEvent
from medical.models import RULE_FIELDS, MedicalRestriction
from medical.roles import is_medic_or_staff
from workouts.models import Team
from workouts.selectors import User


def clinical_notes_read(*, user: User, restriction: MedicalRestriction, channel: str, purpose: str) -> str:
    """Return the restriction's clinical notes after auditing the read; PermissionDenied for non-medics.

    Not durable: the admin calls it inside its own change-view transaction.
    """
    _notes_read(
        user=user,
        team=restriction.player.team,
        rows=[(restriction.pk, restriction.player_id)],
        channel=channel,
        purpose=purpose,
    )
    return restriction.clinical_notes


def clinical_notes_read_many(
    *, user: User, team: Team, restriction_ids: list[int], channel: str, purpose: str
) -> None:
    """Audit a read of several restrictions' clinical notes (one row each); PermissionDenied for non-medics.

    Call before the notes leave the server, inside the request's transaction.
    """
    rows = MedicalRestriction.objects.filter(pk__in=restriction_ids, player__team=team).values_list(
        "pk", "player_id"
    )
    _notes_read(user=user, team=team, rows=rows, channel=channel, purpose=purpose)


def _notes_read(
    *, user: User, team: Team, rows: Iterable[tuple[int, int]], channel: str, purpose: str
) -> None:
    """Audit a read of clinical notes, one row per (restriction id, player id); PermissionDenied for
    non-medics, before `rows` is read."""
    if not is_medic_or_staff(user=user, team=team):
        raise PermissionDenied("Only medical staff may read clinical notes.")
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


RESTRICTION_FIELDS = ("title", "status", *RULE_FIELDS, "clinical_notes")


def restriction_record(
    *, user: User, team: Team, player_id: int, values: dict, channel: str
) -> MedicalRestriction:
    """Record a restriction for a player of the team (medics and staff only), audited.

    Raises PermissionDenied for others, Player.DoesNotExist for a player of another team, and
    ValidationError (field → messages) for bad values. Saving fires post_save like every path, so
    whatever reacts to restrictions (automations) reacts to this one too.
    """
    from workouts.models import Player

    if not is_medic_or_staff(user=user, team=team):
        raise PermissionDenied("Only medical staff and club staff may record restrictions.")
    player = Player.objects.get(pk=player_id, team=team)
    restriction = MedicalRestriction(
        player=player,
        prescribed_by=user if getattr(user, "is_authenticated", False) else None,
        **{k: v for k, v in values.items() if k in RESTRICTION_FIELDS},
    )
    restriction.full_clean()
    with transaction.atomic():
        restriction.save()
        audit = Auditor(actor=user, team=team, channel=channel)
        audit(
            AuditEvent.Action.RESTRICTION_CHANGED,
            restriction,
            purpose=f"{channel} add",
            details={"changed": sorted(k for k in values if k in RESTRICTION_FIELDS)},
        )
    return restriction
