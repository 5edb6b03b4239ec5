"""Model field declarations that several apps repeat, written once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def user_link() -> models.ForeignKey:
    """A link to the user who made or did something: optional, left NULL when that user is deleted (the
    row outlives them), and with no reverse accessor on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
