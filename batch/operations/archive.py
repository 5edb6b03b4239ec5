"""ARCHIVE: archive a workout (or restore it with `restore: true`); DELETE's soft delete uses the same.

`check` archives or restores the chunk's in-memory workout as soon as an item passes, so a later item
on the same workout (archive then restore, a soft delete after an archive) is judged on that state;
`apply` logs what each item did and writes every workout once, in its final state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import Context, Executor, refused, register, snapshot
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import (
    compliance_engine,
    gate_players,
    left_out,
    left_out_result,
    refit,
    take_off,
    write_take_offs,
)
from batch.sql import values_update_versions
from workouts.calendar import workout_day
from workouts.models import Workout
from workouts.rules import archive_refusal, mark_archived, mark_restored

ARCHIVE_FIELDS = ("status", "status_before_archive", "archived_at")


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
    ctx.cache.setdefault("archive_plans", {})[item.op_id] = (
        workout,
        restore,
        before,
        snapshot(workout, ARCHIVE_FIELDS),
        workout.version,
    )


def write_archive(items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
    """Log ARCHIVED/RESTORED for the items `plan_archive` passed; one UPDATE for the chunk."""
    results = {}
    final: dict[int, Workout] = {}
    for item in items:
        workout, restore, before, after, version = ctx.cache["archive_plans"][item.op_id]
        ctx.log_change(
            item,
            obj=Workout(pk=workout.pk, version=version),
            action=BatchChange.Action.RESTORED if restore else BatchChange.Action.ARCHIVED,
            before=before,
            after=after,
        )
        results[item.op_id] = {
            "id": workout.pk,
            "workoutId": workout.pk,
            "status": after["status"],
            "version": version,
        }
        final[workout.pk] = workout
    columns = [*ARCHIVE_FIELDS, "version", "updated_at"]
    rows = []
    for workout in final.values():
        workout.updated_at = ctx.now
        rows.append({"pk": workout.pk, **{c: getattr(workout, c) for c in columns}})
    ctx.settle_versions(Workout, values_update_versions(Workout, rows, columns))
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
        load_parts(ctx, restoring)
        if ctx.cache["players"]:
            dates = {workout_day(workouts[pk].scheduled_start) for pk in restoring}
            compliance_engine(ctx, player_ids=ctx.cache["players"], dates=dates)

    def check(self, item: BatchItem, ctx: Context) -> None:
        workout = workout_of(item, ctx)
        if workout is None:
            return
        restore = bool(item.data.get("restore"))
        if restore and workout.archived_at is not None:
            verdicts = gate_players(
                item,
                ctx,
                player_ids=[a.player_id for a in ctx.cache["assignments"].get(workout.pk, [])],
                exercises=ctx.cache["specs"].get(workout.pk, []),
                on_date=workout_day(workout.scheduled_start),
                intensity=workout.intensity,
                name=workout.name,
            )
            take_off(item, ctx, workout, left_out(item, ctx, verdicts))
            refit(item, ctx, workout, verdicts)
        plan_archive(item, ctx, workout, restore=restore)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        write_take_offs(items, ctx)
        results = write_archive(items, ctx)
        for item in items:
            if item.data.get("restore"):
                results[item.op_id]["leftOut"] = left_out_result(item, ctx)
        return results
