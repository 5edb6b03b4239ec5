"""The Calendars page, the week calendar's busy time, the admin and /api/v1/calendars."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from api.services import api_token_create
from calendars.models import BusyEvent, FeedToken, ImportedCalendar
from calendars.services import feed_token_get_or_create, imported_calendar_import
from calendars.tokens import token_of
from tests.calendars.conftest import GAMES
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
PAGE = reverse("calendars:page")


def upload(client, team, data: bytes, name: str = "League games", **extra):
    file = SimpleUploadedFile("games.ics", data, content_type="text/calendar")
    return client.post(f"{PAGE}?team={team.slug}", {"team": team.slug, "name": name, "file": file, **extra})


def test_a_trainer_uploads_a_game_calendar_and_sees_it_listed(pinned, trainer_client, team):
    response = upload(trainer_client, team, GAMES)
    assert response.status_code == 302
    page = trainer_client.get(response["Location"])
    html = page.content.decode()
    assert "League games" in html and "Imported League games: 6 busy events (6 new" in html
    assert page["Cache-Control"] == "no-store"
    assert ImportedCalendar.objects.get(team=team).events.count() == 6


def test_a_broken_file_is_a_form_error_and_nothing_is_imported(pinned, trainer_client, team):
    response = upload(trainer_client, team, b"BEGIN:VCALENDAR\r\nthis is not ical\r\n")
    assert response.status_code == 422
    assert "This file cannot be imported" in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert not ImportedCalendar.objects.exists()


def test_facility_bookings_upload_and_delete(pinned, trainer_client, team, gym):
    upload(trainer_client, team, GAMES, name="Ice time", facility=gym.pk)
    calendar = ImportedCalendar.objects.get(facility=gym)
    assert calendar.team is None
    response = trainer_client.post(reverse("calendars:delete", args=[calendar.pk]), {"team": team.slug})
    assert response.status_code == 302
    assert not BusyEvent.objects.exists()


def test_another_teams_calendar_cannot_be_deleted(pinned, other_trainer_client, team, trainer, other_team):
    calendar = imported_calendar_import(user=trainer, data=GAMES, name="Games", team=team).calendar
    response = other_trainer_client.post(
        reverse("calendars:delete", args=[calendar.pk]), {"team": other_team.slug}
    )
    assert response.status_code == 404
    assert ImportedCalendar.objects.filter(pk=calendar.pk).exists()


def test_feed_links_with_copy_and_qr_code(pinned, trainer_client, team):
    player = PlayerFactory(team=team, first_name="Ada", last_name="Lindqvist")
    for data in ({"kind": "team"}, {"kind": "player", "player": player.pk}):
        response = trainer_client.post(reverse("calendars:feed_create"), {"team": team.slug, **data})
        assert response.status_code == 302
    html = trainer_client.get(f"{PAGE}?team={team.slug}").content.decode()
    feeds = list(FeedToken.objects.filter(team=team))
    assert len(feeds) == 2
    for feed in feeds:
        assert f"http://testserver/calendars/feed/{token_of(feed)}.ics" in html
    assert html.count("<svg") == 2 and 'data-copy="feed-url-' in html
    assert "Player: #" in html and "Ada Lindqvist" in html
    old = token_of(feeds[0])
    trainer_client.post(reverse("calendars:feed_rotate", args=[feeds[0].pk]))
    assert old not in trainer_client.get(f"{PAGE}?team={team.slug}").content.decode()
    bad = trainer_client.post(reverse("calendars:feed_create"), {"team": team.slug, "kind": "player"})
    assert bad.status_code == 422 and "a player of the team is required" in bad.content.decode()


def test_the_week_calendar_shows_busy_time(pinned, trainer_client, team, trainer):
    imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team)
    html = trainer_client.get(
        reverse("workouts:calendar"), {"team": team.slug, "week": "2026-W41"}
    ).content.decode()
    assert "calendar__event--busy" in html and "Game vs Luleå" in html and "19:00–21:30" in html
    html = trainer_client.get(
        reverse("workouts:calendar"), {"team": team.slug, "week": "2026-W45"}
    ).content.decode()
    assert html.count("Autumn break") == 2 and "All day" in html  # Monday and Tuesday


def test_staff_opens_the_calendar_admin_pages(pinned, staff_client, team, trainer, gym):
    calendar = imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team).calendar
    feed = feed_token_get_or_create(user=trainer, kind="facility", team=team, facility=gym)
    for name, obj in (
        ("importedcalendar", calendar),
        ("busyevent", calendar.events.first()),
        ("feedtoken", feed),
    ):
        assert staff_client.get(reverse(f"admin:calendars_{name}_changelist"), {"q": "a"}).status_code == 200
        assert staff_client.get(reverse(f"admin:calendars_{name}_change", args=[obj.pk])).status_code == 200
    page = staff_client.get(reverse("admin:calendars_feedtoken_change", args=[feed.pk])).content.decode()
    assert token_of(feed) in page


@pytest.fixture
def api(client, trainer, team):
    secret = api_token_create(user=trainer, team=team, name="test")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_api_imports_lists_and_deletes_busy_time(pinned, api, team, other_team, trainer):
    file = SimpleUploadedFile("games.ics", GAMES, content_type="text/calendar")
    response = api.post("/api/v1/calendars", {"name": "League games", "file": file})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["team"], body["events"], body["created"]) == (team.slug, 6, 6)
    assert [c["name"] for c in api.get("/api/v1/calendars").json()] == ["League games"]
    events = api.get(f"/api/v1/calendars/{body['id']}/events").json()
    assert events[0]["title"] == "Game vs Luleå" and events[0]["start"].startswith("2026-10-06T17:00:00")
    busy = api.get("/api/v1/calendars/busy", {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"})
    assert [e["title"] for e in busy.json()] == ["Autumn break", "Game vs Luleå"]
    broken = api.post("/api/v1/calendars", {"name": "x", "file": SimpleUploadedFile("x.ics", b"nope")})
    assert broken.status_code == 422 and broken.json()["code"] == "CALENDAR_REFUSED"
    theirs = imported_calendar_import(user=None, data=GAMES, name="Theirs", team=other_team).calendar
    assert api.get(f"/api/v1/calendars/{theirs.pk}/events").status_code == 404
    assert api.delete(f"/api/v1/calendars/{theirs.pk}").status_code == 404
    assert api.delete(f"/api/v1/calendars/{body['id']}").status_code == 204
    assert not ImportedCalendar.objects.filter(team=team).exists()


def test_api_feed_links_rotate_and_revoke(pinned, api, client, team):
    made = api.post("/api/v1/calendars/feeds", {"kind": "team"}, content_type="application/json")
    assert made.status_code == 201
    link = made.json()["url"]
    assert link.startswith("http://testserver/calendars/feed/hhc_")
    assert [f["id"] for f in api.get("/api/v1/calendars/feeds").json()] == [made.json()["id"]]
    rotated = api.post(f"/api/v1/calendars/feeds/{made.json()['id']}/rotate").json()
    assert rotated["url"] != link
    path = link.removeprefix("http://testserver")
    assert client.get(path).status_code == 404
    assert client.get(rotated["url"].removeprefix("http://testserver")).status_code == 200
    assert api.delete(f"/api/v1/calendars/feeds/{rotated['id']}").status_code == 204
    assert client.get(rotated["url"].removeprefix("http://testserver")).status_code == 404
    bad = api.post(
        "/api/v1/calendars/feeds", {"kind": "player", "playerId": 999999}, content_type="application/json"
    )
    assert bad.status_code == 422
