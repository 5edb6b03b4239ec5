"""A user in no team yet gets a page that says what to do, not a dead-end 404 that links to itself."""

from __future__ import annotations

import pytest

from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_on_an_install_without_teams_are_sent_to_create_the_first_one(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/", follow=True)
    assert response.status_code == 404
    page = response.content.decode()
    assert "You are not in a team yet" in page
    assert 'href="/admin/workouts/team/add/"' in page
    assert client.get("/admin/workouts/team/add/").status_code == 200


def test_a_trainer_not_yet_added_to_a_team_is_told_whom_to_ask(client):
    TeamFactory(slug="hawks")
    client.force_login(UserFactory(username="newbie"))
    for url in ("/workouts/", "/batches/", "/medical/"):
        response = client.get(url, follow=True)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert "Ask club staff to add" in page and "newbie" in page, url
        assert "Create a team" not in page


def test_another_teams_page_is_still_a_plain_404(client, trainer, other_team):
    client.force_login(trainer)
    response = client.get(f"/workouts/?team={other_team.slug}")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
