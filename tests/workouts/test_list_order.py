"""The workout list opens on what is coming up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import WorkoutFactory

pytestmark = pytest.mark.django_db


def test_upcoming_workouts_come_first_then_unscheduled_then_the_latest_past(trainer_client, team):
    now = timezone.now()
    WorkoutFactory(
        team=team, name="Long ago", scheduled_start=now - dt.timedelta(days=30), scheduled_end=None
    )
    WorkoutFactory(
        team=team, name="Last week", scheduled_start=now - dt.timedelta(days=7), scheduled_end=None
    )
    WorkoutFactory(team=team, name="Someday", scheduled_start=None, scheduled_end=None)
    WorkoutFactory(
        team=team, name="Next month", scheduled_start=now + dt.timedelta(days=30), scheduled_end=None
    )
    WorkoutFactory(team=team, name="Tomorrow", scheduled_start=now + dt.timedelta(days=1), scheduled_end=None)

    body = trainer_client.get(reverse("workouts:list")).content.decode()

    order = ["Tomorrow", "Next month", "Someday", "Last week", "Long ago"]
    assert [body.index(f">{name}</a>") for name in order] == sorted(
        body.index(f">{name}</a>") for name in order
    )
    oldest_first = trainer_client.get(reverse("workouts:list"), {"sort": "start"}).content.decode()
    assert oldest_first.index(">Long ago</a>") < oldest_first.index(">Tomorrow</a>")
