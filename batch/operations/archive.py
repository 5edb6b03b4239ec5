"""ARCHIVE: archive a workout (or restore it with `restore: true`); DELETE's soft delete uses the same.

`check` archives or restores the chunk's in-memory workout as soon as an item passes, so a later item
on the same workout (archive then restore, a soft delete after an archive) is judged on that state;
`apply` logs what each item did and writes every workout once, in its final state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import Context, Executor, refused, register, snapshot, write_rows
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import left_out_result, load_gate, regate, write_take_offs
from batch.operations.state import WorkoutChange, WorkoutState
from workouts.calendar import workout_day
from workouts.models import Workout
from workouts.rules import archive_refusal, mark_archived, mark_restored

ARCHIVE_FIELDS = ("status", "status_before_archive", "archived_at")


@dataclass(slots=True)
class ArchivePlan(WorkoutChange):
    """An archive, or with `restore` a restore, made to the chunk's copy of the workout."""

    restore: bool = False


@dataclass(slots=True)
class ArchiveState(WorkoutState):
    """ARCHIVE's chunk, and DELETE's (a soft delete is an archive)."""

    archives: dict[str, ArchivePlan] = field(default_factory=dict)


def plan_archive(item: BatchItem, ctx: Context, workout: Workout, *, restore: bool) -> None:
    """Archive or restore the chunk's copy of the workout now (after the state check) and keep the
    item's before/after images for `write_archive`."""
    refusal = archive_refusal(workout, restore=restore)
    if refusal is not None:
        raise refused(
            refusal, field_name="data.restore" if restore else "data.workoutId", workoutId=workout.pk
        )
    before = snapshot(workout, ARCHIVE_FIELDS)
    if restore:
        mark_restored(workout)
    else:
        mark_archived(workout, now=ctx.now)
    ctx.state_as(ArchiveState).archives[item.op_id] = ArchivePlan(
        workout, before, snapshot(workout, ARCHIVE_FIELDS), workout.version, restore=restore
    )


def write_archive(items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
    """Log ARCHIVED/RESTORED for the items `plan_archive` passed; one UPDATE for the chunk."""
    results = {}
    final: dict[int, Workout] = {}
    archives = ctx.state_as(ArchiveState).archives
    for item in items:
        plan = archives[item.op_id]
        workout, after, version = plan.workout, plan.after, plan.version
        ctx.log_change(
            item,
            obj=Workout(pk=workout.pk, version=version),
            action=BatchChange.Action.RESTORED if plan.restore else BatchChange.Action.ARCHIVED,
            before=plan.before,
            after=after,
        )
        results[item.op_id] = {
            "id": workout.pk,
            "workoutId": workout.pk,
            "status": after["status"],
            "version": version,
        }
        final[workout.pk] = workout
    write_rows(ctx, Workout, final.values(), ARCHIVE_FIELDS)
    return results


@register
class ArchiveExecutor(Executor):
    type = OperationType.ARCHIVE

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        workouts = chunk_workouts(items, ctx)
        # A restored workout is back on its players' calendars: the medical gate judges them again.
        restoring = {
            i.data["workoutId"] for i in items if i.data.get("restore") and i.data["workoutId"] in workouts
        }
        parts = load_parts(restoring)
        dates = {workout_day(workouts[pk].scheduled_start) for pk in restoring}
        ctx.state = ArchiveState(
            workouts=workouts, parts=parts, gate=load_gate(player_ids=parts.players, dates=dates)
        )

    def check(self, item: BatchItem, ctx: Context) -> None:
        state = ctx.state_as(ArchiveState)
        workout = workout_of(item, ctx, state.workouts)
        if workout is None:
            return
        restore = bool(item.data.get("restore"))
        if restore and workout.archived_at is not None:
            regate(
                item, ctx, workout, on_date=workout_day(workout.scheduled_start), intensity=workout.intensity
            )
        plan_archive(item, ctx, workout, restore=restore)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        write_take_offs(items, ctx)
        results = write_archive(items, ctx)
        for item in items:
            if item.data.get("restore"):
                results[item.op_id]["leftOut"] = left_out_result(item, ctx)
        return results
