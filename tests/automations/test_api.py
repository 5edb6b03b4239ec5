"""POST /api/v1/recipes and /recipes/{id}/schedules; the lists under /api/v1/automations."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, make_token  # noqa: F401  (fixtures below reuse them)

pytestmark = pytest.mark.django_db

RECIPE = {
    "name": "Copy this week to next week",
    "request": {
        "operations": [
            {
                "id": "copy",
                "type": "DUPLICATE",
                "forEachWorkout": {"from": "@week+0", "to": "@week+7"},
                "data": {"workoutId": "@workout", "count": 1, "dateShiftDays": 7, "includeAssignments": True},
            }
        ]
    },
}


@pytest.fixture
def api(trainer, team, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return ApiClient(make_token(trainer, team))


# Before the schedule's first run, so the next runs start there and cross the March DST change.
@pytest.mark.clock("2027-03-01T10:30:00")
def test_a_recipe_and_its_schedule_answer_ids_and_the_next_runs_with_offsets(api):
    response = api.post("/api/v1/recipes", RECIPE)
    assert response.status_code == 201, response.content
    recipe = response.json()["id"]
    response = api.post(
        f"/api/v1/recipes/{recipe}/schedules",
        {
            "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0",
            "start": "2027-03-14T18:00:00+01:00",
            "missed": "skip",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["nextRuns"][:3] == [
        "2027-03-14T18:00:00+01:00",
        "2027-03-21T18:00:00+01:00",
        "2027-03-28T18:00:00+02:00",
    ]
    listed = api.get("/api/v1/automations/schedules").json()["data"]
    assert [(s["id"], s["missed"], s["nextRun"]) for s in listed] == [
        (body["id"], "skip", "2027-03-14T18:00:00+01:00")
    ]
    assert [r["name"] for r in api.get("/api/v1/automations/recipes").json()["data"]] == [RECIPE["name"]]
    assert api.get("/api/v1/automations/runs").json()["data"] == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"rrule": "FREQ=SOMETIMES", "start": "2027-03-14T18:00:00+01:00"}, "RRULE"),
        ({"rrule": "FREQ=SECONDLY", "start": "2027-03-14T18:00:00+01:00"}, "hourly"),
        ({"rrule": "FREQ=DAILY", "start": "2027-03-14T18:00:00+01:00", "missed": "burst"}, "missed"),
    ],
)
def test_a_bad_schedule_is_a_problem_not_a_crash(api, body, words):
    recipe = api.post("/api/v1/recipes", RECIPE).json()["id"]
    response = api.post(f"/api/v1/recipes/{recipe}/schedules", body)
    assert response.status_code in (400, 422)
    assert words in response.content.decode()


def test_a_recipe_with_a_bad_relative_date_is_refused(api):
    bad = {
        "name": "x",
        "request": {"operations": [{"id": "a", "type": "CREATE", "data": {"when": "@fortnight"}}]},
    }
    response = api.post("/api/v1/recipes", bad)
    assert response.status_code == 422 and "@fortnight" in response.json()["detail"]


def test_another_teams_recipe_is_not_found(api, other_trainer, other_team):
    other = ApiClient(make_token(other_trainer, other_team))
    recipe = other.post("/api/v1/recipes", RECIPE).json()["id"]
    response = api.post(
        f"/api/v1/recipes/{recipe}/schedules", {"rrule": "FREQ=DAILY", "start": "2027-03-14T18:00:00+01:00"}
    )
    assert response.status_code == 404
