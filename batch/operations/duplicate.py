"""DUPLICATE: copies of a workout (exercises, optionally assignments), named by a pattern, optionally
shifted by whole days; also the copy machinery SCHEDULE's recurrence uses.

Copies of a scheduled workout with `dateShiftDays` land on the calendar (copy n at n × shift days) and
go through the conflict strategy; without it they are unscheduled drafts. `modifications` apply to
every copy (`name` there is a pattern like `namePattern`). With `includeAssignments`, each player is
gated medically on the copy's date. Every copy is logged CREATED.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from batch.errors import ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import Context, Executor, copied, invalid, not_found, register, snapshot
from batch.operations.calendar import (
    all_parts_skipped,
    apply_overrides,
    note_skipped_parts,
    parts_result,
    place_part,
    resolve,
)
from batch.operations.create import SNAPSHOT_FIELDS
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import gate_players, left_out, left_out_result, load_gate
from batch.operations.state import WorkoutState
from batch.sql import copy_create
from workouts.calendar import Calendar, Slot, at, local_day
from workouts.models import Assignment, Facility, Workout, WorkoutExercise
from workouts.rules import assignment_medical_fields, copy_name, copy_of, default_duration


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


@dataclass(slots=True)
class CopyPlan:
    """One copy to insert: the new workout and its assignments' values (its exercises are the
    original's)."""

    item: BatchItem
    original: Workout
    workout: Workout
    assignments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class DuplicateState(WorkoutState):
    facilities: dict[int, Facility] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, list[CopyPlan]] = field(default_factory=dict)


def plan_copy(
    ctx: Context,
    item: BatchItem,
    original: Workout,
    *,
    name: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    facility_id: int | None,
    verdicts: dict[int, Any] | None,
    include_assignments: bool,
    changes: dict[str, Any] | None = None,
) -> CopyPlan:
    workout = copy_of(
        original,
        name=name,
        start=start,
        end=end,
        facility_id=facility_id,
        created_by=ctx.user,
        changes=changes,
    )
    rows = []
    if include_assignments:
        out = left_out(item, ctx, verdicts or {})
        for a in ctx.state_as(WorkoutState).parts.assignments.get(original.pk, []):
            if a.player_id in out:
                continue
            load, medical = assignment_medical_fields((verdicts or {}).get(a.player_id), a.load_percent)
            rows.append({"player_id": a.player_id, "role": a.role, "load_percent": load, **medical})
    return CopyPlan(item=item, original=original, workout=workout, assignments=rows)


def write_copies(plans: Sequence[CopyPlan], ctx: Context) -> dict[str, list[int]]:
    """Insert the copies, their exercises and assignments (three statements); log each CREATED."""
    if not plans:
        return {}
    exercises = ctx.state_as(WorkoutState).parts.exercises
    workouts = copy_create(Workout, [p.workout for p in plans])
    exercise_rows, assignment_rows = [], []
    created: dict[str, list[int]] = {}
    for plan, workout in zip(plans, workouts, strict=True):
        for row in exercises.get(plan.original.pk, []):
            exercise_rows.append(WorkoutExercise(workout=workout, order=row.order, **copied(row)))
        for values in plan.assignments:
            assignment_rows.append(Assignment(workout=workout, **values))
        ctx.log_change(
            plan.item,
            obj=workout,
            action=BatchChange.Action.CREATED,
            after=snapshot(workout, SNAPSHOT_FIELDS),
        )
        created.setdefault(plan.item.op_id, []).append(workout.pk)
    if exercise_rows:
        copy_create(WorkoutExercise, exercise_rows)
    if assignment_rows:
        copy_create(Assignment, assignment_rows)
    return created


