"""The workout rulebook: what a change may do, judged on rows the caller loaded. Pure: no queries.

Every write path asks here: the batch executors (whole chunks at once), undo, the admin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from workouts.limits import DEFAULT_DURATION, DEFAULT_DURATION_MINUTES, MAX_LOAD_PERCENT
from workouts.models import Assignment, Facility, Player, Workout, WorkoutExercise, WorkoutTemplate

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


# --- what a workout's state allows ---------------------------------------------------------------------
# Each rule judges one workout from rows the caller loaded (many at once, in a constant number of
# queries) and returns a Refusal, or None when the change is allowed.


@dataclass(frozen=True)
class Refusal:
    """A rule said no: why, and what the user can do instead.

    `code` names the rule (the same on every path: batch item details, admin form errors); `field` is
    the model field the refusal is about, when there is one (each path maps it to its own field name);
    a plan function over an operation's data (`workouts.plans`) returns it already mapped, as the
    data path (`data.workout.scheduledEnd`).
    """

    message: str
    suggestion: str
    code: str = ""
    field: str = ""
    # The id a NOT_FOUND refusal could not find.
    ident: Any = None


NOT_FOUND = "NOT_FOUND"


def unknown(what: str, ident: Any, *, field: str = "") -> Refusal:
    """A change names a row its team does not have (or nobody has): NOT_FOUND, with the id named."""
    return Refusal(
        f"{what} {ident} does not exist in this team",
        f"Check the {what.lower()} id, or pick one from your team's list.",
        NOT_FOUND,
        field,
        ident,
    )


def archive_refusal(workout: Workout, *, restore: bool) -> Refusal | None:
    """Archive only what is not archived; restore only what is."""
    if restore and workout.archived_at is None:
        return Refusal(f"workout {workout.pk} is not archived", "Only archived workouts can be restored.")
    if not restore and workout.archived_at is not None:
        return Refusal(f"workout {workout.pk} is already archived", "Leave it out, or restore it first.")
    return None


def edit_refusal(workout: Workout) -> Refusal | None:
    """An archived workout is not edited: it is restored first."""
    if workout.archived_at is not None:
        return Refusal(f"workout {workout.pk} is archived", "Restore it first (ARCHIVE with restore: true).")
    return None


def completed_sessions(workout: Workout, assignments: Iterable[Assignment]) -> list[int]:
    """Return the ids of the workout's completed assignments."""
    return [
        a.pk for a in assignments if a.workout_id == workout.pk and a.status == Assignment.Status.COMPLETED
    ]


def permanent_delete_refusal(workout: Workout, assignments: Iterable[Assignment]) -> Refusal | None:
    """No hard delete after completed sessions: the record of what players did stays."""
    if workout.status == Workout.Status.COMPLETED or completed_sessions(workout, assignments):
        return Refusal(
            f"workout {workout.pk} has completed sessions and cannot be deleted permanently",
            "Delete it softly (permanent: false) to archive it instead.",
        )
    return None


def listed_twice(player: Player, seen: Collection[int]) -> Refusal | None:
    """A player goes on a workout once: a second entry for them in the same change is refused
    (`seen`: the players listed before). CREATE and ASSIGN ask."""
    if player.pk in seen:
        return Refusal(
            f"player {player.name} is listed twice", "Correct the value and run again.", "LISTED_TWICE"
        )
    return None


def assign_refusal(workout: Workout) -> Refusal | None:
    """No assigning to a cancelled or archived workout."""
    if workout.archived_at is not None or workout.status == Workout.Status.CANCELLED:
        return Refusal(
            f"workout {workout.pk} is {workout.status}; players cannot be assigned to it",
            "Restore or reschedule the workout first.",
        )
    return None


HISTORY = (Workout.Status.COMPLETED, Workout.Status.CANCELLED)
# The statuses UPDATE may set (archiving is ARCHIVE's, with its memory of the status before).
UPDATE_STATUSES = tuple(s for s in Workout.Status.values if s != Workout.Status.ARCHIVED)


def move_refusal(workout: Workout) -> Refusal | None:
    """A completed, cancelled or archived workout keeps its place in history: it is not moved (a new
    start, end or facility); its copy is scheduled instead. SCHEDULE, UPDATE, undo and the admin ask."""
    if workout.archived_at is not None or workout.status in HISTORY:
        return Refusal(
            f"workout {workout.pk} is {workout.status} and cannot be scheduled or moved",
            "Duplicate it and schedule the copy instead.",
            code="MOVE_HISTORY",
            field="scheduled_start",
        )
    return None


