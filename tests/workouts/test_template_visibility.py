"""An "Only me" template is its owner's alone: on the list of templates, in the modal, in the engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.validation import batch_validate
from tests.factories import MembershipFactory, TemplateExerciseFactory, UserFactory, WorkoutTemplateFactory
from workouts.models import Membership, WorkoutTemplate
from workouts.selectors import templates_for_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(team):
    user = UserFactory(username="erin")
    MembershipFactory(user=user, team=team, role=Membership.Role.TRAINER)
    return user


@pytest.fixture
def private(team, colleague):
    template = WorkoutTemplateFactory(
        team=team,
        name="Erin's secret circuit",
        visibility=WorkoutTemplate.Visibility.PRIVATE,
        created_by=colleague,
    )
    TemplateExerciseFactory(template=template)
    return template


@pytest.fixture
def shared(team, colleague):
    return WorkoutTemplateFactory(team=team, name="Team circuit", created_by=colleague)


def test_others_only_me_templates_are_not_listed(trainer, colleague, team, private, shared):
    assert list(templates_for_team(team=team, user=trainer)) == [shared]
    assert set(templates_for_team(team=team, user=colleague)) == {private, shared}


def test_create_modal_neither_offers_nor_accepts_anothers_private_template(trainer_client, team, private):
    url = reverse("batch:operation", args=["create"])
    assert "secret circuit" not in trainer_client.get(url, {"team": team.slug}).content.decode()
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    response = trainer_client.post(
        url,
        {
            "team": team.slug,
            "request_id": "r",
            "action": "validate",
            "template": private.pk,
            "date_from": monday.isoformat(),
            "date_to": monday.isoformat(),
            "weekdays": ["0"],
            "time": "09:00",
            "opt-max_concurrency": 1,
            "opt-chunk_size": 10,
            "opt-retry_attempts": 0,
            "opt-medical_check": "on",
            "opt-conflict_resolution": "SKIP",
        },
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_engine_treats_anothers_private_template_as_unknown(trainer, colleague, team, private):
    start = (timezone.now() + dt.timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    raw = {
        "operations": [
            {
                "id": "c1",
                "type": "CREATE",
                "data": {"templateId": private.pk, "workout": {"scheduledStart": start.isoformat()}},
            }
        ]
    }
    errors = batch_validate(user=trainer, team=team, raw=raw).items["c1"].errors
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    assert not batch_validate(user=colleague, team=team, raw=raw).items["c1"].errors
