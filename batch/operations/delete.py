"""DELETE: a soft delete (archive, undoable) by default; `permanent: true` removes the workout for good.

Permanent deletion is refused for workouts with completed sessions (status completed, or any completed
assignment), and is never undoable: its change-log row keeps the full image (exercises and
assignments included) for the record, with `undoable=False`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.errors import ErrorCode
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.archive import ArchiveState, plan_archive, write_archive
from batch.operations.base import Context, Executor, refused, register, snapshot
from batch.operations.calendar import ASSIGNMENT_IMAGE
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from workouts.models import Workout
from workouts.rules import completed_sessions, permanent_delete_refusal

WORKOUT_IMAGE = tuple(
    f.name for f in Workout._meta.concrete_fields if f.name not in ("id", "created_at", "updated_at")
)
EXERCISE_IMAGE = ("exercise", "order", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds")


@dataclass(slots=True)
class DeleteState(ArchiveState):
    # Workouts an earlier item of the chunk deletes for good: later items must not find them.
    deleted: set[int] = field(default_factory=set)


@register
class DeleteExecutor(Executor):
    type = OperationType.DELETE

    def is_undoable(self, data: dict[str, Any]) -> bool:
        return not data.get("permanent")

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        workouts = chunk_workouts(items, ctx)
        permanent = {
            i.data["workoutId"] for i in items if i.data.get("permanent") and i.data["workoutId"] in workouts
        }
        # The full image of what a permanent delete removes (kept in its change-log row).
        ctx.state = DeleteState(workouts=workouts, parts=load_parts(permanent))

    def check(self, item: BatchItem, ctx: Context) -> None:
        state = ctx.state_as(DeleteState)
        workout = workout_of(item, ctx, state.workouts, deleted=state.deleted)
        if not item.data.get("permanent"):
            if workout is not None:
                plan_archive(item, ctx, workout, restore=False)
            return
        ctx.warn(
            item,
            "permanent delete cannot be undone: the workout, its exercises and assignments are removed",
            code=ErrorCode.NOT_UNDOABLE,
        )
        if workout is None:
            return
        assignments = state.parts.assignments.get(workout.pk, [])
        refusal = permanent_delete_refusal(workout, assignments)
        if refusal is not None:
            raise refused(
                refusal,
                field_name="data.permanent",
                workoutId=workout.pk,
                status=workout.status,
                completedAssignments=len(completed_sessions(workout, assignments)),
            )
        # Later items of this chunk must not find it any more.
        state.deleted.add(workout.pk)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        soft = [i for i in items if not i.data.get("permanent")]
        hard = [i for i in items if i.data.get("permanent")]
        results = write_archive(soft, ctx) if soft else {}
        for result in results.values():
            result["permanent"] = False
        if hard:
            state = ctx.state_as(DeleteState)
            workouts = state.workouts
            doomed = {}
            for item in hard:
                workout = workouts[item.data["workoutId"]]
                image = snapshot(workout, WORKOUT_IMAGE)
                image["exercises"] = [
                    snapshot(e, EXERCISE_IMAGE) for e in state.parts.exercises.get(workout.pk, [])
                ]
                image["assignments"] = [
                    {"id": a.pk, **snapshot(a, ASSIGNMENT_IMAGE)}
                    for a in state.parts.assignments.get(workout.pk, [])
                ]
                ctx.log_change(
                    item, obj=workout, action=BatchChange.Action.DELETED, before=image, undoable=False
                )
                doomed[workout.pk] = workout
                results[item.op_id] = {"id": workout.pk, "workoutId": workout.pk, "permanent": True}
            # Cascades and SET_NULLs run per relation, not per workout: a constant number of statements.
            Workout.objects.filter(pk__in=list(doomed)).delete()
        return results
