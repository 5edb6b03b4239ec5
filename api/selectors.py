"""Reads for API tokens: a user's tokens and the lookup behind Bearer authentication."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from api.models import ApiToken
from api.services import TOKEN_PREFIX, hash_token
from hockeyhub.errors import Refused


class TokenRejected(Refused):
    """The bearer token is unknown, revoked or expired; `message` says which, for the 401."""


def tokens_for_user(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("team").order_by("-created_at", "-id")


def token_for_secret(secret: str) -> ApiToken:
    """Return the live token for a secret (one indexed query by hash); raise TokenRejected otherwise."""
    if not secret.startswith(TOKEN_PREFIX):
        raise TokenRejected("The bearer token is not a HockeyHub API token.")
    token = ApiToken.objects.select_related("user", "team").filter(token_hash=hash_token(secret)).first()
    if token is None:
        raise TokenRejected("The bearer token is unknown.")
    if token.revoked_at is not None:
        raise TokenRejected("The bearer token was revoked.")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise TokenRejected("The bearer token has expired.")
    if not token.user.is_active:
        raise TokenRejected("The token's user is inactive.")
    return token
