"""CREATE: new workouts, from scratch or from a template, with exercises, assignments and a schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F as DbF

from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    not_found,
    parse_dt,
    refused,
    register,
)
from batch.operations.calendar import apply_overrides, resolve
from batch.operations.medical import gate_players, left_out, left_out_result, load_gate
from batch.operations.state import WorkoutState
from batch.sql import copy_create, insert_rows
from medical.compliance import ExerciseSpec, PlayerVerdict
from medical.gate import PlannedWorkout
from workouts.calendar import Calendar, Slot, local_day, workout_day
from workouts.limits import (
    DEFAULT_DURATION_MINUTES,
    DEFAULT_INTENSITY,
    DEFAULT_LOAD_PERCENT,
    DEFAULT_REST_SECONDS,
    DEFAULT_SETS,
    UPDATABLE_FIELDS,
)
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Player,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)
from workouts.rules import (
    assignment_medical_fields,
    capped_load,
    default_status,
    listed_twice,
    timing_refusal,
)
from workouts.selectors import templates_for_team

# A refusal's model field -> where it lies in a CREATE's data.
FIELD_PATHS = {"scheduled_end": "data.workout.scheduledEnd", "status": "data.workout.status"}
# The change log's image of a new workout (CREATE, DUPLICATE, a series' copies): what UPDATE may change.
SNAPSHOT_FIELDS = UPDATABLE_FIELDS


def item_has_start(item: BatchItem) -> bool:
    data = item.data
    return bool(
        (data.get("schedule") or {}).get("start") or (data.get("workout") or {}).get("scheduledStart")
    )


@dataclass(slots=True)
class CreatePlan:
    """The rows a CREATE writes: the workout (a plain row for batch.sql.insert_rows), its exercises
    and assignments (WorkoutExercise / Assignment keyword arguments), and the players' verdicts."""

    workout: dict[str, Any]
    exercises: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    verdicts: dict[int, PlayerVerdict]


@dataclass(slots=True)
class CreateState(WorkoutState):
    facilities: dict[int, Facility] = field(default_factory=dict)
    templates: dict[int, WorkoutTemplate] = field(default_factory=dict)
    template_exercises: dict[int, list[TemplateExercise]] = field(default_factory=dict)
    # The exercises the items and their templates name (the library's rows, not a workout's).
    library: dict[int, Exercise] = field(default_factory=dict)
    players: dict[int, Player] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, CreatePlan] = field(default_factory=dict)


