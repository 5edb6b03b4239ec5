"""Writes on API tokens: create (the secret is returned once) and revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from hockeyhub.audit import Auditor
from hockeyhub.models import AuditEvent
from workouts.models import Team
from workouts.selectors import teams_for_user

TOKEN_PREFIX = "hh_"
# last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *,
    user: Any,
    team: Team,
    name: str,
    expires_at: dt.datetime | None = None,
    channel: str = "web",
) -> tuple[ApiToken, str]:
    """Create a token acting as `user` within `team`; return it and its secret (shown only now).

    Raises PermissionDenied if the user does not work in the team, ValueError for a bad name or expiry.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("A token needs a name of 1 to 100 characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    if not teams_for_user(user=user).filter(pk=team.pk).exists():
        raise PermissionDenied(f"You do not work in team {team.slug}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            user=user,
            team=team,
            name=name,
            prefix=secret[:10],
            token_hash=hash_token(secret),
            expires_at=expires_at,
        )
        audit = Auditor(actor=user, team=team, channel=channel)
        audit(
            AuditEvent.Action.API_TOKEN_CREATED,
            token,
            details={"name": name, "expiresAt": expires_at.isoformat() if expires_at else None},
        )
    return token, secret


def api_token_revoke(*, token_id: int, user: Any, channel: str = "web") -> ApiToken:
    """Revoke a token (its owner or a staff user); revoking twice is a no-op."""
    with transaction.atomic(durable=True):
        token = ApiToken.objects.select_for_update().select_related("team").filter(pk=token_id).first()
        if token is None or not (user.is_staff or token.user_id == user.pk):
            raise PermissionDenied("No such token.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit = Auditor(actor=user, team=token.team, channel=channel)
            audit(AuditEvent.Action.API_TOKEN_REVOKED, token, details={"name": token.name})
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record a use of the token (at most one write per LAST_USED_RESOLUTION)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
