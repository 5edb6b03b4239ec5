"""UPDATE: a partial change of a workout's allowed fields, with optimistic version checks.

A change of `scheduledStart`, `scheduledEnd` or `facilityId` goes through the chunk's calendar like
SCHEDULE (facility double booking and hours; the assigned players' double bookings and daily load)
and the item's conflict strategy, so ADJUST_TIME / FIND_ALTERNATIVE may move it.

`check` applies each passing item to the chunk's in-memory workouts, so a later item on the same
workout is checked (state, `expectedVersion`, start/end, calendar) against what the earlier one left;
`apply` only logs and writes. Queries per chunk: the workouts (locked) and facilities; with time or
facility changes also their assignments and the calendar's three; one UPDATE for all rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.exchange.data import UPDATABLE
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    not_found,
    parse_dt,
    refused,
    register,
    snapshot,
    write_rows,
)
from batch.operations.calendar import apply_overrides, resolve
from batch.operations.loading import load_parts, lock_workouts
from batch.operations.medical import left_out_result, load_gate, regate, write_take_offs
from batch.operations.state import WorkoutChange, WorkoutState
from workouts.calendar import Calendar, Slot, local_day
from workouts.limits import DEFAULT_DURATION, MOVE_FIELDS
from workouts.models import Facility, Workout
from workouts.rules import edit_refusal, move_refusal, timing_refusal

MOVE_KEYS = frozenset(key for key, name in UPDATABLE.items() if name in MOVE_FIELDS)
GATE_KEYS = MOVE_KEYS | {"intensity"}
MOVED_FIELDS = MOVE_FIELDS
# A refusal's model field -> where it lies in an UPDATE's data.
FIELD_PATHS = {name: f"data.updates.{key}" for key, name in UPDATABLE.items()}
UNBOOKED = (Workout.Status.CANCELLED, Workout.Status.ARCHIVED)


@dataclass(slots=True)
class UpdateState(WorkoutState):
    facilities: dict[int, Facility] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, WorkoutChange] = field(default_factory=dict)


def version_conflict(item: BatchItem, ctx: Context, workout: Workout, expected: int) -> ItemError | None:
    """Apply the conflict strategy to a version mismatch: an error to raise, or None to go ahead."""
    strategy = ctx.strategy_for(item)
    if strategy == "OVERRIDE":
        ctx.warn(
            item,
            f"workout {workout.pk} changed since version {expected}; OVERRIDE applies the update",
            code=ErrorCode.VERSION_CONFLICT,
        )
        return None
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=f"workout {workout.pk} is at version {workout.version}, the update expected {expected}",
        details={
            "workoutId": workout.pk,
            "expectedVersion": expected,
            "currentVersion": workout.version,
            "conflict": "VERSION",
        },
        recoverable=True,
        suggested_action="Reload the workout and apply your change to its current version, "
        "or run with conflictResolution OVERRIDE.",
        status="SKIPPED" if strategy == "SKIP" else "FAILED",
    )


@register
class UpdateExecutor(Executor):
    type = OperationType.UPDATE

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        ids = {i.data["workoutId"] for i in items if isinstance(i.data.get("workoutId"), int)}
        workouts = lock_workouts(ctx, ids)
        # Items that move a workout or raise its intensity re-check its players medically.
        gating = [
            i for i in items if GATE_KEYS & set(i.data["updates"]) and i.data.get("workoutId") in workouts
        ]
        moving = [i for i in gating if MOVE_KEYS & set(i.data["updates"])]
        # Days an item may land on: its new start's, and its workout's current one (for a change of
        # facility, end or intensity only; an earlier item's new start is already among the former).
        days = set()
        for item in gating:
            value = item.data["updates"].get("scheduledStart")
            start = parse_dt(value) if isinstance(value, str) else None
            if start is not None:
                days.add(local_day(start))
            current = workouts[item.data["workoutId"]].scheduled_start
            if current is not None:
                days.add(local_day(current))
        parts = load_parts({i.data["workoutId"] for i in gating})
        state = ctx.state = UpdateState(
            workouts=workouts, parts=parts, gate=load_gate(player_ids=parts.players, dates=days)
        )
        if not moving:
            facility_ids = {i.data["updates"].get("facilityId") for i in items} - {None}
            state.facilities = Facility.objects.in_bulk(facility_ids) if facility_ids else {}
            return
        state.loads = {
            workout_id: {a.player_id: a.load_percent for a in rows}
            for workout_id, rows in parts.assignments.items()
        }
        state.calendar = Calendar.load(team=ctx.team, days=days, players=parts.players)
        state.facilities = state.calendar.facilities

    def check(self, item: BatchItem, ctx: Context) -> None:
        state = ctx.state_as(UpdateState)
        workout_id = item.data["workoutId"]
        workout = state.workouts.get(workout_id)
        if workout is None:
            if ctx.dry_run and not isinstance(workout_id, int):
                return  # produced by a dependency; checked when it runs
            raise not_found("Workout", workout_id, field_name="data.workoutId")
        updates = item.data["updates"]
        moves = bool(MOVE_KEYS & set(updates))
        refusal = edit_refusal(workout) or (move_refusal(workout) if moves else None)
        if refusal is not None:
            raise refused(refusal, field_name="data.workoutId", workoutId=workout.pk, status=workout.status)
        expected = item.data.get("expectedVersion")
        if expected is not None and expected != workout.version:
            error = version_conflict(item, ctx, workout, expected)
            if error is not None:
                raise error
        facility_id = updates.get("facilityId", workout.facility_id)
        if "facilityId" in updates and facility_id is not None and facility_id not in state.facilities:
            raise not_found("Facility", facility_id, field_name="data.updates.facilityId")
        start = (
            parse_dt(updates["scheduledStart"])
            if "scheduledStart" in updates and updates["scheduledStart"]
            else (None if "scheduledStart" in updates else workout.scheduled_start)
        )
        end = (
            parse_dt(updates["scheduledEnd"])
            if "scheduledEnd" in updates and updates["scheduledEnd"]
            else (None if "scheduledEnd" in updates else workout.scheduled_end)
        )
        status = updates.get("status", workout.status)
        refusal = timing_refusal(status=status, start=start, end=end)
        if refusal is not None:
            raise refused(refusal, field_name=FIELD_PATHS[refusal.field])
        if GATE_KEYS & set(updates) and start is not None and status not in UNBOOKED:
            self.gate(item, ctx, workout, on_date=local_day(start), intensity=updates.get("intensity"))
        calendar = state.calendar
        if moves and calendar is not None:
            if start is None or status in UNBOOKED:
                calendar.unbook(workout.pk)
            else:
                slot = Slot(
                    start=start,
                    end=end or start + DEFAULT_DURATION,
                    facility_id=facility_id,
                    loads=dict(state.loads.get(workout.pk, {})),
                    key=f"w:{workout.pk}",
                    workout_id=workout.pk,
                    name=updates.get("name", workout.name),
                )
                placed = resolve(item, ctx, calendar, slot, movable=True)
                if placed.start != start:
                    end = end and placed.start + (end - start)
                start, facility_id = placed.start, placed.facility_id
        elif status in UNBOOKED and calendar is not None:
            calendar.unbook(workout.pk)
        # Passed: change the chunk's copy now, so a later item on this workout sees this state.
        changed = [UPDATABLE[key] for key in updates if UPDATABLE[key] not in MOVED_FIELDS]
        if moves:
            changed += MOVED_FIELDS
        before = snapshot(workout, changed)
        for key, value in updates.items():
            if key not in MOVE_KEYS:
                setattr(workout, UPDATABLE[key], value)
        if moves:
            workout.scheduled_start, workout.scheduled_end, workout.facility_id = start, end, facility_id
        workout.version += 1
        state.plans[item.op_id] = WorkoutChange(workout, before, snapshot(workout, changed), workout.version)

    def gate(
        self, item: BatchItem, ctx: Context, workout: Workout, *, on_date: Any, intensity: int | None
    ) -> None:
        """Re-check the workout's players on its (new) day: blocked players are taken off (or fail the
        item with blockedPlayers "fail"), modified ones are warned about."""
        verdicts = regate(
            item,
            ctx,
            workout,
            on_date=on_date,
            intensity=workout.intensity if intensity is None else intensity,
        )
        for verdict in verdicts.values():
            if verdict.verdict == "modified":
                ctx.warn(
                    item,
                    f"{verdict.summary()} The assignment's load and substitutions follow the new date.",
                    code="MEDICAL_MODIFIED",
                )

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        apply_overrides(items, ctx)
        write_take_offs(items, ctx)
        state = ctx.state_as(UpdateState)
        touched_fields: set[str] = set()
        results = {}
        final: dict[int, Workout] = {}
        for item in items:
            plan = state.plans[item.op_id]
            workout, after, version = plan.workout, plan.after, plan.version
            touched_fields.update(after)
            ctx.log_change(
                item,
                obj=Workout(pk=workout.pk, version=version),
                action=BatchChange.Action.UPDATED,
                before=plan.before,
                after=after,
            )
            result = {
                "id": workout.pk,
                "workoutId": workout.pk,
                "version": version,
                "changed": sorted(item.data["updates"]),
                "leftOut": left_out_result(item, ctx),
            }
            if "scheduled_start" in after:
                result["start"] = after["scheduled_start"]
                result["end"] = after["scheduled_end"]
                result["facilityId"] = after["facility_id"]
            results[item.op_id] = result
            final[workout.pk] = workout  # written once, in its final state
        # One statement for the chunk: every touched column, unchanged ones rewritten with their value.
        columns = sorted("facility" if c == "facility_id" else c for c in touched_fields)
        write_rows(ctx, Workout, final.values(), columns)
        return results
