"""Versions are the database's: an edit through any path after a batch makes undo end CONFLICT for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from batch.models import Batch, BatchChange, BatchItem
from batch.undo import batch_undo
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutExerciseFactory, WorkoutFactory
from workouts.models import Assignment, Workout, WorkoutTemplate

pytestmark = pytest.mark.django_db


def run(submit, run_batches, ops: list[dict]) -> Batch:
    batch = submit(ops)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    return batch


def undo(batch: Batch, user, run_batches) -> Batch:
    undo_batch = batch_undo(batch_id=batch.pk, user=user)
    run_batches()
    undo_batch.refresh_from_db()
    return undo_batch


def historical(model: str) -> Any:
    """The model as a data migration's RunPython sees it (no custom save, no managers of ours)."""
    return MigrationLoader(connection).project_state().apps.get_model("workouts", model)


def edit_by_save(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    obj = model.objects.get(pk=pk)
    setattr(obj, field, value)
    obj.save()


def edit_by_stale_save(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    # A shell session that loaded the row before the batch and saves it afterwards.
    obj = model.objects.get(pk=pk)
    obj.version = 1
    setattr(obj, field, value)
    obj.save()


def edit_by_queryset_update(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    model.objects.filter(pk=pk).update(**{field: value})


def edit_by_raw_sql(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {field} = %s WHERE id = %s", [value, pk])


def edit_by_migration_update(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    historical(model.__name__).objects.filter(pk=pk).update(**{field: value})


def edit_by_migration_save(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    obj = historical(model.__name__).objects.get(pk=pk)
    setattr(obj, field, value)
    obj.save()


def edit_by_admin(model: Any, pk: int, field: str, value: Any, client: Any) -> None:
    url = reverse(f"admin:workouts_{model._meta.model_name}_change", args=[pk])
    response = client.post(url, admin_form_data(model.objects.get(pk=pk), {field: value}))
    assert response.status_code == 302, admin_errors(response)


def admin_errors(response: Any) -> Any:
    context = response.context
    return context["adminform"].form.errors, [f.errors for f in context.get("inline_admin_formsets", [])]


def admin_form_data(obj: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The change form as the browser would post it (inline management forms empty)."""
    data: dict[str, Any] = {}
    if isinstance(obj, Workout):
        start, end = obj.scheduled_start, obj.scheduled_end
        data = {
            "team": obj.team_id,
            "name": obj.name,
            "type": obj.type,
            "status": obj.status,
            "scheduled_start_0": start.strftime("%Y-%m-%d") if start else "",
            "scheduled_start_1": start.strftime("%H:%M:%S") if start else "",
            "scheduled_end_0": end.strftime("%Y-%m-%d") if end else "",
            "scheduled_end_1": end.strftime("%H:%M:%S") if end else "",
            "notes": obj.notes,
            "intensity": obj.intensity,
        }
        for prefix in ("workout_exercises", "assignments"):
            data.update(
                {
                    f"{prefix}-TOTAL_FORMS": 0,
                    f"{prefix}-INITIAL_FORMS": 0,
                    f"{prefix}-MIN_NUM_FORMS": 0,
                    f"{prefix}-MAX_NUM_FORMS": 1000,
                }
            )
    elif isinstance(obj, Assignment):
        data = {
            "workout": obj.workout_id,
            "player": obj.player_id,
            "role": obj.role,
            "load_percent": obj.load_percent,
            "status": obj.status,
        }
    data.update(changes)
    return data


PATHS = [
    edit_by_save,
    edit_by_stale_save,
    edit_by_queryset_update,
    edit_by_raw_sql,
    edit_by_migration_update,
    edit_by_migration_save,
    edit_by_admin,
]


@pytest.mark.parametrize("edit", PATHS, ids=lambda f: f.__name__)
def test_undo_of_an_update_conflicts_with_a_workout_edited_since(
    edit: Callable[..., None], submit, run_batches, trainer, team, staff_client
):
    workout = WorkoutFactory(team=team, notes="before")
    batch = run(
        submit,
        run_batches,
        [{"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "batch"}}}],
    )
    logged = BatchChange.objects.get(batch=batch)
    assert logged.version_after == Workout.objects.get(pk=workout.pk).version == 2

    edit(Workout, workout.pk, "notes", "edited since", staff_client)

    assert Workout.objects.get(pk=workout.pk).version == 3
    undo_batch = undo(batch, trainer, run_batches)
    item = BatchItem.objects.get(batch=undo_batch)
    assert item.status == BatchItem.Status.CONFLICT, item.error
    assert (item.error["details"]["expectedVersion"], item.error["details"]["currentVersion"]) == (2, 3)
    assert Workout.objects.get(pk=workout.pk).notes == "edited since"


@pytest.mark.parametrize(
    "edit",
    [edit_by_save, edit_by_queryset_update, edit_by_raw_sql, edit_by_migration_update, edit_by_admin],
    ids=lambda f: f.__name__,
)
def test_undo_of_an_assign_conflicts_with_an_assignment_edited_since(
    edit: Callable[..., None], submit, run_batches, trainer, team, staff_client
):
    workout = WorkoutFactory(team=team)
    player = PlayerFactory(team=team)
    assignment = AssignmentFactory(workout=workout, player=player, load_percent=100)
    batch = run(
        submit,
        run_batches,
        [
            {
                "id": "a",
                "type": "ASSIGN",
                "data": {
                    "workoutId": workout.pk,
                    "assignments": [{"playerId": player.pk, "loadPercent": 80}],
                },
            }
        ],
    )
    assert BatchChange.objects.get(batch=batch).version_after == Assignment.objects.get().version == 2

    edit(Assignment, assignment.pk, "load_percent", 60, staff_client)

    undo_batch = undo(batch, trainer, run_batches)
    item = BatchItem.objects.get(batch=undo_batch)
    assert item.status == BatchItem.Status.CONFLICT, item.error
    assert Assignment.objects.get().load_percent == 60


@pytest.mark.parametrize(
    "edit",
    [edit_by_save, edit_by_queryset_update, edit_by_raw_sql, edit_by_migration_save],
    ids=lambda f: f.__name__,
)
def test_undo_of_a_template_creation_keeps_a_template_edited_since(
    edit: Callable[..., None], submit, run_batches, trainer, team, staff_client
):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    batch = run(
        submit,
        run_batches,
        [
            {
                "id": "t",
                "type": "TEMPLATE",
                "data": {
                    "workoutIds": [workout.pk],
                    "name": "Best of",
                    "category": "STRENGTH",
                    "visibility": "team",
                },
            }
        ],
    )
    template = WorkoutTemplate.objects.get()

    edit(WorkoutTemplate, template.pk, "description", "curated since", staff_client)

    undo_batch = undo(batch, trainer, run_batches)
    assert BatchItem.objects.get(batch=undo_batch).status == BatchItem.Status.CONFLICT
    assert WorkoutTemplate.objects.get(pk=template.pk).description == "curated since"


def test_a_write_that_changes_nothing_or_only_bookkeeping_keeps_the_version(team):
    workout = WorkoutFactory(team=team)
    workout.save()
    Workout.objects.filter(pk=workout.pk).update(notes=workout.notes)
    template = WorkoutTemplate.objects.create(team=team, name="T", category="STRENGTH")
    WorkoutTemplate.objects.filter(pk=template.pk).update(usage_count=5)
    assert Workout.objects.get(pk=workout.pk).version == 1
    assert WorkoutTemplate.objects.get(pk=template.pk).version == 1


def test_code_that_bumps_explicitly_gets_exactly_one_bump_and_never_a_lower_version(team):
    workout = WorkoutFactory(team=team)
    Workout.objects.filter(pk=workout.pk).update(notes="a", version=2)
    assert Workout.objects.get(pk=workout.pk).version == 2
    Workout.objects.filter(pk=workout.pk).update(notes="b", version=1)
    assert Workout.objects.get(pk=workout.pk).version == 3


def test_editing_a_workouts_exercises_in_the_admin_moves_the_workouts_version(staff_client, team):
    workout = WorkoutFactory(team=team)
    exercise = WorkoutExerciseFactory(workout=workout, sets=3)
    data = admin_form_data(workout, {})
    data.update(
        {
            "workout_exercises-TOTAL_FORMS": 1,
            "workout_exercises-INITIAL_FORMS": 1,
            "workout_exercises-0-id": exercise.pk,
            "workout_exercises-0-workout": workout.pk,
            "workout_exercises-0-order": exercise.order,
            "workout_exercises-0-exercise": exercise.exercise_id,
            "workout_exercises-0-sets": 5,
            "workout_exercises-0-rest_seconds": exercise.rest_seconds,
        }
    )
    response = staff_client.post(reverse("admin:workouts_workout_change", args=[workout.pk]), data)
    assert response.status_code == 302, admin_errors(response)
    assert Workout.objects.get(pk=workout.pk).version == 2
