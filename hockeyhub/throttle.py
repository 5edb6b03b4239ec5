"""Throttles against guessing: failed logins per address across usernames, wrong API tokens per address.

- Logins: django-axes locks a username from an address after LOGIN_FAILURE_LIMIT failures. Axes compares
  one limit with the largest count over its lockout parameters, so the address alone is added as a
  parameter only once the address has failed LOGIN_ADDRESS_FAILURE_LIMIT times within the lockout
  time, whatever the usernames (`axes_lockout_parameters`, one indexed query per login attempt).
  One wrong password each for 40 usernames is then stopped at the limit, while a user who mistypes a
  few times behind a shared office address does not lock the office out.
- API tokens: wrong bearer tokens are counted per address in Redis (shared by every web process),
  TOKEN_FAILURES_PER_MINUTE a minute; past it the API answers 429 with Retry-After without looking the
  token up. If Redis cannot be reached the check lets requests through (tokens are 256-bit secrets;
  the throttle slows guessing, it does not make it possible).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from hockeyhub.middleware import client_ip

log = logging.getLogger("hockeyhub.throttle")
USER_AND_ADDRESS: list[Any] = [["username", "ip_address"]]


def address_login_failures(address: str) -> int:
    """Failed logins from this address within the lockout time, every username counted."""
    from axes.models import AccessAttempt

    since = timezone.now() - dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def axes_lockout_parameters(request: Any, credentials: Any = None) -> list[Any]:
    """AXES_LOCKOUT_PARAMETERS: username+address, plus the address alone once it failed too often."""
    address = getattr(request, "axes_ip_address", None) or (
        client_ip(request) if hasattr(request, "META") else getattr(request, "ip_address", "")
    )
    if address and address_login_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return [*USER_AND_ADDRESS, "ip_address"]
    return USER_AND_ADDRESS


def _token_key(address: str) -> str:
    return f"{settings.METRICS_REDIS_PREFIX}:throttle:token:{address}"


def token_guesses_blocked(request: Any) -> int:
    """Seconds until this address may try a token again (0: it may now)."""
    from hockeyhub.metrics import _redis

    try:
        redis = _redis()
        key = _token_key(client_ip(request))
        count = int(redis.get(key) or 0)
        if count < settings.TOKEN_FAILURES_PER_MINUTE:
            return 0
        return max(1, int(redis.ttl(key)))
    except Exception:  # noqa: BLE001 - a throttle that cannot count must not take the API down
        log.warning("token throttle unavailable (Redis)", exc_info=True)
        return 0


def token_guess_failed(request: Any) -> None:
    """Count one wrong token from this address (the window starts at its first failure)."""
    from hockeyhub.metrics import _redis

    try:
        redis = _redis()
        key = _token_key(client_ip(request))
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 60, nx=True)
        pipe.execute()
    except Exception:  # noqa: BLE001
        log.warning("token throttle unavailable (Redis)", exc_info=True)
