"""POST /api/v1/planner: the plan as JSON with its batch request; 400 for a bad problem; team-scoped."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, make_token
from tests.planner.conftest import problem, session

pytestmark = pytest.mark.django_db


def test_the_api_answers_a_plan_whose_request_validates(trainer, team, gym, squad):
    api = ApiClient(make_token(trainer, team))
    response = api.post("/api/v1/planner", problem(team, [session("Lift", [gym], squad)]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["feasible"] is True and body["unplaced"] == []
    validated = api.post("/api/v1/batches/validate", body["request"], params={"team": team.slug})
    assert validated.status_code == 200 and validated.json()["valid"] is True, validated.content


def test_a_bad_problem_is_a_400_naming_the_field(trainer, team, gym, squad):
    api = ApiClient(make_token(trainer, team))
    bad = problem(team, [session("Lift", [gym], squad, latest="06:00", earliest="08:00")])
    response = api.post("/api/v1/planner", bad)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "INVALID_PROBLEM"
    assert body["errors"][0]["field"] == "sessions[0]"
    assert "latest must be after earliest" in body["errors"][0]["message"]


def test_another_teams_trainer_cannot_plan_for_the_team(other_trainer, other_team, team, gym, squad):
    api = ApiClient(make_token(other_trainer, other_team))
    response = api.post("/api/v1/planner", problem(team, [session("Lift", [gym], squad)]))
    assert response.status_code == 404


def test_an_infeasible_week_answers_why(trainer, team, gym, squad):
    api = ApiClient(make_token(trainer, team))
    raw = problem(team, [session("Marathon", [gym], squad, durationMinutes=12 * 60, earliest="10:00")])
    body = api.post("/api/v1/planner", raw).json()
    assert body["feasible"] is False
    assert "Gym is open only 07:00–21:00" in body["unplaced"][0]["explanation"]


def test_the_openapi_document_describes_the_problem(client):
    spec = client.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/planner"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"team", "from", "to", "sessions"} <= set(body["properties"])
    assert "durationMinutes" in body["properties"]["sessions"]["items"]["properties"]
