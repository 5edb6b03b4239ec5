"""Copies of workouts, shared by DUPLICATE and a SCHEDULE series: the medical check per copy day, the
plan of one copy (`workouts.plans.workout_copy`, with the players the gate leaves out) and the bulk
write of a chunk's copies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from batch.models import BatchChange, BatchItem
from batch.operations.base import NEW_WORKOUT_IMAGE, Context, snapshot
from batch.operations.medical import gate_players, left_out
from batch.operations.state import WorkoutState
from batch.sql import copy_create
from workouts.models import Assignment, Workout, WorkoutExercise
from workouts.plans import WorkoutCopy, copy_exercise, workout_copy


def gate_days(
    item: BatchItem, ctx: Context, *, workout: Workout, player_ids: Sequence[int], days: Sequence[dt.date]
) -> dict[dt.date, dict[int, Any]]:
    """Return verdicts per day; days with the same restrictions in effect share one check (and note)."""
    state = ctx.state_as(WorkoutState)
    gate = state.gate
    if gate is None or not player_ids:
        return {}
    days_of: dict[tuple, list[dt.date]] = {}
    for day in days:
        days_of.setdefault(gate.restriction_signature(player_ids, day), []).append(day)
    out = {}
    for same_days in days_of.values():
        verdicts = gate_players(
            item,
            ctx,
            player_ids=player_ids,
            exercises=state.parts.specs.get(workout.pk, []),
            on_date=same_days[0],
            intensity=workout.intensity,
            name=workout.name,
            days=same_days,
        )
        out.update(dict.fromkeys(same_days, verdicts))
    return out


def plan_copy(
    item: BatchItem,
    ctx: Context,
    original: Workout,
    *,
    verdicts: dict[int, Any] | None,
    include_assignments: bool,
    **copy: Any,
) -> WorkoutCopy:
    """Plan one copy (`workouts.plans.workout_copy`: `copy` names its name, start, end, facility_id
    and changes), made by the item's user; with `include_assignments` it takes the original's players
    but those the copy day's verdicts leave out."""
    if not include_assignments:
        return workout_copy(original, created_by=ctx.user, **copy)
    return workout_copy(
        original,
        created_by=ctx.user,
        assignments=ctx.state_as(WorkoutState).parts.assignments.get(original.pk, []),
        verdicts=verdicts,
        out=left_out(item, ctx, verdicts or {}),
        **copy,
    )


def write_copies(copies: Sequence[tuple[BatchItem, WorkoutCopy]], ctx: Context) -> dict[str, list[int]]:
    """Insert the copies, their exercises and assignments (three statements); log each CREATED.
    Return the new workouts' ids by op id, in order."""
    if not copies:
        return {}
    exercises = ctx.state_as(WorkoutState).parts.exercises
    workouts = copy_create(Workout, [c.workout for _, c in copies])
    exercise_rows, assignment_rows = [], []
    created: dict[str, list[int]] = {}
    for (item, copy), workout in zip(copies, workouts, strict=True):
        for row in exercises.get(copy.original.pk, []):
            exercise_rows.append(WorkoutExercise(workout=workout, order=row.order, **copy_exercise(row)))
        for values in copy.assignments:
            assignment_rows.append(Assignment(workout=workout, **values))
        ctx.log_change(
            item, obj=workout, action=BatchChange.Action.CREATED, after=snapshot(workout, NEW_WORKOUT_IMAGE)
        )
        created.setdefault(item.op_id, []).append(workout.pk)
    if exercise_rows:
        copy_create(WorkoutExercise, exercise_rows)
    if assignment_rows:
        copy_create(Assignment, assignment_rows)
    return created
