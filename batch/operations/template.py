"""TEMPLATE: a workout template from successful workouts of the team.

"Successful" means completed or scheduled, and not archived. The template takes the union of the
workouts' exercises in order of first appearance (the first workout's prescription wins for an
exercise several of them share), their mean intensity and mean scheduled duration (`workouts.rules`).
Logged CREATED (model workouts.workouttemplate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    ExecutorState,
    PendingRef,
    not_found,
    refused,
    register,
    snapshot,
)
from batch.sql import copy_create
from workouts.models import TemplateExercise, Workout, WorkoutExercise, WorkoutTemplate
from workouts.plans import copy_exercise
from workouts.rules import template_exercises, template_from, template_source_refusal

TEMPLATE_IMAGE = (
    "name",
    "category",
    "description",
    "tags",
    "visibility",
    "intensity",
    "duration_minutes",
    "source_workout",
    "source_workout_ids",
)


@dataclass(slots=True)
class TemplatePlan:
    """A new template (unsaved) and the workout exercises it takes, in order."""

    template: WorkoutTemplate
    exercises: list[WorkoutExercise]


@dataclass(slots=True)
class TemplateState(ExecutorState):
    # The team's workouts the items name, and their exercises.
    workouts: dict[int, Workout] = field(default_factory=dict)
    exercises: dict[int, list[WorkoutExercise]] = field(default_factory=dict)
    plans: dict[str, TemplatePlan] = field(default_factory=dict)


@register
class TemplateExecutor(Executor):
    type = OperationType.TEMPLATE

    def estimate_rows(self, data: dict[str, Any]) -> int:
        return 1 + 8 * len(data.get("workoutIds") or [])

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        ids = {w for i in items for w in i.data["workoutIds"] if isinstance(w, int)}
        workouts = Workout.objects.filter(team=ctx.team, pk__in=ids).in_bulk() if ids else {}
        exercises: dict[int, list[WorkoutExercise]] = {}
        if workouts:
            for row in WorkoutExercise.objects.filter(workout_id__in=workouts).order_by(
                "workout_id", "order", "id"
            ):
                exercises.setdefault(row.workout_id, []).append(row)
        ctx.state = TemplateState(workouts=workouts, exercises=exercises)

    def check(self, item: BatchItem, ctx: Context) -> None:
        data = item.data
        state = ctx.state_as(TemplateState)
        workouts: list[Workout] = []
        for index, workout_id in enumerate(data["workoutIds"]):
            if isinstance(workout_id, PendingRef):
                continue
            workout = state.workouts.get(workout_id)
            if workout is None:
                raise not_found("Workout", workout_id, field_name=f"data.workoutIds[{index}]")
            refusal = template_source_refusal(workout)
            if refusal is not None:
                raise refused(
                    refusal,
                    field_name=f"data.workoutIds[{index}]",
                    workoutId=workout.pk,
                    status=workout.status,
                )
            workouts.append(workout)
        if not workouts:
            return  # all produced by dependencies; checked when the batch runs
        picked = template_exercises(workouts, state.exercises)
        if not picked:
            raise ItemError(
                code=ErrorCode.VALIDATION,
                message="the workouts have no exercises to make a template from",
                details={"field": "data.workoutIds"},
                suggested_action="Pick workouts that have exercises.",
            )
        template = template_from(
            workouts,
            name=data["name"].strip(),
            category=data["category"],
            description=data.get("description", ""),
            tags=list(data.get("tags") or []),
            visibility=data["visibility"],
            created_by=ctx.user,
        )
        state.plans[item.op_id] = TemplatePlan(template, picked)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        plans = [ctx.state_as(TemplateState).plans[item.op_id] for item in items]
        templates = copy_create(WorkoutTemplate, [plan.template for plan in plans])
        rows = []
        results = {}
        for item, template, plan in zip(items, templates, plans, strict=True):
            picked = plan.exercises
            rows.extend(
                TemplateExercise(template=template, order=position, **copy_exercise(r))
                for position, r in enumerate(picked)
            )
            ctx.log_change(
                item,
                obj=template,
                action=BatchChange.Action.CREATED,
                after=snapshot(template, TEMPLATE_IMAGE),
            )
            results[item.op_id] = {
                "id": template.pk,
                "templateId": template.pk,
                "name": template.name,
                "exercises": len(picked),
            }
        copy_create(TemplateExercise, rows)
        return results
