"""Who counts as medical staff for a team: its medics and club staff. One answer for every path that
asks (reading clinical notes, overriding a medical block, turning the medical check off, forcing an
undo that puts restricted players back)."""

from __future__ import annotations

from typing import Any

from workouts.models import Membership
from workouts.selectors import role_in_team

MEDICAL_ROLES = frozenset({Membership.Role.MEDIC, Membership.Role.STAFF})


def is_medic_or_staff(*, user: Any, team: Any) -> bool:
    """Return whether the user is a medic of the team or club staff (one query; none for staff)."""
    return user is not None and role_in_team(user=user, team=team) in MEDICAL_ROLES
