from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from medical.selectors import active_restrictions_by_player, player_medical_status, restrictions_for_team
from medical.services import clinical_notes_read
from tests.factories import PlayerFactory, RestrictionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def test_player_medical_status_gives_badges_in_one_query(team, django_assert_num_queries):
    free, modified, out, cleared = PlayerFactory.create_batch(4, team=team)
    RestrictionFactory(player=modified, severity=MedicalRestriction.Severity.SEVERE)
    RestrictionFactory(player=out, severity=MedicalRestriction.Severity.MILD)
    RestrictionFactory(player=out, severity=MedicalRestriction.Severity.COMPLETE)
    RestrictionFactory(player=cleared, status=MedicalRestriction.Status.CLEARED)
    with django_assert_num_queries(1):
        badges = player_medical_status([free, modified, out, cleared.pk], TODAY)
    assert badges == {free.pk: "available", modified.pk: "modified", out.pk: "out", cleared.pk: "available"}


@pytest.mark.parametrize(("persona", "sees_notes"), [("trainer", False), ("medic", True), ("staff", True)])
def test_restrictions_for_team_gives_notes_only_to_medical_readers(request, team, persona, sees_notes):
    user = request.getfixturevalue(persona)
    RestrictionFactory(player=PlayerFactory(team=team), clinical_notes="Secret")
    [summary] = restrictions_for_team(user=user, team=team, include_notes=True)
    assert (summary.clinical_notes == "Secret") is sees_notes
    assert summary.in_effect


def test_restrictions_for_team_refuses_another_team(other_trainer, team):
    with pytest.raises(Http404):
        restrictions_for_team(user=other_trainer, team=team)


def test_active_restrictions_by_player_skips_those_not_in_effect(team):
    player = PlayerFactory(team=team)
    current = RestrictionFactory(player=player)
    RestrictionFactory(player=player, effective_date=TODAY + dt.timedelta(days=2), expiry_date=None)
    RestrictionFactory(player=player, status=MedicalRestriction.Status.EXPIRED)
    assert [r.id for r in active_restrictions_by_player(player_ids=[player.pk])[player.pk]] == [current.pk]


def test_clinical_notes_read_refuses_trainers_and_audits_medics(trainer, medic, team):
    restriction = RestrictionFactory(player=PlayerFactory(team=team), clinical_notes="Secret")
    with pytest.raises(PermissionDenied):
        clinical_notes_read(user=trainer, restriction=restriction, channel="web", purpose="test")
    assert not AuditEvent.objects.exists()
    assert clinical_notes_read(user=medic, restriction=restriction, channel="export", purpose="report") == (
        "Secret"
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.channel, event.purpose) == (
        AuditEvent.Action.CLINICAL_NOTES_READ,
        "export",
        "report",
    )