def default_status(start: dt.datetime | None) -> str:
    """A new workout without a status is scheduled when it has a start, else a draft."""
    return Workout.Status.SCHEDULED if start is not None else Workout.Status.DRAFT


def default_duration(workout: Workout) -> dt.timedelta:
    """How long a workout moved without an end lasts: as long as it did, else DEFAULT_DURATION."""
    if workout.scheduled_start and workout.scheduled_end and workout.scheduled_end > workout.scheduled_start:
        return workout.scheduled_end - workout.scheduled_start
    return DEFAULT_DURATION


def capped_load(load: int, cap: int | None) -> int:
    """A load after a medical cap (None: no cap beyond the domain's MAX_LOAD_PERCENT)."""
    return min(load, MAX_LOAD_PERCENT if cap is None else cap)


def timing_refusal(*, status: str, start: dt.datetime | None, end: dt.datetime | None) -> Refusal | None:
    """A workout's time must make sense: an end needs a start and comes after it, and a scheduled
    workout has a start. CREATE, UPDATE and the admin ask, with the values the change leaves."""
    if end is not None and start is None:
        return Refusal(
            "an end needs a start",
            "Give a start, or leave the end out.",
            "END_WITHOUT_START",
            "scheduled_end",
        )
    if end is not None and start is not None and end <= start:
        return Refusal(
            "the end must be after the start",
            "Correct the value and run again.",
            "END_BEFORE_START",
            "scheduled_end",
        )
    if status == Workout.Status.SCHEDULED and start is None:
        return Refusal(
            "a scheduled workout needs a start",
            "Give a start, or make it a draft.",
            "SCHEDULED_WITHOUT_START",
            "status",
        )
    return None


# --- templates ------------------------------------------------------------------------------------------

TEMPLATE_SOURCES = (Workout.Status.COMPLETED, Workout.Status.SCHEDULED)


def template_source_refusal(workout: Workout) -> Refusal | None:
    """Templates come from successful workouts: completed or scheduled, not archived."""
    if workout.archived_at is not None or workout.status not in TEMPLATE_SOURCES:
        return Refusal(
            f"workout {workout.pk} is {workout.status}; templates come from completed or scheduled workouts",
            "Leave it out of workoutIds.",
        )
    return None


def template_exercises(
    workouts: Sequence[Workout], exercises: Mapping[int, Sequence[WorkoutExercise]]
) -> list[WorkoutExercise]:
    """Return the union of the workouts' exercises in order of first appearance (the first workout's
    prescription wins for an exercise several share); `exercises` is by workout id, in order."""
    seen: set[int] = set()
    picked: list[WorkoutExercise] = []
    for workout in workouts:
        for row in exercises.get(workout.pk, []):
            if row.exercise_id not in seen:
                seen.add(row.exercise_id)
                picked.append(row)
    return picked


def template_from(workouts: Sequence[Workout], **fields: Any) -> WorkoutTemplate:
    """Return an unsaved template of the workouts: their mean intensity and mean scheduled duration."""
    durations = [
        int((w.scheduled_end - w.scheduled_start).total_seconds() // 60)
        for w in workouts
        if w.scheduled_start and w.scheduled_end
    ]
    return WorkoutTemplate(
        team_id=workouts[0].team_id,
        intensity=round(sum(w.intensity for w in workouts) / len(workouts)),
        duration_minutes=round(sum(durations) / len(durations)) if durations else DEFAULT_DURATION_MINUTES,
        source_workout=workouts[0] if len(workouts) == 1 else None,
        source_workout_ids=[w.pk for w in workouts],
        **fields,
    )


def assignment_medical_fields(verdict: Any, load: int) -> tuple[int, dict[str, Any]]:
    """Return an assignment's load after the verdict's cap, and its medical fields.

    `verdict` is the medical gate's PlayerVerdict, or None when nobody checked (a medic turned the
    check off for a path that has no verdict). A "blocked" verdict only gets here through a medic's or
    staff member's override, and stays on the assignment, visible.
    """
    if verdict is None:
        return load, {"medical_verdict": Assignment.Verdict.UNCHECKED, "modifications": []}
    if verdict.load_cap is not None:
        load = capped_load(load, verdict.load_cap)
    return load, {"medical_verdict": verdict.verdict, "modifications": list(verdict.substitutions)}
