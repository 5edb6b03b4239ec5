""" "Medic or staff" is one answer: a medic of the team or club staff; not a trainer, not another team's
medic, not an anonymous visitor."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from medical.roles import is_medic_or_staff
from tests.factories import MembershipFactory, UserFactory
from workouts.models import Membership

pytestmark = pytest.mark.django_db


def test_medics_of_the_team_and_club_staff_count_as_medical_staff(team, other_team, trainer, medic, staff):
    elsewhere = UserFactory(username="erin")
    MembershipFactory(user=elsewhere, team=other_team, role=Membership.Role.MEDIC)

    assert is_medic_or_staff(user=medic, team=team)
    assert is_medic_or_staff(user=staff, team=team)  # staff need no membership
    assert not is_medic_or_staff(user=trainer, team=team)
    assert not is_medic_or_staff(user=elsewhere, team=team)
    assert not is_medic_or_staff(user=AnonymousUser(), team=team)
    assert not is_medic_or_staff(user=None, team=team)
