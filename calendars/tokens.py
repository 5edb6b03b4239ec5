"""Feed secrets: derived from a stored nonce under SECRET_KEY; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.urls import reverse

from calendars.models import FeedToken

TOKEN_PREFIX = "hhc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(feed: FeedToken) -> str:
    """The feed's secret, derived from its nonce under SECRET_KEY (never stored)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"calendar-feed:{feed.nonce}".encode(), hashlib.sha256)
    return TOKEN_PREFIX + mac.hexdigest()


def link_available(feed: FeedToken) -> bool:
    """False when SECRET_KEY changed since the token was made: the old link works, but is lost."""
    return hmac.compare_digest(hash_token(token_of(feed)), feed.token_hash)


def feed_path(feed: FeedToken) -> str | None:
    """The feed's secret address on this site, or None when its link is lost (see link_available): the
    page, the API, the admin and manage.py calendar_feed_url all show this one."""
    return reverse("calendars:feed", args=[token_of(feed)]) if link_available(feed) else None
