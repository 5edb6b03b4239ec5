"""UPDATE: a partial change of a workout's allowed fields, with optimistic version checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    F,
    invalid,
    not_found,
    parse_dt,
    register,
    snapshot,
)
from batch.sql import values_update
from workouts.models import Facility, Workout

# camelCase key -> model field
UPDATABLE = {
    "name": "name",
    "type": "type",
    "status": "status",
    "scheduledStart": "scheduled_start",
    "scheduledEnd": "scheduled_end",
    "facilityId": "facility",
    "notes": "notes",
    "intensity": "intensity",
}
UPDATE_FIELDS = {
    "name": F("str", max_length=200),
    "type": F("str", choices=Workout.Type.values),
    "status": F("str", choices=[s for s in Workout.Status.values if s != Workout.Status.ARCHIVED]),
    "scheduledStart": F("datetime"),
    "scheduledEnd": F("datetime"),
    "facilityId": F("id"),
    "notes": F("str", max_length=5000),
    "intensity": F("int", min=0, max=100),
}


def lock_workouts(ctx: Context, ids: set[int]) -> dict[int, Workout]:
    """Load the team's workouts by id; outside a dry run, lock them for the chunk's transaction."""
    qs = Workout.objects.filter(team=ctx.team, pk__in=ids)
    if not ctx.dry_run:
        qs = qs.select_for_update(of=("self",))
    return {w.pk: w for w in qs.order_by("pk")}


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
    fields = {
        "workoutId": F("id", required=True),
        "updates": F("dict", required=True, fields=UPDATE_FIELDS),
        "expectedVersion": F("int", min=1),
    }

    def validate_data(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        problems = super().validate_data(data)
        if isinstance(data.get("updates"), dict) and not data["updates"]:
            problems.append(("data.updates", "must change at least one field"))
        return problems

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        ids = {i.data["workoutId"] for i in items if isinstance(i.data.get("workoutId"), int)}
        ctx.cache["workouts"] = lock_workouts(ctx, ids)
        facility_ids = {i.data["updates"].get("facilityId") for i in items} - {None}
        ctx.cache["facilities"] = Facility.objects.in_bulk(facility_ids) if facility_ids else {}

    def check(self, item: BatchItem, ctx: Context) -> None:
        workout_id = item.data["workoutId"]
        workout = ctx.cache["workouts"].get(workout_id)
        if workout is None:
            if ctx.dry_run and not isinstance(workout_id, int):
                return  # produced by a dependency; checked when it runs
            raise not_found("Workout", workout_id, field_name="data.workoutId")
        if workout.archived_at is not None:
            raise ItemError(
                code=ErrorCode.VALIDATION,
                message=f"workout {workout.pk} is archived",
                details={"workoutId": workout.pk},
                suggested_action="Restore it first (ARCHIVE with restore: true).",
            )
        expected = item.data.get("expectedVersion")
        if expected is not None and expected != workout.version:
            error = version_conflict(item, ctx, workout, expected)
            if error is not None:
                raise error
        updates = item.data["updates"]
        facility_id = updates.get("facilityId")
        if facility_id is not None and facility_id not in ctx.cache["facilities"]:
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
        if end is not None and (start is None or end <= start):
            raise invalid("the end must be after the start", field_name="data.updates.scheduledEnd")
        if updates.get("status") == Workout.Status.SCHEDULED and start is None:
            raise invalid("a scheduled workout needs a start", field_name="data.updates.status")

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        workouts: dict[int, Workout] = ctx.cache["workouts"]
        touched_fields: set[str] = set()
        results = {}
        for item in items:
            workout = workouts[item.data["workoutId"]]
            updates = item.data["updates"]
            changed = [UPDATABLE[key] for key in updates]
            before = snapshot(workout, changed)
            for key, value in updates.items():
                name = UPDATABLE[key]
                if name in ("scheduled_start", "scheduled_end"):
                    value = parse_dt(value) if value else None
                if name == "facility":
                    workout.facility_id = value
                else:
                    setattr(workout, name, value)
            workout.version += 1
            touched_fields.update(changed)
            ctx.log_change(
                item,
                obj=workout,
                action=BatchChange.Action.UPDATED,
                before=before,
                after=snapshot(workout, changed),
            )
            results[item.op_id] = {
                "id": workout.pk,
                "workoutId": workout.pk,
                "version": workout.version,
                "changed": sorted(updates),
            }
        # One statement for the chunk: every touched column, unchanged ones rewritten with their value.
        columns = sorted(touched_fields) + ["version", "updated_at"]
        by_pk = {}
        for item in items:  # an object touched twice in one chunk is written once, in its final state
            workout = workouts[item.data["workoutId"]]
            workout.updated_at = ctx.now
            by_pk[workout.pk] = {
                "pk": workout.pk,
                **{c: getattr(workout, "facility_id" if c == "facility" else c) for c in columns},
            }
        values_update(Workout, list(by_pk.values()), columns)
        return results
