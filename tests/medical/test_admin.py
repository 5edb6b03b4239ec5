from __future__ import annotations

import pytest
from django.urls import reverse

from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.factories import PlayerFactory, RestrictionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def restriction(team):
    player = PlayerFactory(team=team, first_name="Erik", last_name="Karlsson")
    return RestrictionFactory(player=player, title="Left knee sprain", clinical_notes="MRI confirmed.")


def test_staff_opening_a_change_page_audits_the_notes_read(staff_client, staff, restriction):
    response = staff_client.get(reverse("admin:medical_medicalrestriction_change", args=[restriction.pk]))
    assert response.status_code == 200
    assert "MRI confirmed." in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CLINICAL_NOTES_READ)
    assert event.actor == staff
    assert event.channel == "admin"
    assert event.object_id == str(restriction.pk)


def test_changelist_does_not_audit_or_show_notes(staff_client, restriction):
    response = staff_client.get(reverse("admin:medical_medicalrestriction_changelist"))
    assert response.status_code == 200
    assert "Left knee sprain" in response.content.decode()
    assert "MRI confirmed." not in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("query", "found"),
    [({"q": "Karlsson"}, True), ({"q": "knee"}, True), ({"q": "shoulder"}, False)],
)
def test_changelist_searches_player_name_and_title(staff_client, restriction, query, found):
    response = staff_client.get(reverse("admin:medical_medicalrestriction_changelist"), query)
    assert response.status_code == 200
    assert ("Left knee sprain" in response.content.decode()) is found


@pytest.mark.parametrize(
    "query",
    [
        {"severity__exact": "moderate"},
        {"status__exact": "active"},
        {"player__team__id__exact": "1"},
        {"effective_date__year": "2026"},
    ],
)
def test_changelist_filters_and_date_hierarchy_answer(staff_client, restriction, query):
    if "player__team__id__exact" in query:
        query = {"player__team__id__exact": str(restriction.player.team_id)}
    response = staff_client.get(reverse("admin:medical_medicalrestriction_changelist"), query)
    assert response.status_code == 200


def test_saving_a_change_is_audited(staff_client, restriction):
    url = reverse("admin:medical_medicalrestriction_change", args=[restriction.pk])
    data = {
        "player": restriction.player_id,
        "title": "Left knee sprain (improving)",
        "severity": "mild",
        "status": "active",
        "body_parts": "knee",
        "movement_patterns": "",
        "exercise_categories": "",
        "max_exertion": "",
        "effective_date": restriction.effective_date.isoformat(),
        "expiry_date": restriction.expiry_date.isoformat(),
        "clinical_notes": "MRI confirmed.",
        "prescribed_by": "",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    restriction.refresh_from_db()
    assert restriction.severity == MedicalRestriction.Severity.MILD
    event = AuditEvent.objects.get(action=AuditEvent.Action.RESTRICTION_CHANGED)
    assert event.channel == "admin"
    assert "severity" in event.details["changed"]


@pytest.mark.parametrize(
    "lookup",
    ["clinical_notes__icontains", "clinical_notes", "clinical_notes__startswith", "clinical_notes__regex"],
)
def test_changelist_cannot_be_filtered_by_clinical_notes(staff_client, restriction, lookup):
    response = staff_client.get(reverse("admin:medical_medicalrestriction_changelist"), {lookup: "MRI"})
    assert response.status_code == 400
    assert "Left knee sprain" not in response.content.decode()
