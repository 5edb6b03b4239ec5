"""Domain rules shared by the single-object services and the batch executors. Pure: no queries."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from workouts.models import Facility, Workout, WorkoutTemplate

# Every date a request, a form, a filter or a query string may name lies in this range (documented in
# docs/operations.md). It keeps recurrence, calendars and date arithmetic bounded and far from year 9999.
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
DATE_RANGE_MESSAGE = f"must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}"


def date_in_range(value: dt.date | dt.datetime) -> bool:
    """Return whether the (local) date lies within DATE_MIN..DATE_MAX."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def template_visible_to(template: WorkoutTemplate, *, user_id: int | None) -> bool:
    """Return whether the user may see and use the template: "Only me" templates are their owner's alone.

    Team scoping is the caller's business (selectors scope by team); this is the visibility rule.
    """
    return template.visibility != WorkoutTemplate.Visibility.PRIVATE or (
        user_id is not None and template.created_by_id == user_id
    )


def within_opening_hours(facility: Facility, start: dt.datetime, end: dt.datetime | None) -> bool:
    """Return whether start–end lies inside the facility's hours on one local day."""
    local_start = timezone.localtime(start)
    local_end = timezone.localtime(end) if end is not None else local_start
    return (
        local_start.date() == local_end.date()
        and local_start.time() >= facility.opens_at
        and local_end.time() <= facility.closes_at
    )


def mark_archived(workout: Workout, *, now: dt.datetime) -> None:
    """Archive in memory, remembering the status so a restore can put it back; bumps the version."""
    workout.status_before_archive = workout.status
    workout.status = Workout.Status.ARCHIVED
    workout.archived_at = now
    workout.version += 1


def mark_restored(workout: Workout) -> None:
    """Un-archive in memory with the status it had before; bumps the version."""
    workout.status = workout.status_before_archive or Workout.Status.DRAFT
    workout.status_before_archive = ""
    workout.archived_at = None
    workout.version += 1
