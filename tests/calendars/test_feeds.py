"""Feeds out: every feed parsed with icalendar — UIDs, SEQUENCE, zones across DST, scoping, 304s."""

from __future__ import annotations

import datetime as dt
import io
import time

import icalendar
import pytest
from django.core.management import call_command
from django.urls import reverse

from calendars.models import FeedToken
from calendars.services import feed_token_get_or_create, feed_token_revoke, feed_token_rotate
from calendars.tokens import token_of
from tests.calendars.conftest import local
from tests.factories import AssignmentFactory, PlayerFactory, RestrictionFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def url(feed: FeedToken) -> str:
    return reverse("calendars:feed", args=[token_of(feed)])


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def session(team, name: str, start: dt.datetime, **kwargs) -> Workout:
    return WorkoutFactory(
        team=team, name=name, scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1), **kwargs
    )


@pytest.fixture
def team_feed(team, trainer):
    return feed_token_get_or_create(user=trainer, kind="team", team=team)


def test_team_feed_has_one_event_per_scheduled_workout_in_the_window(
    pinned, client, team, other_team, gym, team_feed
):
    summer = session(team, "Legs", local(2026, 10, 20, 9), facility=gym)
    winter = session(team, "Legs again", local(2026, 10, 27, 9), facility=gym)  # after the DST change
    cancelled = session(team, "Sprints", local(2026, 10, 21, 9), status=Workout.Status.CANCELLED)
    session(team, "Draft", local(2026, 10, 22, 9), status=Workout.Status.DRAFT)
    session(team, "Long ago", local(2026, 8, 30, 9))  # more than 4 weeks back
    session(team, "Next season", local(2027, 4, 5, 9))  # more than 26 weeks ahead
    session(other_team, "Their legs", local(2026, 10, 20, 9))
    found = events(client.get(url(team_feed)))
    assert set(found) == {"Legs", "Legs again", "Cancelled: Sprints"}
    legs, again = found["Legs"], found["Legs again"]
    assert (
        str(legs["UID"]) == f"workout-{summer.pk}@hockeyhub"
        and str(again["UID"]) == f"workout-{winter.pk}@hockeyhub"
    )
    # 09:00 in the club's zone on both sides of the change: 07:00 UTC, then 08:00 UTC.
    for event, utc_hour in ((legs, 7), (again, 8)):
        start = event["DTSTART"].dt
        assert (start.hour, str(start.tzinfo)) == (9, "Europe/Stockholm")
        assert start.astimezone(dt.UTC).hour == utc_hour
        assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert str(legs["LOCATION"]) == "Main gym" and legs["STATUS"] == "CONFIRMED"
    assert found["Cancelled: Sprints"]["STATUS"] == "CANCELLED"
    assert str(found["Cancelled: Sprints"]["UID"]) == f"workout-{cancelled.pk}@hockeyhub"
    assert legs["SEQUENCE"] == 1