@register
class CreateExecutor(Executor):
    type = OperationType.CREATE

    def estimate_rows(self, data: dict[str, Any]) -> int:
        return 1 + len(data.get("exercises") or []) + len(data.get("assignments") or [])

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        facility_ids, exercise_ids, template_ids, player_ids, dates = set(), set(), set(), set(), set()
        dates_in_order: list[dt.date | None] = []
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
            start = (
                parse_dt(schedule.get("start") or workout.get("scheduledStart") or "")
                if (schedule.get("start") or workout.get("scheduledStart"))
                else None
            )
            dates.add(workout_day(start, now=ctx.now))
            dates_in_order.append(local_day(start) if start else None)
        facilities = Facility.objects.in_bulk(facility_ids) if facility_ids else {}
        # Another trainer's "Only me" template is as unknown here as another team's.
        templates = (
            templates_for_team(team=ctx.team, user=ctx.user).filter(pk__in=template_ids).in_bulk()
            if template_ids
            else {}
        )
        template_exercises: dict[int, list[TemplateExercise]] = {}
        if templates:
            for te in TemplateExercise.objects.filter(template__in=templates.keys()).order_by(
                "template", "order"
            ):
                template_exercises.setdefault(te.template_id, []).append(te)
                exercise_ids.add(te.exercise_id)
        players = Player.objects.filter(team=ctx.team, pk__in=player_ids).in_bulk() if player_ids else {}
        gate = load_gate(player_ids=player_ids, dates=dates)
        scheduled = [d for item, d in zip(items, dates_in_order, strict=True) if item_has_start(item)]
        ctx.state = CreateState(
            facilities=facilities,
            templates=templates,
            template_exercises=template_exercises,
            library=Exercise.objects.in_bulk(exercise_ids) if exercise_ids else {},
            players=players,
            gate=gate,
            calendar=Calendar.load(team=ctx.team, days=scheduled, players=players) if scheduled else None,
        )

    def plan(self, item: BatchItem, ctx: Context) -> CreatePlan:
        """Turn the item's data into the rows to write; raise ItemError on any problem."""
        state = ctx.state_as(CreateState)
        data = item.data
        wdata = data.get("workout") or {}
        schedule = data.get("schedule") or {}
        template = None
        if data.get("templateId") is not None:
            template = state.templates.get(data["templateId"])
            if template is None:
                raise not_found("Template", data["templateId"], field_name="data.templateId")
        facility_id = schedule.get("facilityId", wdata.get("facilityId"))
        if facility_id is not None and facility_id not in state.facilities:
            raise not_found("Facility", facility_id, field_name="data.workout.facilityId")
        start_raw = schedule.get("start") or wdata.get("scheduledStart")
        end_raw = schedule.get("end") or wdata.get("scheduledEnd")
        start = parse_dt(start_raw) if start_raw else None
        end = parse_dt(end_raw) if end_raw else None
        status = wdata.get("status") or default_status(start)
        refusal = timing_refusal(status=status, start=start, end=end)
        if refusal is not None:
            raise refused(refusal, field_name=FIELD_PATHS[refusal.field])
        if start and not end:
            end = start + dt.timedelta(
                minutes=template.duration_minutes if template else DEFAULT_DURATION_MINUTES
            )
        exercises: list[dict[str, Any]] = []
        if data.get("exercises"):
            for index, entry in enumerate(data["exercises"]):
                exercise = state.library.get(entry["exerciseId"])
                if exercise is None:
                    raise not_found("Exercise", entry["exerciseId"], field_name=f"data.exercises[{index}]")
                exercises.append(
                    {
                        "exercise": exercise,
                        "order": index,
                        "sets": entry.get("sets", DEFAULT_SETS),
                        "reps": entry.get("reps"),
                        "duration_seconds": entry.get("durationSeconds"),
                        "load_percent": entry.get("loadPercent"),
                        "rest_seconds": entry.get("restSeconds", DEFAULT_REST_SECONDS),
                    }
                )
        elif template is not None:
            for te in state.template_exercises.get(template.pk, []):
                exercises.append(
                    {
                        "exercise": state.library[te.exercise_id],
                        "order": te.order,
                        "sets": te.sets,
                        "reps": te.reps,
                        "duration_seconds": te.duration_seconds,
                        "load_percent": te.load_percent,
                        "rest_seconds": te.rest_seconds,
                    }
                )
        intensity = wdata.get("intensity", template.intensity if template else DEFAULT_INTENSITY)
        assignments = []
        seen: set[int] = set()
        for index, entry in enumerate(data.get("assignments") or []):
            player = state.players.get(entry["playerId"])
            if player is None:
                raise not_found("Player", entry["playerId"], field_name=f"data.assignments[{index}].playerId")
            if (refusal := listed_twice(player, seen)) is not None:
                raise refused(refusal, field_name=f"data.assignments[{index}]")
            seen.add(player.pk)
            assignments.append(
                {
                    "player": player,
                    "role": entry.get("role", Assignment.Role.PARTICIPANT),
                    "load_percent": entry.get("loadPercent", DEFAULT_LOAD_PERCENT),
                }
            )
        verdicts = {}
        if assignments:
            specs = [
                ExerciseSpec.from_exercise(e["exercise"], load_percent=e["load_percent"]) for e in exercises
            ]
            verdicts = gate_players(
                item,
                ctx,
                player_ids=[a["player"].pk for a in assignments],
                exercises=specs,
                on_date=workout_day(start, now=ctx.now),
                intensity=intensity,
                name=wdata.get("name") or (template.name if template else ""),
            )
            out = left_out(item, ctx, verdicts)
            assignments = [a for a in assignments if a["player"].pk not in out]
        if start is not None and state.calendar is not None:
            loads = {}
            for a in assignments:
                verdict = verdicts.get(a["player"].pk)
                loads[a["player"].pk] = capped_load(a["load_percent"], verdict and verdict.load_cap)
            slot = Slot(
                start=start,
                end=end,
                facility_id=facility_id,
                loads=loads,
                key=f"op:{item.op_id}",
                name=wdata.get("name") or (template.name if template else ""),
            )
            placed = resolve(item, ctx, state.calendar, slot, movable=True)
            start, end, facility_id = placed.start, placed.end, placed.facility_id
        # A plain row (batch.sql.insert_rows fills the rest): a model instance per operation was a
        # quarter of a large dry run.
        workout = {
            "team_id": ctx.team.pk,
            "name": wdata.get("name") or (template.name if template else ""),
            "type": wdata.get("type") or (template.category if template else ""),
            "status": status,
            "scheduled_start": start,
            "scheduled_end": end,
            "facility_id": facility_id,
            "notes": wdata.get("notes", ""),
            "intensity": intensity,
            "created_by_id": getattr(ctx.user, "pk", None),
            "template_id": template.pk if template else None,
        }
        return CreatePlan(workout=workout, exercises=exercises, assignments=assignments, verdicts=verdicts)

    def check(self, item: BatchItem, ctx: Context) -> None:
        plan = ctx.state_as(CreateState).plans[item.op_id] = self.plan(item, ctx)
        if ctx.dry_run:  # what a later `$ref` to this workout is judged on by the medical gate
            workout = plan.workout
            ctx.planned[item.op_id] = PlannedWorkout(
                exercises=tuple(
                    ExerciseSpec.from_exercise(e["exercise"], load_percent=e["load_percent"])
                    for e in plan.exercises
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
        for plan, workout in zip(plans, workouts, strict=True):
            for e in plan.exercises:
                exercise_rows.append(WorkoutExercise(workout_id=workout["id"], **e))
            for a in plan.assignments:
                verdict = plan.verdicts.get(a["player"].pk)
                load, fields = assignment_medical_fields(verdict, a["load_percent"])
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
                item, model=Workout, row=workout, image=SNAPSHOT_FIELDS, action=BatchChange.Action.CREATED
            )
            results[item.op_id] = {
                "id": workout["id"],
                "workoutId": workout["id"],
                "name": workout["name"],
                "assigned": len(plan.assignments),
                "leftOut": left_out_result(item, ctx),
            }
        return results
