"""Per-chunk loading shared by the workout executors: one query per kind of row, whatever the chunk size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context, not_found
from workouts.models import Assignment, Player, Workout, WorkoutExercise


def lock_workouts(ctx: Context, ids: set[int]) -> dict[int, Workout]:
    """Load the team's workouts by id; outside a dry run, lock them for the chunk's transaction."""
    qs = Workout.objects.filter(team=ctx.team, pk__in=ids)
    if not ctx.dry_run:
        qs = qs.select_for_update(of=("self",))
    return {w.pk: w for w in qs.order_by("pk")}


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
    if workout_id in ctx.cache.get("deleted", ()):
        raise ItemError(
            code=ErrorCode.NOT_FOUND,
            message=f"workout {workout_id} is deleted permanently by an earlier item of this batch",
            details={"field": "data.workoutId", "id": workout_id},
            suggested_action="Leave this operation out, or run it in a separate batch first.",
        )
    return workout


def load_parts(ctx: Context, workout_ids: Iterable[int], *, with_assignments: bool = True) -> None:
    """Load the workouts' exercises (with specs) and assignments (with players): two or three queries."""
    from medical.compliance import ExerciseSpec

    ids = set(workout_ids)
    exercises: dict[int, list[WorkoutExercise]] = {}
    specs: dict[int, list[Any]] = {}
    assignments: dict[int, list[Assignment]] = {}
    players: dict[int, Player] = {}
    if ids:
        for row in (
            WorkoutExercise.objects.filter(workout_id__in=ids)
            .select_related("exercise")
            .order_by("workout_id", "order", "id")
        ):
            exercises.setdefault(row.workout_id, []).append(row)
            specs.setdefault(row.workout_id, []).append(
                ExerciseSpec.from_exercise(row.exercise, load_percent=row.load_percent)
            )
        if with_assignments:
            for row in Assignment.objects.filter(workout_id__in=ids).select_related("player").order_by("id"):
                assignments.setdefault(row.workout_id, []).append(row)
                players[row.player_id] = row.player
    ctx.cache.update(exercises=exercises, specs=specs, assignments=assignments, players=players)