def test_sequence_follows_the_workout_version_and_the_etag_changes(pinned, client, team, team_feed):
    workout = session(team, "Legs", local(2026, 10, 20, 9))
    first = client.get(url(team_feed))
    etag = first["ETag"]
    assert client.get(url(team_feed), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url(team_feed), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    Workout.objects.filter(pk=workout.pk).update(
        scheduled_start=local(2026, 10, 20, 10), scheduled_end=local(2026, 10, 20, 11)
    )
    workout.refresh_from_db()
    assert workout.version == 2  # the database trigger bumps it
    second = client.get(url(team_feed), HTTP_IF_NONE_MATCH=etag)
    assert second["ETag"] != etag
    event = events(second)["Legs"]
    assert event["SEQUENCE"] == 2 and event["DTSTART"].dt.hour == 10
    Workout.objects.filter(pk=workout.pk).update(status=Workout.Status.CANCELLED)
    third = client.get(url(team_feed), HTTP_IF_NONE_MATCH=second["ETag"])
    cancelled = events(third)["Cancelled: Legs"]
    assert cancelled["STATUS"] == "CANCELLED" and cancelled["SEQUENCE"] == 3
    assert str(cancelled["UID"]) == f"workout-{workout.pk}@hockeyhub"


def test_a_player_feed_shows_only_that_players_sessions_and_no_medical_detail(pinned, client, team, trainer):
    mine, theirs = PlayerFactory(team=team), PlayerFactory(team=team)
    with_me = session(team, "Legs", local(2026, 10, 20, 9), notes="Knee rehab after ACL surgery")
    AssignmentFactory(workout=with_me, player=mine, modifications=[{"reason": "ACL rehab protocol"}])
    AssignmentFactory(workout=session(team, "Upper body", local(2026, 10, 21, 9)), player=theirs)
    RestrictionFactory(player=mine, clinical_notes="Grade 2 ACL sprain")
    feed = feed_token_get_or_create(user=trainer, kind="player", team=team, player=mine)
    response = client.get(url(feed))
    assert set(events(response)) == {"Legs"}
    body = response.content.decode()
    for secret in ("ACL", "rehab", "Knee", "sprain"):
        assert secret not in body


def test_a_facility_feed_shows_every_teams_sessions_there(
    pinned, client, team, other_team, trainer, gym, rink
):
    session(team, "Legs", local(2026, 10, 20, 9), facility=gym)
    session(other_team, "Their legs", local(2026, 10, 20, 11), facility=gym)
    session(team, "On ice", local(2026, 10, 20, 9), facility=rink)
    feed = feed_token_get_or_create(user=trainer, kind="facility", team=team, facility=gym)
    assert set(events(client.get(url(feed)))) == {"Frölunda Hawks: Legs", "Luleå Lynx: Their legs"}


def test_bad_revoked_and_rotated_tokens_answer_404(pinned, client, team, trainer, team_feed):
    session(team, "Legs", local(2026, 10, 20, 9))
    assert client.get(reverse("calendars:feed", args=["hhc_" + "0" * 64])).status_code == 404
    assert client.get(reverse("calendars:feed", args=["nonsense"])).status_code == 404
    old = url(team_feed)
    new = feed_token_rotate(user=trainer, feed=team_feed)
    assert client.get(old).status_code == 404
    assert set(events(client.get(url(new)))) == {"Legs"}
    feed_token_revoke(user=trainer, feed=new)
    assert client.get(url(new)).status_code == 404
    # Only a hash is stored: the token is nowhere in the row.
    assert token_of(new) not in {new.token_hash, new.nonce}


def test_feed_url_command_prints_a_working_url_last(pinned, client, team, settings):
    settings.CALENDAR_FEED_BASE_URL = "https://club.example"
    session(team, "Legs", local(2026, 10, 20, 9))
    out = io.StringIO()
    call_command("calendar_feed_url", "--team", team.slug, stdout=out)
    printed = out.getvalue().strip().splitlines()[-1]
    assert printed.startswith("https://club.example/calendars/feed/hhc_")
    again = io.StringIO()
    call_command("calendar_feed_url", "--team", team.slug, stdout=again)
    assert again.getvalue().strip().splitlines()[-1] == printed  # the same live link, not a new one
    assert set(events(client.get(printed.removeprefix("https://club.example")))) == {"Legs"}
    player = PlayerFactory(team=team)
    out = io.StringIO()
    call_command("calendar_feed_url", "--player", str(player.pk), stdout=out)
    assert out.getvalue().strip().splitlines()[-1] != printed


@pytest.mark.serial
def test_a_season_feed_renders_well_under_200_ms(
    pinned, client, team, gym, team_feed, django_assert_max_num_queries
):
    start = local(2026, 9, 7, 8)
    Workout.objects.bulk_create(
        Workout(
            team=team,
            name=f"Session {n}",
            type=Workout.Type.STRENGTH,
            status=Workout.Status.SCHEDULED,
            scheduled_start=start + dt.timedelta(days=n // 2, hours=3 * (n % 2)),
            scheduled_end=start + dt.timedelta(days=n // 2, hours=3 * (n % 2) + 1),
            facility=gym,
        )
        for n in range(400)
    )
    client.get(url(team_feed))  # warm: the VTIMEZONE is built once per process
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        with django_assert_max_num_queries(3):
            response = client.get(url(team_feed))
        timings.append(time.perf_counter() - began)
    assert len(events(response)) == 400  # 7 September .. 26 March: inside 4 weeks back, 26 ahead
    best = min(timings)
    print(f"season feed, {len(events(response))} events: best {best * 1000:.1f} ms of {len(timings)}")
    assert best < 0.2
