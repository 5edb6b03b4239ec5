from __future__ import annotations

import pytest
from django.urls import reverse

from hockeyhub.models import AuditEvent
from tests.factories import PlayerFactory, RestrictionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("base_template")]

NOTES = "Grade II MCL sprain; MRI pending."


@pytest.fixture
def restriction(team):
    player = PlayerFactory(team=team, first_name="Erik", last_name="Karlsson", jersey_number=65)
    return RestrictionFactory(player=player, title="Left knee sprain", clinical_notes=NOTES)


@pytest.fixture
def other_restriction(other_team):
    player = PlayerFactory(team=other_team, first_name="Lars", last_name="Lynx")
    return RestrictionFactory(player=player, title="Shoulder separation", clinical_notes="Lynx secret")


def notes_reads():
    return AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ)


def test_trainer_sees_the_summary_but_never_the_notes(trainer_client, restriction, other_restriction):
    response = trainer_client.get(reverse("medical:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Left knee sprain" in body
    assert "Erik Karlsson" in body
    assert "Moderate" in body
    assert "Body parts: Knee" in body
    assert NOTES not in body
    assert reverse("medical:detail", args=[restriction.pk]) not in body
    assert "Shoulder separation" not in body


def test_medic_list_links_to_notes_without_showing_them(medic_client, restriction):
    body = medic_client.get(reverse("medical:index"), {"team": "hawks"}).content.decode()
    assert reverse("medical:detail", args=[restriction.pk]) in body
    assert NOTES not in body
    assert not notes_reads().exists()


def test_medic_reading_notes_leaves_an_audit_row(medic_client, medic, restriction):
    response = medic_client.get(reverse("medical:detail", args=[restriction.pk]))
    assert response.status_code == 200
    assert NOTES in response.content.decode()
    event = notes_reads().get()
    assert event.actor == medic
    assert event.channel == "web"
    assert event.object_id == str(restriction.pk)
    assert event.team == restriction.player.team


def test_staff_reading_notes_is_audited_too(staff_client, restriction):
    response = staff_client.get(reverse("medical:detail", args=[restriction.pk]))
    assert response.status_code == 200
    assert notes_reads().count() == 1


def test_trainer_is_refused_the_notes_page_and_nothing_is_audited(trainer_client, restriction):
    response = trainer_client.get(reverse("medical:detail", args=[restriction.pk]))
    assert response.status_code == 403
    assert NOTES not in response.content.decode()
    assert not notes_reads().exists()


def test_other_teams_trainer_gets_404(other_trainer_client, restriction):
    assert other_trainer_client.get(reverse("medical:index"), {"team": "hawks"}).status_code == 404
    assert other_trainer_client.get(reverse("medical:detail", args=[restriction.pk])).status_code == 404


def test_medic_gets_404_for_another_teams_restriction(medic_client, other_restriction):
    response = medic_client.get(reverse("medical:detail", args=[other_restriction.pk]))
    assert response.status_code == 404
    assert not notes_reads().exists()


@pytest.mark.parametrize("name", ["medical:index", "medical:detail"])
def test_anonymous_is_redirected_to_login(client, restriction, name):
    url = reverse(name) if name == "medical:index" else reverse(name, args=[restriction.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_page_query_count_does_not_grow_with_restrictions(
    trainer_client, team, django_assert_max_num_queries
):
    for _ in range(30):
        RestrictionFactory(player=PlayerFactory(team=team))
    with django_assert_max_num_queries(10):
        response = trainer_client.get(reverse("medical:index"))
    assert response.status_code == 200
