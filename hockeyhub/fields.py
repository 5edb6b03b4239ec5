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


def team_link(related_name: str = "+") -> models.ForeignKey:
    """A link to the team a row belongs to: required, and the row goes when the team does."""
    return models.ForeignKey("workouts.Team", on_delete=models.CASCADE, related_name=related_name)


def batch_link(related_name: str = "+") -> models.ForeignKey:
    """A link to the batch a row records or led to: optional, and left NULL when the batch is purged."""
    return models.ForeignKey(
        "batch.Batch", null=True, blank=True, on_delete=models.SET_NULL, related_name=related_name
    )
