"""A secret shown once, after a redirect: the page that creates a token or a signing secret redirects
(Post/Redirect/Get), so a reload neither re-submits the form (a second token) nor shows the secret again.

The value waits in the server-side session (database-backed, never a cookie) for exactly one GET.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

SESSION_KEY = "hockeyhub.shown_once"


def show_once(request: HttpRequest, name: str, value: Any) -> None:
    """Keep `value` for the next page that takes `name`."""
    waiting = dict(request.session.get(SESSION_KEY) or {})
    waiting[name] = value
    request.session[SESSION_KEY] = waiting


def take_once(request: HttpRequest, name: str) -> Any:
    """Return the value kept under `name` and forget it (None when there is none)."""
    waiting = dict(request.session.get(SESSION_KEY) or {})
    if name not in waiting:
        return None
    value = waiting.pop(name)
    request.session[SESSION_KEY] = waiting
    return value
