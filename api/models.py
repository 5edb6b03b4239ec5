"""Personal API tokens: hashed at rest, scoped to one team, optionally expiring, revocable."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hockeyhub.fields import team_link


class ApiToken(models.Model):
    """A bearer token acting as its user within one team. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    team = team_link("api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, shown so a user can tell tokens apart; not enough to use it.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