@register
class DuplicateExecutor(Executor):
    type = OperationType.DUPLICATE

    def estimate_rows(self, data: dict[str, Any]) -> int:
        count = data.get("count")
        return count if isinstance(count, int) else 1

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        workouts = chunk_workouts(items, ctx)
        parts = load_parts(workouts)
        facility_ids = {(i.data.get("modifications") or {}).get("facilityId") for i in items} - {None}
        days = set()
        for item in items:
            workout = workouts.get(item.data["workoutId"])
            shift = item.data.get("dateShiftDays")
            if workout is not None and workout.scheduled_start and shift is not None:
                first = local_day(workout.scheduled_start)
                days.update(first + dt.timedelta(days=shift * n) for n in range(1, item.data["count"] + 1))
        ctx.state = DuplicateState(
            workouts=workouts,
            parts=parts,
            gate=load_gate(player_ids=parts.players, dates=days) if days else None,
            facilities=Facility.objects.in_bulk(facility_ids) if facility_ids else {},
            calendar=Calendar.load(team=ctx.team, days=days, players=parts.players) if days else None,
        )

    def check(self, item: BatchItem, ctx: Context) -> None:
        data = item.data
        state = ctx.state_as(DuplicateState)
        original = workout_of(item, ctx, state.workouts)
        if original is None:
            return
        changes = dict(data.get("modifications") or {})
        facility_id = changes.pop("facilityId", original.facility_id)
        if facility_id not in (None, original.facility_id) and facility_id not in state.facilities:
            raise not_found("Facility", facility_id, field_name="data.modifications.facilityId")
        pattern = changes.pop("name", None) or data.get("namePattern") or "{original} - Copy {n}"
        shift = data.get("dateShiftDays")
        include = bool(data.get("includeAssignments"))
        scheduled = original.scheduled_start is not None and shift is not None
        if shift is not None and original.scheduled_start is None:
            ctx.warn(item, f"workout {original.pk} is not scheduled: the copies are unscheduled drafts")
        if scheduled and shift == 0:
            raise invalid(
                "copies shifted by 0 days would all take the original's slot",
                field_name="data.dateShiftDays",
                suggestion="Shift by at least one day, or leave dateShiftDays out for unscheduled drafts.",
            )
        duration = default_duration(original) if scheduled else None
        plans = []
        loads = (
            {a.player_id: a.load_percent for a in state.parts.assignments.get(original.pk, [])}
            if include
            else {}
        )
        days = []
        if scheduled:
            first = local_day(original.scheduled_start)
            days = [first + dt.timedelta(days=shift * n) for n in range(1, data["count"] + 1)]
        verdicts = (
            gate_days(item, ctx, workout=original, player_ids=list(loads), days=days) if include else {}
        )
        calendar = state.calendar
        ctx.notes.get(item.op_id, {}).pop("parts", None)  # a re-check (one-item fallback) starts afresh
        booked: list[str] = []
        try:
            for n in range(1, data["count"] + 1):
                start = end = None
                where = facility_id
                day_verdicts = None
                if scheduled:
                    day = days[n - 1]
                    start = at(day, timezone_time(original.scheduled_start))
                    slot = Slot(
                        start=start,
                        end=start + duration,
                        facility_id=facility_id,
                        loads={
                            pid: assignment_medical_fields(verdicts.get(day, {}).get(pid), load)[0]
                            for pid, load in loads.items()
                        },
                        key=f"op:{item.op_id}:{n}",
                        name=copy_name(pattern, original, n),
                    )
                    placed = (
                        place_part(item, ctx, calendar, slot, n=n)
                        if data["count"] > 1
                        else resolve(item, ctx, calendar, slot, movable=True)  # one copy: the item itself
                    )
                    if placed is None:
                        continue  # SKIP drops this copy only
                    booked.append(slot.key)
                    start, end, where = placed.start, placed.end, placed.facility_id
                    day_verdicts = verdicts.get(local_day(start)) or verdicts.get(day)
                plans.append(
                    plan_copy(
                        ctx,
                        item,
                        original,
                        name=copy_name(pattern, original, n),
                        start=start,
                        end=end,
                        facility_id=where,
                        verdicts=day_verdicts,
                        include_assignments=include,
                        changes=changes,
                    )
                )
            if not plans:
                raise all_parts_skipped(item, ctx, "copy")
        except ItemError:
            if calendar is not None:
                calendar.unbook_keys(booked)
            raise
        note_skipped_parts(item, ctx, "copy")
        state.plans[item.op_id] = plans

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        apply_overrides(items, ctx)
        plans = ctx.state_as(DuplicateState).plans
        created = write_copies([p for item in items for p in plans[item.op_id]], ctx)
        results = {}
        for item in items:
            ids = created[item.op_id]
            parts = parts_result(item, ctx, ids)
            results[item.op_id] = {
                "id": ids[0],
                "workoutId": ids[0],
                "sourceWorkoutId": item.data["workoutId"],
                "createdIds": ids,
                "skipped": sum(1 for p in parts if p["outcome"] == "skipped"),
                "leftOut": left_out_result(item, ctx),
            }
            if parts:  # scheduled copies: each one, created or skipped
                results[item.op_id]["parts"] = parts
        return results


def timezone_time(value: dt.datetime) -> dt.time:
    return timezone.localtime(value).time()
