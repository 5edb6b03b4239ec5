"""Fetching a subscribed calendar URL through the webhooks' SSRF guard, with ETag and a size cap."""

from __future__ import annotations

import http.client
from dataclasses import dataclass

from django.conf import settings

from hockeyhub.errors import Refused
from webhooks.ssrf import UnsafeTarget, check_url, pinned_connection

USER_AGENT = "HockeyHub-Calendars/1"


class FetchFailed(Refused):
    """The subscribed URL could not be read; `message` says why, for the trainer."""


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since `etag`
    etag: str


def fetch_calendar(url: str, *, etag: str = "") -> Fetched:
    """GET the URL (no redirects followed); raise FetchFailed with a reason a trainer can act on."""
    try:
        target = check_url(url)
    except UnsafeTarget as exc:
        raise FetchFailed(f"refused: {exc.message}") from None
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    conn = pinned_connection(target, timeout=settings.CALENDAR_SYNC_TIMEOUT_SECONDS)
    limit = settings.CALENDAR_IMPORT_MAX_BYTES
    try:
        conn.request("GET", target.path, headers=headers)
        response = conn.getresponse()
        if response.status == 304:
            return Fetched(None, etag)
        if response.status != 200:
            raise FetchFailed(f"the server answered HTTP {response.status} {response.reason}")
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchFailed(f"the calendar is {int(declared):,} bytes; at most {limit:,} are accepted")
        body = response.read(limit + 1)
        if len(body) > limit:
            raise FetchFailed(f"the calendar is larger than {limit:,} bytes")
        return Fetched(body, response.getheader("ETag") or "")
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        conn.close()
