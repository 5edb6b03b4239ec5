"""ARCHIVE: archive a workout (or restore it with `restore: true`); DELETE's soft delete uses the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import Context, Executor, F, not_found, register, snapshot
from batch.operations.update import lock_workouts
from batch.sql import values_update
from workouts.models import Workout
from workouts.rules import mark_archived, mark_restored

ARCHIVE_FIELDS = ("status", "status_before_archive", "archived_at")


def chunk_workouts(items: Sequence[BatchItem], ctx: Context) -> dict[int, Workout]:
    """Load (and, when running, lock) the team's workouts the items name: one query."""
    ids = {i.data["workoutId"] for i in items if isinstance(i.data.get("workoutId"), int)}
    workouts = lock_workouts(ctx, ids) if ids else {}
    ctx.cache["workouts"] = workouts
    return workouts


def workout_of(item: BatchItem, ctx: Context) -> Workout | None:
    """Return the item's workout; None in a dry run when a dependency will create it."""
    workout_id = item.data["workoutId"]
    workout = ctx.cache["workouts"].get(workout_id)
    if workout is None:
        if ctx.dry_run and not isinstance(workout_id, int):
            return None
        raise not_found("Workout", workout_id, field_name="data.workoutId")
    return workout


def ensure_archivable(workout: Workout, *, restore: bool) -> None:
    if restore and workout.archived_at is None:
        raise ItemError(
            code=ErrorCode.VALIDATION,
            message=f"workout {workout.pk} is not archived",
            details={"workoutId": workout.pk, "field": "data.restore"},
            suggested_action="Only archived workouts can be restored.",
        )
    if not restore and workout.archived_at is not None:
        raise ItemError(
            code=ErrorCode.VALIDATION,
            message=f"workout {workout.pk} is already archived",
            details={"workoutId": workout.pk, "field": "data.workoutId"},
            suggested_action="Leave it out, or restore it first.",
        )


def write_archive(
    items: Sequence[BatchItem], ctx: Context, *, restore_of: dict[str, bool]
) -> dict[str, dict[str, Any]]:
    """Archive or restore each item's workout, log ARCHIVED/RESTORED, one UPDATE for the chunk."""
    workouts: dict[int, Workout] = ctx.cache["workouts"]
    results = {}
    for item in items:
        workout = workouts[item.data["workoutId"]]
        restore = restore_of[item.op_id]
        before = snapshot(workout, ARCHIVE_FIELDS)
        if restore:
            mark_restored(workout)
        else:
            mark_archived(workout, now=ctx.now)
        workout.updated_at = ctx.now
        ctx.log_change(
            item,
            obj=workout,
            action=BatchChange.Action.RESTORED if restore else BatchChange.Action.ARCHIVED,
            before=before,
            after=snapshot(workout, ARCHIVE_FIELDS),
        )
        results[item.op_id] = {
            "id": workout.pk,
            "workoutId": workout.pk,
            "status": workout.status,
            "version": workout.version,
        }
    columns = [*ARCHIVE_FIELDS, "version", "updated_at"]
    rows = {
        w.pk: {"pk": w.pk, **{c: getattr(w, c) for c in columns}}
        for w in (workouts[i.data["workoutId"]] for i in items)
    }
    values_update(Workout, list(rows.values()), columns)
    return results


@register
class ArchiveExecutor(Executor):
    type = OperationType.ARCHIVE
    fields = {"workoutId": F("id", required=True), "restore": F("bool")}

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        chunk_workouts(items, ctx)

    def check(self, item: BatchItem, ctx: Context) -> None:
        workout = workout_of(item, ctx)
        if workout is not None:
            ensure_archivable(workout, restore=bool(item.data.get("restore")))

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        return write_archive(items, ctx, restore_of={i.op_id: bool(i.data.get("restore")) for i in items})
