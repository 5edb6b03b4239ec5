from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import WorkoutFactory

pytestmark = pytest.mark.django_db

LIST = reverse("workouts:list")


@pytest.fixture
def own_workout(team):
    return WorkoutFactory(team=team, name="Hawks leg day")


@pytest.fixture
def foreign_workout(other_team):
    return WorkoutFactory(team=other_team, name="Lynx sprint session")


def test_trainer_sees_only_own_teams_workouts(trainer_client, own_workout, foreign_workout):
    response = trainer_client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [own_workout]
    assert b"Lynx sprint session" not in response.content


def test_trainer_asking_for_another_teams_list_gets_404(trainer_client, foreign_workout):
    assert trainer_client.get(LIST, {"team": "lynx"}).status_code == 404


def test_trainer_opening_another_teams_workout_gets_404(trainer_client, foreign_workout):
    assert trainer_client.get(reverse("workouts:detail", args=[foreign_workout.pk])).status_code == 404


def test_trainer_opens_own_workout(trainer_client, own_workout):
    response = trainer_client.get(reverse("workouts:detail", args=[own_workout.pk]))
    assert response.status_code == 200
    assert b"Hawks leg day" in response.content


def test_staff_sees_every_team(staff_client, own_workout, foreign_workout):
    assert list(staff_client.get(LIST, {"team": "hawks"}).context["page"].object_list) == [own_workout]
    assert list(staff_client.get(LIST, {"team": "lynx"}).context["page"].object_list) == [foreign_workout]
    assert staff_client.get(reverse("workouts:detail", args=[foreign_workout.pk])).status_code == 200


def test_medic_can_view_their_teams_workouts(medic_client, own_workout, foreign_workout):
    assert list(medic_client.get(LIST).context["page"].object_list) == [own_workout]
    assert medic_client.get(reverse("workouts:detail", args=[own_workout.pk])).status_code == 200
    assert medic_client.get(reverse("workouts:detail", args=[foreign_workout.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, own_workout):
    for url in (LIST, reverse("workouts:detail", args=[own_workout.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_user_without_team_gets_404(client, own_workout):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="eve"))
    assert client.get(LIST).status_code == 404
