"""The system actor: the user automated batches are started by, so every batch says who or what started it.

It is an inactive account with no usable password (nobody logs in as it), a trainer of each team it
works for, so team scoping and quotas apply to what it submits exactly as to a trainer's batches.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from workouts.models import Membership


def automation_actor(*, team: Any) -> Any:
    """Return the automations user, a trainer of `team` (created on first use)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=settings.AUTOMATIONS_ACTOR_USERNAME,
        defaults={"is_active": False, "first_name": "Automations"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": Membership.Role.TRAINER})
    return user


def is_automation_actor(user: Any) -> bool:
    return user is not None and user.get_username() == settings.AUTOMATIONS_ACTOR_USERNAME
