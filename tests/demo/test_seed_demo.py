from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from medical.models import MedicalRestriction
from workouts.models import (
    Assignment,
    Exercise,
    Membership,
    Player,
    Team,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)

pytestmark = pytest.mark.django_db

MODELS = (Team, Player, Exercise, Workout, WorkoutExercise, Assignment, WorkoutTemplate, MedicalRestriction)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_gives_the_same_club():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    assert first["Team"] == 2
    assert first["Player"] == 50
    assert first["Exercise"] >= 60
    assert first["Workout"] == 300
    assert "trainer2" in out.getvalue()


def test_seed_demo_builds_a_believable_season():
    call_command("seed_demo", stdout=StringIO())
    hawks = Team.objects.get(slug="hawks")
    statuses = set(hawks.workouts.values_list("status", flat=True))
    assert {Workout.Status.COMPLETED, Workout.Status.SCHEDULED, Workout.Status.DRAFT} <= statuses
    assert not Assignment.objects.filter(workout__status=Workout.Status.COMPLETED, status="assigned").exists()
    assert set(Exercise.objects.values_list("category", flat=True)) == set(Exercise.Category.values)
    severities = set(MedicalRestriction.objects.filter(player__team=hawks).values_list("severity", flat=True))
    assert severities == set(MedicalRestriction.Severity.values)
    assert not Workout.objects.filter(scheduled_end__lte=F("scheduled_start")).exists()


def test_seed_demo_logins_work_with_the_documented_roles(client):
    call_command("seed_demo", stdout=StringIO())
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert Membership.objects.get(user__username="trainer").team.slug == "hawks"
    assert Membership.objects.get(user__username="trainer2").team.slug == "lynx"
    assert Membership.objects.filter(user__username="medic", role="medic").count() == 2
    # Through the login page (login throttling needs the request, so client.login() cannot be used).
    response = client.post("/login/", {"username": "trainer", "password": "hockeyhub"})
    assert response.status_code == 302
    assert client.get("/workouts/").status_code == 200
