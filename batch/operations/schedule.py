"""SCHEDULE: move a workout to a time (and facility), or lay out a recurring series.

Without `recurrence` the workout moves. With it, the first occurrence moves the workout and each
further one creates a copy (exercises and assignments, logged CREATED). The series' days come from
workouts.recurrence (dateutil.rrule, bounded). Local wall-clock time is kept across DST changes.

Every occurrence goes through the calendar (facility double booking and hours; the assigned players'
double bookings and daily load) and the conflict strategy, and through the medical check on its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.errors import ItemError
from batch.models import BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    change_fields,
    not_found,
    parse_dt,
    refused,
    register,
    write_rows,
)
from batch.operations.calendar import (
    all_parts_skipped,
    apply_overrides,
    note_skipped_parts,
    parts_result,
    place_part,
)
from batch.operations.copies import gate_days, plan_copy, write_copies
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import left_out, left_out_result, load_gate, settle, write_take_offs
from batch.operations.state import WorkoutState
from workouts.calendar import Calendar, Slot, local_day
from workouts.models import Workout
from workouts.plans import WorkoutCopy, day_loads, series
from workouts.recurrence import RecurrenceError, occurrence_days
from workouts.rules import default_duration, move_refusal, timing_refusal

MOVED_FIELDS = ("scheduled_start", "scheduled_end", "facility", "status")


@dataclass(slots=True)
class SchedulePlan:
    """Where a SCHEDULE moves its workout, and the copies its further occurrences create."""

    workout: Workout
    slot: Slot
    copies: list[WorkoutCopy]


@dataclass(slots=True)
class ScheduleState(WorkoutState):
    # Each item's occurrence days, by op id.
    days: dict[str, list[dt.date]] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, SchedulePlan] = field(default_factory=dict)


@register
class ScheduleExecutor(Executor):
    type = OperationType.SCHEDULE

    def estimate_rows(self, data: dict[str, Any]) -> int:
        try:
            start = parse_dt(data["start"])
            return len(occurrence_days(local_day(start), data.get("recurrence")))
        except (RecurrenceError, KeyError, TypeError):
            return 1

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        workouts = chunk_workouts(items, ctx)
        parts = load_parts(workouts)
        days = {
            item.op_id: occurrence_days(local_day(parse_dt(item.data["start"])), item.data.get("recurrence"))
            for item in items
        }
        all_days = {d for ds in days.values() for d in ds}
        ctx.state = ScheduleState(
            workouts=workouts,
            parts=parts,
            gate=load_gate(player_ids=parts.players, dates=all_days),
            days=days,
            calendar=Calendar.load(team=ctx.team, days=all_days, players=parts.players),
        )

    def check(self, item: BatchItem, ctx: Context) -> None:
        data = item.data
        state = ctx.state_as(ScheduleState)
        calendar = state.calendar
        assert calendar is not None  # prepare always loads it
        facility_id = data.get("facilityId")
        if facility_id is not None and facility_id not in calendar.facilities:
            raise not_found("Facility", facility_id, field_name="data.facilityId")
        workout = workout_of(item, ctx, state.workouts)
        if workout is None:
            return
        refusal = move_refusal(workout)
        if refusal is not None:
            raise refused(refusal, field_name="data.workoutId", workoutId=workout.pk, status=workout.status)
        start = parse_dt(data["start"])
        if data.get("end"):
            end = parse_dt(data["end"])
            refusal = timing_refusal(status=Workout.Status.SCHEDULED, start=start, end=end)
            if refusal is not None:
                raise refused(refusal, field_name="data.end")
            duration = end - start
        else:
            duration = default_duration(workout)
        facility_id = facility_id if facility_id is not None else workout.facility_id
        assignments = state.parts.assignments.get(workout.pk, [])
        loads = {a.player_id: a.load_percent for a in assignments}
        days = state.days[item.op_id]
        verdicts = gate_days(item, ctx, workout=workout, player_ids=list(loads), days=days)
        own = calendar.unbook(workout.pk)
        ctx.notes.get(item.op_id, {}).pop("parts", None)  # a re-check (one-item fallback) starts afresh
        booked: list[str] = []
        placed: list[tuple[Slot, dt.date]] = []
        occurrences = series(workout, start=start, days=days, duration=duration)
        try:
            for occurrence in occurrences:
                n, day = occurrence.n, occurrence.day
                moves = not placed  # the first occurrence that can be placed moves the workout itself
                day_verdicts = verdicts.get(day, {})
                slot = Slot(
                    start=occurrence.start,
                    end=occurrence.end,
                    facility_id=facility_id,
                    loads=day_loads(loads, day_verdicts, out=left_out(item, ctx, day_verdicts)),
                    key=f"w:{workout.pk}" if moves else f"op:{item.op_id}:{n}",
                    workout_id=workout.pk if moves else None,
                    name=occurrence.name,
                )
                created = "moved" if moves else "created"
                where = place_part(item, ctx, calendar, slot, n=n, parts=len(occurrences), created=created)
                if where is not None:
                    booked.append(slot.key)
                    placed.append((where, day))
            if not placed:
                raise all_parts_skipped(item, ctx, "occurrence")
        except ItemError:
            calendar.unbook_keys(booked)
            if own is not None:
                calendar.book(own)
            raise
        note_skipped_parts(item, ctx, "occurrence")
        copies = [
            plan_copy(
                item,
                ctx,
                workout,
                name=workout.name,
                start=slot.start,
                end=slot.end,
                facility_id=slot.facility_id,
                verdicts=verdicts.get(local_day(slot.start)) or verdicts.get(day),
                include_assignments=True,
            )
            for slot, day in placed[1:]
        ]
        # The workout itself moves to the first placed day: players blocked then come off it (undoably).
        settle(item, ctx, workout, verdicts.get(placed[0][1], {}))
        state.plans[item.op_id] = SchedulePlan(workout, placed[0][0], copies)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        apply_overrides(items, ctx)
        write_take_offs(items, ctx)
        state = ctx.state_as(ScheduleState)
        moved: dict[int, Workout] = {}
        results: dict[str, dict[str, Any]] = {}
        copies: list[tuple[BatchItem, WorkoutCopy]] = []
        for item in items:
            plan = state.plans[item.op_id]
            workout, slot, item_copies = plan.workout, plan.slot, plan.copies
            values = {
                "scheduled_start": slot.start,
                "scheduled_end": slot.end,
                "facility_id": slot.facility_id,
                "status": Workout.Status.SCHEDULED
                if workout.status == Workout.Status.DRAFT
                else workout.status,
            }
            change_fields(ctx, item, workout, values, MOVED_FIELDS)
            moved[workout.pk] = workout
            copies.extend((item, copy) for copy in item_copies)
            results[item.op_id] = {
                "id": workout.pk,
                "workoutId": workout.pk,
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "facilityId": slot.facility_id,
                "version": workout.version,
                "occurrences": 1 + len(item_copies),
                "skipped": sum(
                    1 for p in ctx.notes.get(item.op_id, {}).get("parts", []) if p["outcome"] == "skipped"
                ),
                "leftOut": left_out_result(item, ctx),
            }
        write_rows(ctx, Workout, moved.values(), MOVED_FIELDS)
        created = write_copies(copies, ctx)
        for item in items:
            result = results[item.op_id]
            result["createdIds"] = created.get(item.op_id, [])
            result["parts"] = parts_result(item, ctx, [result["workoutId"], *result["createdIds"]])
        return results
