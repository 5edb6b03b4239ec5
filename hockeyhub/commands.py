"""What the apps' management commands share: the user a command acts as."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def command_user(username: str) -> Any:
    """Return the user named by a command's --user; a CommandError when there is none."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user {username!r}")
    return user
