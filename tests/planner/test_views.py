"""The "Plan the week" page: the form, the plan on the calendar, why not, and the dry run it opens."""

from __future__ import annotations

import datetime as dt

import pytest

from batch.models import Batch
from tests.factories import WorkoutFactory
from tests.planner.conftest import MONDAY
from workouts.calendar import at

pytestmark = pytest.mark.django_db


def form(team, **sessions) -> dict:
    data = {
        "team": team.slug,
        "date_from": MONDAY.isoformat(),
        "no_hard_before_game": "on",
        "time_limit": "2",
    }
    for key, value in sessions.items():
        data[key] = value
    return data


def test_the_page_shows_the_form(trainer_client, team):
    response = trainer_client.get("/planner/", {"team": team.slug})
    assert response.status_code == 200
    assert b"Plan the week" in response.content and b'name="s0-name"' in response.content


def test_a_plan_shows_on_the_calendar_beside_existing_workouts_and_opens_the_dry_run(
    trainer_client, team, gym, squad
):
    WorkoutFactory(
        team=team,
        facility=gym,
        name="Morning lift",
        scheduled_start=at(MONDAY, dt.time(7)),
        scheduled_end=at(MONDAY, dt.time(8)),
    )
    data = form(
        team,
        **{
            "s0-name": "Sprints",
            "s0-duration": "60",
            "s0-intensity": "85",
            "s0-facilities": [gym.pk],
            "s0-days": ["MON"],
            "s0-earliest": "07:00",
            "s0-preferred_start": "13:00",
            "s0-load_percent": "80",
        },
    )
    response = trainer_client.post("/planner/", data)
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    assert "Placed 1 of 1 session" in html
    assert "Morning lift" in html and 'data-testid="planned"' in html
    assert "13:00–14:00" in html  # on Monday, at the preferred time
    assert response.context["request_json"].startswith('{\n  "operations": [')
    start = html.index('href="/batches/import/?team=')
    url = html[start + 6 : html.index('"', start + 6)].replace("&amp;", "&")
    preview = trainer_client.get(url)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Run 1 operation" in page
    token = url.split("token=")[1]
    run = trainer_client.post("/batches/import/", {"team": team.slug, "action": "run", "token": token})
    assert run.status_code == 302
    batch = Batch.objects.get()
    assert batch.total_items == 1
    (item,) = batch.items.all()
    assert [a["loadPercent"] for a in item.data["assignments"]] == [80] * len(squad)


def test_a_session_that_does_not_fit_says_why(trainer_client, team, gym, squad):
    data = form(
        team,
        **{
            "s0-name": "Long",
            "s0-duration": "600",
            "s0-intensity": "50",
            "s0-facilities": [gym.pk],
            "s0-earliest": "12:00",
        },
    )
    response = trainer_client.post("/planner/", data)
    html = response.content.decode()
    assert 'data-testid="why-not"' in html
    assert "Gym is open only 07:00–21:00" in html


def test_bad_rows_are_form_errors(trainer_client, team, gym):
    response = trainer_client.post("/planner/", form(team, **{"s0-name": "Nowhere", "s0-duration": "5"}))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose where the session may take place." in html


def test_another_team_is_not_found(other_trainer_client, team):
    assert other_trainer_client.get("/planner/", {"team": team.slug}).status_code == 404
