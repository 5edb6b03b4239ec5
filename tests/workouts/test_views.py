from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AssignmentFactory, FacilityFactory, WorkoutExerciseFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db

LIST = reverse("workouts:list")


def _names(response) -> list[str]:
    return [w.name for w in response.context["page"].object_list]


def test_list_runs_a_bounded_number_of_queries(trainer_client, team, django_assert_max_num_queries):
    gym = FacilityFactory()
    WorkoutFactory.create_batch(60, team=team, facility=gym)
    with django_assert_max_num_queries(8):
        response = trainer_client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    assert response.content.count(b"<tr data-id=") == 50


def test_htmx_request_gets_only_the_table(trainer_client, team):
    WorkoutFactory(team=team, name="Leg day")
    response = trainer_client.get(LIST, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="workout-table"')
    assert "<html" not in body
    assert "Leg day" in body
    assert "HX-Request" in response["Vary"]


def test_full_page_has_layout_and_vary(trainer_client, team):
    response = trainer_client.get(LIST)
    body = response.content.decode()
    assert "<html" in body and 'id="notifications"' in body and "htmx.min.js" in body
    assert "HX-Request" in response["Vary"]


def test_filters_by_type_status_and_text(trainer_client, team):
    WorkoutFactory(team=team, name="Heavy squats", type=Workout.Type.STRENGTH)
    WorkoutFactory(team=team, name="Bike intervals", type=Workout.Type.CONDITIONING, status="draft")
    assert _names(trainer_client.get(LIST, {"type": "CONDITIONING"})) == ["Bike intervals"]
    assert _names(trainer_client.get(LIST, {"status": "draft"})) == ["Bike intervals"]
    assert _names(trainer_client.get(LIST, {"q": "squat"})) == ["Heavy squats"]


def test_archived_workouts_hidden_unless_asked_for(trainer_client, team):
    WorkoutFactory(team=team, name="Old", status=Workout.Status.ARCHIVED, archived_at=timezone.now())
    WorkoutFactory(team=team, name="Current")
    assert _names(trainer_client.get(LIST)) == ["Current"]
    assert _names(trainer_client.get(LIST, {"status": "archived"})) == ["Old"]
    assert sorted(_names(trainer_client.get(LIST, {"status": "all"}))) == ["Current", "Old"]


def test_filters_by_date_range(trainer_client, team):
    now = timezone.now()
    WorkoutFactory(team=team, name="Last week", scheduled_start=now - dt.timedelta(days=7))
    WorkoutFactory(team=team, name="Next week", scheduled_start=now + dt.timedelta(days=7))
    today = timezone.localdate()
    assert _names(trainer_client.get(LIST, {"date_from": today.isoformat()})) == ["Next week"]
    assert _names(trainer_client.get(LIST, {"date_to": today.isoformat()})) == ["Last week"]


def test_invalid_date_range_shows_error_and_no_filter(trainer_client, team):
    WorkoutFactory(team=team)
    response = trainer_client.get(LIST, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_sorting_by_name_both_ways(trainer_client, team):
    for name in ("Bravo", "Alpha", "Charlie"):
        WorkoutFactory(team=team, name=name)
    assert _names(trainer_client.get(LIST, {"sort": "name"})) == ["Alpha", "Bravo", "Charlie"]
    assert _names(trainer_client.get(LIST, {"sort": "-name"})) == ["Charlie", "Bravo", "Alpha"]


def test_second_page_holds_the_rest(trainer_client, team):
    WorkoutFactory.create_batch(55, team=team)
    assert len(trainer_client.get(LIST, {"page": 2}).context["page"].object_list) == 5


def test_detail_shows_exercises_and_assignments(trainer_client, team, django_assert_max_num_queries):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout, exercise__name="Back squat")
    assignment = AssignmentFactory(workout=workout, player__last_name="Zetterberg")
    with django_assert_max_num_queries(8):
        response = trainer_client.get(reverse("workouts:detail", args=[workout.pk]))
    assert b"Back squat" in response.content
    assert b"Zetterberg" in response.content
    assert assignment.player.first_name.encode() in response.content


# Malformed input: a 400 or a form error, never a 500 -------------------------------------------------


def test_a_nul_byte_anywhere_in_the_request_is_a_400(trainer_client, team):
    assert trainer_client.get(LIST, {"team": "\x00"}).status_code == 400
    assert trainer_client.get(LIST, {"q": "a\x00b"}).status_code == 400
    assert trainer_client.get("/workouts/%00/").status_code in (400, 404)
    response = trainer_client.post(reverse("workouts:select"), {"team": team.slug, "action": "clear\x00"})
    assert response.status_code == 400 and b"NUL" in response.content


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "2101-W01", "0000-W00", "2026-W99", "٢٠٢٦-W01"])
def test_a_week_outside_the_calendar_range_is_a_400(trainer_client, week):
    response = trainer_client.get(reverse("workouts:calendar"), {"week": week})
    assert response.status_code == 400


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"])
def test_list_filter_dates_outside_the_range_are_form_errors(trainer_client, date):
    response = trainer_client.get(LIST, {"date_to": date, "date_from": date})
    assert response.status_code == 200
    assert "must be between 2000-01-01 and 2100-12-31" in response.content.decode()


def test_select_all_matching_an_out_of_range_filter_is_refused(trainer_client, team):
    WorkoutFactory(team=team)
    response = trainer_client.post(
        reverse("workouts:select"), {"team": team.slug, "action": "all", "query": "date_to=9999-12-31"}
    )
    assert response.status_code == 400 and "must be between" in response.content.decode()
    assert trainer_client.get(LIST).status_code == 200


@pytest.mark.parametrize(
    "stored",
    [
        {"query": "date_to=9999-12-31", "included": [], "excluded": []},
        {"query": "type=NOPE", "included": [], "excluded": []},
        {"query": None, "included": ["x"], "excluded": []},
        {"query": None, "included": [10**30], "excluded": []},
        {"query": 5, "included": [], "excluded": []},
        ["not", "a", "selection"],
    ],
)
def test_a_stored_selection_that_no_longer_parses_is_dropped_with_a_notice(trainer_client, team, stored):
    """Such a selection once made the list and every modal answer 500 until it was cleared."""
    WorkoutFactory(team=team)
    session = trainer_client.session
    session[f"workout-selection:{team.pk}"] = stored
    session.save()
    modal = trainer_client.get(reverse("batch:operation", args=["update"]), {"team": team.slug})
    assert modal.status_code == 200
    response = trainer_client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your workout selection was cleared" in body or "Your workout selection was cleared" in (
        modal.content.decode()
    )
    assert f"workout-selection:{team.pk}" not in trainer_client.session
    assert "Your workout selection was cleared" not in trainer_client.get(LIST).content.decode()


@pytest.mark.parametrize("ids", [["²"], ["9" * 30], ["-1"], ["1.5"]])
def test_selection_ids_that_are_not_database_ids_are_a_400(trainer_client, team, ids):
    response = trainer_client.post(
        reverse("workouts:select"), {"team": team.slug, "action": "sync", "ids": ids, "page_ids": ""}
    )
    assert response.status_code == 400
    response = trainer_client.post(
        reverse("workouts:select"), {"team": team.slug, "action": "sync", "page_ids": ",".join(ids)}
    )
    assert response.status_code == 400
