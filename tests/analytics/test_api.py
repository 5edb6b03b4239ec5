"""GET /api/v1/analytics/batches and /load: the dashboard's figures, team-scoped, 400 on bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from analytics.services import rollups_rebuild
from api.services import api_token_create
from tests.analytics.conftest import ITEM_FIELDS, batches_in
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutFactory

RANGE = {"from": "2026-10-24", "to": "2026-10-26"}


@pytest.fixture
def rebuilt(club):
    rollups_rebuild()
    return club


def bearer(user, team) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, team=team, name='t')[1]}"}


def totals(rows):
    return sum(r["batches"] for r in rows), sum(r["items"] for r in rows)


@pytest.mark.parametrize("group", ["day", "week", "type", "user"])
def test_a_token_sees_its_team_and_figures_match_the_rows(client, rebuilt, group):
    response = client.get(
        "/api/v1/analytics/batches", {**RANGE, "groupBy": group}, headers=bearer(rebuilt.alice, rebuilt.hawks)
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["teams"] == ["hawks"] and body["from"] == RANGE["from"] and body["groupBy"] == group
    batches = batches_in([rebuilt.hawks.pk], dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    assert body["summary"]["batches"] == len(batches)
    assert body["summary"]["items"] == sum(b.total_items for b in batches)
    for field in ITEM_FIELDS:
        assert body["summary"][field] == sum(getattr(b, field) for b in batches)
    if group != "type":
        assert totals(body["rows"]) == (len(batches), sum(b.total_items for b in batches))
    else:
        assert sum(r["items"] for r in body["rows"]) == sum(b.total_items for b in batches)
    assert {"durationP50Ms", "throughputP95", "estimateRatio"} <= set(body["types"][0])


def test_staff_session_sees_the_club_and_one_team_on_request(rebuilt):
    client = Client()
    client.force_login(rebuilt.staff)
    both = client.get("/api/v1/analytics/batches", RANGE).json()
    assert both["teams"] == ["hawks", "lynx"]
    assert both["summary"]["batches"] == len(
        batches_in([rebuilt.hawks.pk, rebuilt.lynx.pk], dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    )
    lynx = client.get("/api/v1/analytics/batches", {**RANGE, "team": "lynx"}).json()
    assert lynx["summary"]["batches"] == len(
        batches_in([rebuilt.lynx.pk], dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    )


def test_a_token_cannot_read_another_team(client, rebuilt):
    response = client.get(
        "/api/v1/analytics/batches", {**RANGE, "team": "lynx"}, headers=bearer(rebuilt.alice, rebuilt.hawks)
    )
    assert response.status_code == 404
    assert client.get("/api/v1/analytics/load", RANGE).status_code == 401


@pytest.mark.parametrize(
    "path,params,message",
    [
        ("batches", {"from": "2026-10-26", "to": "2026-10-24"}, "on or before"),
        ("batches", {"groupBy": "month"}, "groupBy"),
        ("batches", {"from": "soon"}, "from"),
        ("load", {"from": "2020-01-01", "to": "2026-01-01"}, "at most"),
        ("load", {"to": "2026-13-01"}, "to"),
    ],
)
def test_bad_parameters_are_a_400_with_a_message(client, rebuilt, path, params, message):
    response = client.get(f"/api/v1/analytics/{path}", params, headers=bearer(rebuilt.alice, rebuilt.hawks))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["Content-Type"] == "application/problem+json"


def test_load_per_player_and_week(client, rebuilt):
    player = PlayerFactory(team=rebuilt.hawks)
    start = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 CET, the repeated hour
    workout = WorkoutFactory(
        team=rebuilt.hawks, scheduled_start=start, scheduled_end=start + dt.timedelta(minutes=90)
    )
    AssignmentFactory(workout=workout, player=player, load_percent=80)
    body = client.get("/api/v1/analytics/load", RANGE, headers=bearer(rebuilt.alice, rebuilt.hawks)).json()
    assert body["weeks"] == ["2026-10-19", "2026-10-26"]
    (mine,) = [p for p in body["players"] if p["id"] == player.pk]
    assert mine["weeks"][0] == {
        "week": "2026-10-19",
        "sessions": 1,
        "minutes": 90,
        "load": 80,
        "change": None,
        "acwr": None,
        "flagged": False,
        "restricted": False,
    }
    assert body["totals"][0]["load"] == 80 and body["jump"] == 0.3


def test_the_endpoints_are_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    batches = paths["/api/v1/analytics/batches"]["get"]
    assert {p["name"] for p in batches["parameters"]} >= {"from", "to", "groupBy", "team"}
    assert "400" in batches["responses"]
    assert {p["name"] for p in paths["/api/v1/analytics/load"]["get"]["parameters"]} >= {"from", "to"}
