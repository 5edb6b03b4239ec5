"""Per-chunk loading shared by the workout executors: one query per kind of row, whatever the chunk size."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context, not_found
from batch.operations.state import Parts
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Player,
    TemplateExercise,
    Workout,
    WorkoutExercise,
)
from workouts.plans import Catalog
from workouts.selectors import templates_for_team


def lock_workouts(ctx: Context, ids: set[int]) -> dict[int, Workout]:
    """Load the team's workouts by id; outside a dry run, lock them for the chunk's transaction."""
    if not ids:
        return {}
    qs = Workout.objects.filter(team=ctx.team, pk__in=ids)
    if not ctx.dry_run:
        qs = qs.select_for_update(of=("self",))
    return {w.pk: w for w in qs.order_by("pk")}


def chunk_workouts(items: Sequence[BatchItem], ctx: Context) -> dict[int, Workout]:
    """Load (and, when running, lock) the team's workouts the items name: one query."""
    return lock_workouts(
        ctx, {i.data["workoutId"] for i in items if isinstance(i.data.get("workoutId"), int)}
    )


def workout_of(
    item: BatchItem, ctx: Context, workouts: dict[int, Workout], *, deleted: Collection[int] = ()
) -> Workout | None:
    """Return the item's workout; None in a dry run when a dependency will create it."""
    workout_id = item.data["workoutId"]
    workout = workouts.get(workout_id)
    if workout is None:
        if ctx.dry_run and not isinstance(workout_id, int):
            return None
        raise not_found("Workout", workout_id, field_name="data.workoutId")
    if workout_id in deleted:
        raise ItemError(
            code=ErrorCode.NOT_FOUND,
            message=f"workout {workout_id} is deleted permanently by an earlier item of this batch",
            details={"field": "data.workoutId", "id": workout_id},
            suggested_action="Leave this operation out, or run it in a separate batch first.",
        )
    return workout


def load_parts(workout_ids: Iterable[int], *, with_assignments: bool = True) -> Parts:
    """Load the workouts' exercises (with specs) and assignments (with players): two queries, one
    without assignments, none without workouts."""
    from medical.compliance import ExerciseSpec

    ids = set(workout_ids)
    parts = Parts()
    if not ids:
        return parts
    for row in (
        WorkoutExercise.objects.filter(workout_id__in=ids)
        .select_related("exercise")
        .order_by("workout_id", "order", "id")
    ):
        parts.exercises.setdefault(row.workout_id, []).append(row)
        parts.specs.setdefault(row.workout_id, []).append(
            ExerciseSpec.from_exercise(row.exercise, load_percent=row.load_percent)
        )
    if with_assignments:
        for row in Assignment.objects.filter(workout_id__in=ids).select_related("player").order_by("id"):
            parts.assignments.setdefault(row.workout_id, []).append(row)
            parts.players[row.player_id] = row.player
    return parts


def load_catalog(
    ctx: Context,
    *,
    facility_ids: set[int],
    template_ids: set[int],
    exercise_ids: set[int],
    player_ids: set[int],
) -> Catalog:
    """Return the rows new workouts name (workouts.plans.new_workout): facilities, the templates the
    user may use (another trainer's "Only me" template is as unknown as another team's) with their
    exercises in order, library exercises (the ones named and the templates'), the team's players.
    One query per kind of row named, none for a kind not named."""
    templates = (
        templates_for_team(team=ctx.team, user=ctx.user).filter(pk__in=template_ids).in_bulk()
        if template_ids
        else {}
    )
    template_exercises: dict[int, list[TemplateExercise]] = {}
    exercise_ids = set(exercise_ids)
    if templates:
        for te in TemplateExercise.objects.filter(template__in=templates.keys()).order_by(
            "template", "order"
        ):
            template_exercises.setdefault(te.template_id, []).append(te)
            exercise_ids.add(te.exercise_id)
    return Catalog(
        facilities=Facility.objects.in_bulk(facility_ids) if facility_ids else {},
        templates=templates,
        template_exercises=template_exercises,
        library=Exercise.objects.in_bulk(exercise_ids) if exercise_ids else {},
        players=Player.objects.filter(team=ctx.team, pk__in=player_ids).in_bulk() if player_ids else {},
    )
