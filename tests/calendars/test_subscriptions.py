"""Subscribed calendar URLs: fetched through the SSRF guard with ETag and a size cap; failures reported."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from calendars.models import ImportedCalendar
from calendars.services import CalendarRefused, imported_calendar_subscribe, imported_calendar_sync
from hockeyhub.models import AuditEvent
from tests.calendars.conftest import GAMES
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


class Served:
    body = GAMES
    etag = '"v1"'
    requests: list[dict[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Served.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == Served.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("ETag", Served.etag)
        self.send_header("Content-Length", str(len(Served.body)))
        self.end_headers()
        self.wfile.write(Served.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    Served.body, Served.etag, Served.requests = GAMES, '"v1"', []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/games.ics"
    httpd.shutdown()


@pytest.fixture
def subscribed(pinned, server, trainer, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        calendar = imported_calendar_subscribe(user=trainer, url=server, name="League games", team=team)
    assert len(queued) == 1  # the first sync goes to the queue on commit
    return calendar


def test_a_subscription_syncs_then_answers_304_with_its_etag(subscribed):
    assert imported_calendar_sync(calendar_id=subscribed.pk).startswith("League games: 6 busy events")
    subscribed.refresh_from_db()
    assert subscribed.etag == '"v1"' and subscribed.events.count() == 6 and subscribed.last_error == ""
    assert imported_calendar_sync(calendar_id=subscribed.pk) == "not modified"
    assert Served.requests[-1]["If-None-Match"] == '"v1"'
    Served.body, Served.etag = GAMES.replace(b"COUNT=6", b"COUNT=5"), '"v2"'
    assert "(0 new, 0 changed, 1 removed)" in imported_calendar_sync(calendar_id=subscribed.pk)


def test_a_failed_sync_keeps_the_events_says_why_and_sends_the_webhook(subscribed, team):
    imported_calendar_sync(calendar_id=subscribed.pk)
    endpoint = WebhookEndpoint.objects.create(
        team=team, url="http://127.0.0.1:9/hook", events=["calendar.sync_failed"], secret="whsec_eA=="
    )
    Served.body, Served.etag = b"<html>maintenance</html>", '"v3"'
    assert imported_calendar_sync(calendar_id=subscribed.pk).startswith("failed: not an iCalendar file")
    subscribed.refresh_from_db()
    assert subscribed.events.count() == 6
    assert subscribed.last_error.startswith("not an iCalendar file")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event == "calendar.sync_failed"
    assert (
        delivery.payload["data"]["calendarId"] == subscribed.pk
        and delivery.payload["data"]["team"] == team.slug
    )
    assert AuditEvent.objects.filter(action="calendar.sync_failed").exists()


def test_a_calendar_over_the_size_cap_is_refused(subscribed, settings):
    settings.CALENDAR_IMPORT_MAX_BYTES = 1000
    assert "at most 1,000 are accepted" in imported_calendar_sync(calendar_id=subscribed.pk)
    assert not subscribed.events.exists()


def test_internal_addresses_are_refused_by_the_ssrf_guard(pinned, trainer, team):
    with pytest.raises(CalendarRefused, match="not a public address"):
        imported_calendar_subscribe(user=trainer, url="http://127.0.0.1:8000/x.ics", name="Sneaky", team=team)
    with pytest.raises(CalendarRefused, match="must start with https://"):
        imported_calendar_subscribe(user=trainer, url="file:///etc/passwd", name="Sneaky", team=team)
    assert not ImportedCalendar.objects.exists()


def test_the_page_subscribes_and_shows_errors(pinned, server, trainer_client, team):
    response = trainer_client.post(
        "/calendars/subscribe/", {"team": team.slug, "name": "Games", "url": server}
    )
    assert response.status_code == 302
    assert ImportedCalendar.objects.get(team=team).url == server
    bad = trainer_client.post("/calendars/subscribe/", {"team": team.slug, "name": "X", "url": "ftp://x"})
    assert bad.status_code == 422 and "must start with https://" in bad.content.decode()
