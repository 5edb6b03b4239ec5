"""Reads for the planner page: what the team already has on the calendar over the plan's days."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from workouts.calendar import at
from workouts.models import Team, Workout


def workouts_between(*, team: Team, first: dt.date, last: dt.date) -> QuerySet[Workout]:
    """The team's scheduled, unarchived workouts starting on these club days (one query)."""
    return (
        Workout.objects.filter(
            team=team,
            scheduled_start__gte=at(first, dt.time.min),
            scheduled_start__lt=at(last + dt.timedelta(days=1), dt.time.min),
            archived_at__isnull=True,
        )
        .exclude(status=Workout.Status.CANCELLED)
        .select_related("facility")
        .order_by("scheduled_start", "id")
    )
