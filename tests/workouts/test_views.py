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
