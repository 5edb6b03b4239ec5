"""CREATE: new workouts, from scratch or from a template, with exercises, assignments and a schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F as DbF

from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import NEW_WORKOUT_IMAGE, Context, Executor, parse_dt, refused, register
from batch.operations.calendar import apply_overrides, resolve
from batch.operations.loading import load_catalog
from batch.operations.medical import gate_players, left_out, left_out_result, load_gate
from batch.operations.state import WorkoutState
from batch.sql import copy_create, insert_rows
from medical.compliance import ExerciseSpec, PlayerVerdict
from medical.gate import PlannedWorkout
from workouts.calendar import Calendar, Slot, local_day, workout_day
from workouts.models import Assignment, Workout, WorkoutExercise, WorkoutTemplate
from workouts.plans import Catalog, NewWorkout, new_workout
from workouts.rules import Refusal, assignment_medical_fields, capped_load


def item_times(data: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The CREATE's start and end (the schedule's, else the workout's), parsed; None when not given."""
    schedule = data.get("schedule") or {}
    workout = data.get("workout") or {}
    start = schedule.get("start") or workout.get("scheduledStart")
    end = schedule.get("end") or workout.get("scheduledEnd")
    return (parse_dt(start) if start else None, parse_dt(end) if end else None)


@dataclass(slots=True)
class CreateState(WorkoutState):
    # The rows the chunk's items name (facilities, templates, library exercises, players).
    catalog: Catalog = field(default_factory=Catalog)
    calendar: Calendar | None = None
    # Per op id: the plan (after the gate and the calendar) and its players' verdicts (when gated).
    plans: dict[str, NewWorkout] = field(default_factory=dict)
    verdicts: dict[str, dict[int, PlayerVerdict]] = field(default_factory=dict)
    # Per op id: its start and end, parsed once.
    times: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = field(default_factory=dict)


