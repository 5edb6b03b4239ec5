from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tests.factories import PlayerFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def test_end_before_start_violates_constraint(team):
    start = WorkoutFactory.build().scheduled_start
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkoutFactory(team=team, scheduled_start=start, scheduled_end=start - dt.timedelta(minutes=1))


def test_end_without_start_violates_constraint(team):
    start = WorkoutFactory.build().scheduled_start
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkoutFactory(team=team, scheduled_start=None, scheduled_end=start)


def test_start_without_end_is_allowed(team):
    workout = WorkoutFactory(team=team, scheduled_end=None)
    assert Workout.objects.filter(pk=workout.pk).exists()


def test_jersey_numbers_are_unique_per_team(team, other_team):
    PlayerFactory(team=team, jersey_number=9)
    PlayerFactory(team=other_team, jersey_number=9)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayerFactory(team=team, jersey_number=9)
