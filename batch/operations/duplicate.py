"""DUPLICATE: copies of a workout (exercises, optionally assignments), named by a pattern, optionally
shifted by whole days. The copy rules (days, names, what a copy carries) are `workouts.plans`'; the
copy helpers SCHEDULE's series shares are `batch.operations.copies`.

Copies of a scheduled workout with `dateShiftDays` land on the calendar (copy n at n × shift days) and
go through the conflict strategy; without it they are unscheduled drafts. `modifications` apply to
every copy (`name` there is a pattern like `namePattern`). With `includeAssignments`, each player is
gated medically on the copy's date. Every copy is logged CREATED.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.errors import ItemError
from batch.models import BatchItem, OperationType
from batch.operations.base import Context, Executor, not_found, refused, register
from batch.operations.calendar import (
    all_parts_skipped,
    apply_overrides,
    note_skipped_parts,
    parts_result,
    place_part,
)
from batch.operations.copies import gate_days, plan_copy, write_copies
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import left_out_result, load_gate
from batch.operations.state import WorkoutState
from workouts.calendar import Calendar, Slot, local_day
from workouts.models import Facility
from workouts.plans import WorkoutCopy, copies, copy_days, copy_pattern, day_loads
from workouts.rules import Refusal


@dataclass(slots=True)
class DuplicateState(WorkoutState):
    facilities: dict[int, Facility] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, list[WorkoutCopy]] = field(default_factory=dict)


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
                days.update(
                    copy_days(local_day(workout.scheduled_start), shift=shift, count=item.data["count"])
                )
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
        shift = data.get("dateShiftDays")
        if shift is not None and original.scheduled_start is None:
            ctx.warn(item, f"workout {original.pk} is not scheduled: the copies are unscheduled drafts")
        planned = copies(
            original,
            count=data["count"],
            shift=shift,
            pattern=copy_pattern(changes.pop("name", None), data.get("namePattern")),
        )
        if isinstance(planned, Refusal):
            raise refused(planned, field_name=planned.field)
        include = bool(data.get("includeAssignments"))
        loads = (
            {a.player_id: a.load_percent for a in state.parts.assignments.get(original.pk, [])}
            if include
            else {}
        )
        days = [copy.day for copy in planned if copy.day is not None]
        verdicts = (
            gate_days(item, ctx, workout=original, player_ids=list(loads), days=days) if include else {}
        )
        calendar = state.calendar
        ctx.notes.get(item.op_id, {}).pop("parts", None)  # a re-check (one-item fallback) starts afresh
        booked: list[str] = []
        plans = []
        try:
            for copy in planned:
                start, end, where, day = copy.start, copy.end, facility_id, copy.day
                day_verdicts = None
                if start is not None and end is not None and day is not None:
                    slot = Slot(
                        start=start,
                        end=end,
                        facility_id=facility_id,
                        loads=day_loads(loads, verdicts.get(day, {})),
                        key=f"op:{item.op_id}:{copy.n}",
                        name=copy.name,
                    )
                    placed = place_part(item, ctx, calendar, slot, n=copy.n, parts=len(planned))
                    if placed is None:
                        continue  # SKIP drops this copy only
                    booked.append(slot.key)
                    start, end, where = placed.start, placed.end, placed.facility_id
                    day_verdicts = verdicts.get(local_day(start)) or verdicts.get(day)
                plans.append(
                    plan_copy(
                        item,
                        ctx,
                        original,
                        name=copy.name,
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
        created = write_copies([(item, copy) for item in items for copy in plans[item.op_id]], ctx)
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