@register
class CreateExecutor(Executor):
    type = OperationType.CREATE

    def estimate_rows(self, data: dict[str, Any]) -> int:
        return 1 + len(data.get("exercises") or []) + len(data.get("assignments") or [])

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        facility_ids, exercise_ids, template_ids, player_ids, dates = set(), set(), set(), set(), set()
        times = {}
        scheduled: list[dt.date] = []
        today = workout_day(None, now=ctx.now)  # the day of those without a start
        for item in items:
            data = item.data
            workout = data.get("workout") or {}
            schedule = data.get("schedule") or {}
            for value in (workout.get("facilityId"), schedule.get("facilityId")):
                if isinstance(value, int):
                    facility_ids.add(value)
            exercise_ids.update(e["exerciseId"] for e in data.get("exercises") or [])
            if isinstance(data.get("templateId"), int):
                template_ids.add(data["templateId"])
            player_ids.update(a["playerId"] for a in data.get("assignments") or [])
            start, end = times[item.op_id] = item_times(data)
            day = local_day(start) if start is not None else today
            dates.add(day)
            if start is not None:
                scheduled.append(day)
        catalog = load_catalog(
            ctx,
            facility_ids=facility_ids,
            template_ids=template_ids,
            exercise_ids=exercise_ids,
            player_ids=player_ids,
        )
        ctx.state = CreateState(
            catalog=catalog,
            gate=load_gate(player_ids=player_ids, dates=dates),
            calendar=(
                Calendar.load(team=ctx.team, days=scheduled, players=catalog.players) if scheduled else None
            ),
            times=times,
        )

    def check(self, item: BatchItem, ctx: Context) -> None:
        """Ask the plan (`workouts.plans.new_workout`), then the medical gate (which may leave players
        out), then the calendar (which may move the slot); keep the plan for `apply`."""
        state = ctx.state_as(CreateState)
        start, end = state.times[item.op_id]
        plan = new_workout(
            item.data,
            state.catalog,
            start=start,
            end=end,
            team_id=ctx.team.pk,
            created_by_id=getattr(ctx.user, "pk", None),
        )
        if isinstance(plan, Refusal):
            raise refused(plan, field_name=plan.field)
        workout, assignments = plan.workout, plan.assignments
        specs = None
        verdicts: dict[int, PlayerVerdict] = {}
        if assignments:
            specs = [
                ExerciseSpec.from_exercise(e["exercise"], load_percent=e["load_percent"])
                for e in plan.exercises
            ]
            verdicts = state.verdicts[item.op_id] = gate_players(
                item,
                ctx,
                player_ids=[a["player"].pk for a in assignments],
                exercises=specs,
                on_date=workout_day(start, now=ctx.now),
                intensity=workout["intensity"],
                name=workout["name"],
            )
            out = left_out(item, ctx, verdicts)
            if out:
                plan.assignments = assignments = [a for a in assignments if a["player"].pk not in out]
        if start is not None and state.calendar is not None:
            loads = {}
            for a in assignments:
                verdict = verdicts.get(a["player"].pk)
                loads[a["player"].pk] = capped_load(a["load_percent"], verdict and verdict.load_cap)
            slot = Slot(
                start=start,
                end=workout["scheduled_end"],
                facility_id=workout["facility_id"],
                loads=loads,
                key=f"op:{item.op_id}",
                name=workout["name"],
            )
            placed = resolve(item, ctx, state.calendar, slot, movable=True)
            workout["scheduled_start"] = placed.start
            workout["scheduled_end"] = placed.end
            workout["facility_id"] = placed.facility_id
        state.plans[item.op_id] = plan
        if ctx.keeps_plan(item.op_id):  # what a later `$ref` to this workout is judged on by the medical gate
            ctx.planned[item.op_id] = PlannedWorkout(
                exercises=tuple(
                    specs
                    if specs is not None
                    else (
                        ExerciseSpec.from_exercise(e["exercise"], load_percent=e["load_percent"])
                        for e in plan.exercises
                    )
                ),
                on_date=workout_day(workout["scheduled_start"], now=ctx.now),
                intensity=workout["intensity"],
                name=workout["name"],
            )

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        apply_overrides(items, ctx)
        state = ctx.state_as(CreateState)
        plans = [state.plans[item.op_id] for item in items]
        workouts = [p.workout for p in plans]
        insert_rows(Workout, workouts)
        exercise_rows, assignment_rows = [], []
        template_uses: dict[int, int] = {}
        for item, plan, workout in zip(items, plans, workouts, strict=True):
            for e in plan.exercises:
                exercise_rows.append(WorkoutExercise(workout_id=workout["id"], **e))
            if plan.assignments:
                verdicts = state.verdicts.get(item.op_id, {})
                for a in plan.assignments:
                    load, fields = assignment_medical_fields(verdicts.get(a["player"].pk), a["load_percent"])
                    assignment_rows.append(
                        Assignment(
                            workout_id=workout["id"],
                            player=a["player"],
                            role=a["role"],
                            load_percent=load,
                            **fields,
                        )
                    )
            if workout["template_id"]:
                template_uses[workout["template_id"]] = template_uses.get(workout["template_id"], 0) + 1
        if exercise_rows:
            copy_create(WorkoutExercise, exercise_rows)
        if assignment_rows:
            copy_create(Assignment, assignment_rows)
        for template_id, uses in template_uses.items():
            WorkoutTemplate.objects.filter(pk=template_id).update(usage_count=DbF("usage_count") + uses)
        results = {}
        for item, plan, workout in zip(items, plans, workouts, strict=True):
            ctx.log_inserted(
                item, model=Workout, row=workout, image=NEW_WORKOUT_IMAGE, action=BatchChange.Action.CREATED
            )
            results[item.op_id] = {
                "id": workout["id"],
                "workoutId": workout["id"],
                "name": workout["name"],
                "assigned": len(plan.assignments),
                "leftOut": left_out_result(item, ctx),
            }
        return results
