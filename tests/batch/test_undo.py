"""Undo, rollback-on-error and retry-failed, run in-process by the runner itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from batch.actions import RetryNotAllowed, UndoNotAllowed, UndoWindowClosed
from batch.models import Batch, BatchChange, BatchItem
from batch.retry import batch_retry_failed
from batch.undo import batch_undo
from batch.validation import batch_validate
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    FacilityFactory,
    PlayerFactory,
    TemplateExerciseFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
    club_time,
)
from workouts.models import Assignment, TemplateExercise, Workout, WorkoutExercise, WorkoutTemplate

pytestmark = pytest.mark.django_db

# Undo moves these forward on purpose: versions are bumped so stale editors notice, timestamps are
# the database's own; every other column must be exactly as before the batch.
VOLATILE = {"updated_at", "version", "created_at"}
TABLES = (Workout, WorkoutExercise, Assignment, WorkoutTemplate, TemplateExercise)


def table_snapshot() -> dict[str, dict[int, dict[str, Any]]]:
    """Every row of the domain tables, field by field (volatile columns left out)."""
    image = {}
    for model in TABLES:
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        image[model._meta.label] = {row["id"]: row for row in model.objects.values(*names)}
    return image


def assert_same_tables(before: dict, after: dict) -> None:
    for label, rows in before.items():
        assert set(after[label]) == set(rows), f"{label}: rows differ"
        for pk, row in rows.items():
            assert after[label][pk] == row, f"{label} {pk}: {row} != {after[label][pk]}"


def create_op(op_id: str, name: str | None = None, **data: Any) -> dict:
    return {
        "id": op_id,
        "type": "CREATE",
        "data": {"workout": {"name": name or f"Workout {op_id}", "type": "STRENGTH"}, **data},
    }


def update_op(op_id: str, workout_id: Any, deps: list[str] | None = None, **updates: Any) -> dict:
    return {
        "id": op_id,
        "type": "UPDATE",
        "data": {"workoutId": workout_id, "updates": updates},
        "dependencies": deps or [],
    }


def undo_and_run(batch: Batch, user, run_batches, **kwargs: Any) -> Batch:
    undo = batch_undo(batch_id=batch.pk, user=user, **kwargs)
    run_batches()
    undo.refresh_from_db()
    return undo


def finished(submit, run_batches, ops: list[dict], **options: Any) -> Batch:
    batch = submit(ops, **options)
    run_batches()
    batch.refresh_from_db()
    return batch


# --- each operation type ---------------------------------------------------------------------------


def test_undo_of_create_removes_workouts_exercises_assignments_and_template_use(
    submit, run_batches, trainer, team
):
    players = PlayerFactory.create_batch(2, team=team)
    exercise = ExerciseFactory(body_parts=[], movement_patterns=[])
    template = WorkoutTemplateFactory(team=team)
    TemplateExerciseFactory(template=template, exercise=exercise)
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [
            create_op(
                "plain",
                exercises=[{"exerciseId": exercise.pk, "sets": 4}],
                assignments=[{"playerId": p.pk} for p in players],
            ),
            {"id": "from-template", "type": "CREATE", "data": {"workout": {}, "templateId": template.pk}},
        ],
        medicalComplianceCheck=True,
    )
    assert batch.status == Batch.Status.COMPLETED, BatchItem.objects.filter(batch=batch).values("error")
    assert Workout.objects.count() == 2 and Assignment.objects.count() == 2
    assert WorkoutTemplate.objects.get(pk=template.pk).usage_count == 1

    undo = undo_and_run(batch, trainer, run_batches)

    assert undo.kind == Batch.Kind.UNDO and undo.undo_of_id == batch.pk
    assert undo.status == Batch.Status.COMPLETED and undo.succeeded == 2
    assert_same_tables(before, table_snapshot())
    batch.refresh_from_db()
    assert batch.status == Batch.Status.UNDONE


def test_undo_of_update_restores_every_changed_field(submit, run_batches, trainer, team):
    gym = FacilityFactory()
    workout = WorkoutFactory(team=team, notes="old", intensity=40)
    other = WorkoutFactory(team=team, status=Workout.Status.DRAFT, scheduled_start=None, scheduled_end=None)
    before = table_snapshot()
    start = club_time(days=3, hour=9)
    batch = finished(
        submit,
        run_batches,
        [
            update_op(
                "u1",
                workout.pk,
                name="Renamed",
                notes="new",
                intensity=90,
                facilityId=gym.pk,
                scheduledStart=(start + dt.timedelta(hours=1)).isoformat(),
                scheduledEnd=(start + dt.timedelta(hours=2)).isoformat(),
            ),
            update_op(
                "u2",
                other.pk,
                status="scheduled",
                scheduledStart=start.isoformat(),
                scheduledEnd=(start + dt.timedelta(hours=1)).isoformat(),
            ),
        ],
    )
    assert batch.succeeded == 2
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED
    assert_same_tables(before, table_snapshot())
    workout.refresh_from_db()
    assert workout.version == 3  # 1 → 2 by the batch → 3 by the undo


def test_an_object_changed_twice_returns_to_its_state_before_the_batch(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, notes="original")
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [
            update_op("first", workout.pk, notes="one", intensity=10),
            update_op("second", workout.pk, deps=["first"], notes="two", name="Two"),
            create_op("made"),
            update_op("edit-made", {"$ref": "made"}, deps=["made"], notes="edited"),
        ],
        chunkSize=1,
    )
    assert batch.succeeded == 4
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    assert_same_tables(before, table_snapshot())


def test_an_object_changed_twice_in_one_chunk_is_restored_in_one_undo_chunk(
    submit, run_batches, trainer, team
):
    workout = WorkoutFactory(team=team, notes="original")
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [update_op("a", workout.pk, notes="a"), update_op("b", workout.pk, notes="b", intensity=5)],
        chunkSize=10,
    )
    assert batch.succeeded == 2
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED and undo.total_chunks == 1
    assert_same_tables(before, table_snapshot())


def test_undo_of_archive_restore_and_soft_delete(submit, run_batches, trainer, team):
    active = WorkoutFactory(team=team)
    archived = WorkoutFactory(
        team=team,
        status=Workout.Status.ARCHIVED,
        status_before_archive=Workout.Status.SCHEDULED,
        archived_at=timezone.now() - dt.timedelta(days=1),
    )
    soft = WorkoutFactory(team=team)
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [
            {"id": "arch", "type": "ARCHIVE", "data": {"workoutId": active.pk}},
            {"id": "rest", "type": "ARCHIVE", "data": {"workoutId": archived.pk, "restore": True}},
            {"id": "soft", "type": "DELETE", "data": {"workoutId": soft.pk}},
        ],
    )
    assert batch.succeeded == 3
    assert set(BatchChange.objects.filter(batch=batch).values_list("action", flat=True)) == {
        "archived",
        "restored",
    }
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED
    assert_same_tables(before, table_snapshot())


def test_permanent_delete_is_reported_not_undone_and_the_dry_run_says_so(submit, run_batches, trainer, team):
    doomed = WorkoutFactory(team=team)
    keep = WorkoutFactory(team=team, notes="keep")
    ops = [
        {"id": "gone", "type": "DELETE", "data": {"workoutId": doomed.pk, "permanent": True}},
        update_op("edit", keep.pk, notes="changed"),
    ]
    report = batch_validate(user=trainer, team=team, raw={"operations": ops})
    assert report.estimate["undoable"] is False
    batch = finished(submit, run_batches, ops)
    assert batch.succeeded == 2
    undo = undo_and_run(batch, trainer, run_batches)
    gone = BatchItem.objects.get(batch=undo, data__changeId=BatchChange.objects.get(item__op_id="gone").pk)
    assert gone.status == BatchItem.Status.SKIPPED and gone.error["code"] == "NOT_UNDOABLE"
    keep.refresh_from_db()
    assert keep.notes == "keep" and not Workout.objects.filter(pk=doomed.pk).exists()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.UNDONE and undo.metadata["notUndoable"] == 1


def test_undo_of_a_batch_with_only_permanent_deletes_is_refused(submit, run_batches, trainer, team):
    doomed = WorkoutFactory(team=team)
    batch = finished(
        submit,
        run_batches,
        [{"id": "gone", "type": "DELETE", "data": {"workoutId": doomed.pk, "permanent": True}}],
    )
    with pytest.raises(UndoNotAllowed, match="nothing that can be undone"):
        batch_undo(batch_id=batch.pk, user=trainer)


# --- conflicts -------------------------------------------------------------------------------------


def test_undo_skips_workouts_edited_since_and_force_overrides(submit, run_batches, trainer, team):
    edited = WorkoutFactory(team=team, notes="before")
    untouched = WorkoutFactory(team=team, notes="before")
    batch = finished(
        submit,
        run_batches,
        [update_op("e", edited.pk, notes="batch"), update_op("u", untouched.pk, notes="batch")],
    )
    Workout.objects.filter(pk=edited.pk).update(notes="someone else", version=edited.version + 2)

    undo = undo_and_run(batch, trainer, run_batches)

    assert (undo.succeeded, undo.conflicted) == (1, 1)
    item = BatchItem.objects.get(batch=undo, status=BatchItem.Status.CONFLICT)
    assert item.error["code"] == "CONFLICT"
    details = item.error["details"]
    assert (details["objectId"], details["expectedVersion"], details["currentVersion"]) == (edited.pk, 2, 3)
    assert details["changedFields"]["notes"] == {"expected": "batch", "current": "someone else"}
    assert Workout.objects.get(pk=edited.pk).notes == "someone else"
    assert Workout.objects.get(pk=untouched.pk).notes == "before"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.error["undo"]["conflicts"] == 1
    assert batch_undo(batch_id=batch.pk, user=trainer) == undo  # without force: the same undo

    forced = undo_and_run(batch, trainer, run_batches, force=True)

    assert forced.pk != undo.pk and forced.total_items == 1 and forced.succeeded == 1
    assert Workout.objects.get(pk=edited.pk).notes == "before"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.UNDONE


def test_undo_of_create_leaves_a_workout_edited_since(submit, run_batches, trainer, team):
    batch = finished(submit, run_batches, [create_op("c")])
    workout = Workout.objects.get()
    Workout.objects.filter(pk=workout.pk).update(notes="mine now", version=2)
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.conflicted == 1 and Workout.objects.filter(pk=workout.pk).exists()


def test_forced_undo_overwrites_edits(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, notes="before")
    batch = finished(submit, run_batches, [update_op("e", workout.pk, notes="batch")])
    Workout.objects.filter(pk=workout.pk).update(notes="other", version=9)
    undo = undo_and_run(batch, trainer, run_batches, force=True)
    assert undo.succeeded == 1
    workout.refresh_from_db()
    assert workout.notes == "before" and workout.version == 10
    assert BatchItem.objects.get(batch=undo).warnings[0]["code"] == "VERSION_CONFLICT"


# --- the window, permissions, repeats --------------------------------------------------------------


def test_undo_just_before_the_deadline_is_allowed(submit, run_batches, trainer, team):
    batch = finished(submit, run_batches, [create_op("c")])
    deadline = batch.undo_deadline
    assert deadline - batch.finished_at == dt.timedelta(hours=24)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=deadline - dt.timedelta(seconds=1)):
        undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    assert Batch.objects.get(pk=undo.pk).status == Batch.Status.COMPLETED
    assert not Workout.objects.exists()


def test_undo_just_after_the_deadline_is_refused_with_the_deadline(submit, run_batches, trainer, team):
    batch = finished(submit, run_batches, [create_op("c")])
    from unittest import mock

    with (
        mock.patch("django.utils.timezone.now", return_value=batch.undo_deadline + dt.timedelta(seconds=1)),
        pytest.raises(UndoWindowClosed) as refused,
    ):
        batch_undo(batch_id=batch.pk, user=trainer)
    assert timezone.localtime(batch.undo_deadline).strftime("%Y-%m-%d %H:%M") in refused.value.message
    assert refused.value.deadline == batch.undo_deadline
    assert not Batch.objects.filter(kind=Batch.Kind.UNDO).exists()


def test_a_second_undo_returns_the_same_undo(submit, run_batches, trainer, staff, team):
    batch = finished(submit, run_batches, [create_op("c")])
    first = batch_undo(batch_id=batch.pk, user=trainer)
    assert batch_undo(batch_id=batch.pk, user=staff) == first  # still queued
    run_batches()
    assert batch_undo(batch_id=batch.pk, user=trainer) == first  # finished
    assert Batch.objects.filter(kind=Batch.Kind.UNDO).count() == 1


def test_undo_of_an_undo_is_refused(submit, run_batches, trainer, team):
    batch = finished(submit, run_batches, [create_op("c")])
    undo = undo_and_run(batch, trainer, run_batches)
    with pytest.raises(UndoNotAllowed, match="cannot be undone"):
        batch_undo(batch_id=undo.pk, user=trainer)


def test_only_the_owner_or_staff_may_undo(submit, run_batches, trainer, other_trainer, medic, staff, team):
    batch = finished(submit, run_batches, [create_op("c")])
    for user in (other_trainer, medic):
        with pytest.raises(PermissionDenied, match="owner or a staff user"):
            batch_undo(batch_id=batch.pk, user=user)
    assert batch_undo(batch_id=batch.pk, user=staff).created_by == staff


def test_a_running_batch_cannot_be_undone(submit, trainer):
    batch = submit([create_op("c")])
    with pytest.raises(UndoNotAllowed, match="still queued"):
        batch_undo(batch_id=batch.pk, user=trainer)


# --- rollbackOnError -------------------------------------------------------------------------------


def test_rollback_on_error_after_a_failure_in_a_later_chunk_restores_the_database(
    submit, run_batches, trainer, team
):
    player = PlayerFactory(team=team)
    existing = WorkoutFactory(team=team, notes="keep me")
    WorkoutExerciseFactory(workout=existing)
    AssignmentFactory(workout=existing, player=player)
    before = table_snapshot()
    ops = [
        create_op("c1", assignments=[{"playerId": player.pk}]),
        update_op("u1", existing.pk, notes="changed", intensity=99),
        create_op("c2"),
        update_op("u2", {"$ref": "c2"}, deps=["c2"], name="Renamed"),
        update_op("bad", 999_999, name="nope"),
        create_op("never-1"),
        create_op("never-2"),
    ]
    ops[4]["priority"] = -1  # the failure sits in a later chunk than the successes
    batch = finished(
        submit,
        run_batches,
        ops,
        chunkSize=2,
        parallel=False,
        rollbackOnError=True,
        validateBeforeExecute=False,
    )

    assert batch.status == Batch.Status.ROLLED_BACK
    assert batch.error["opId"] == "bad" and batch.error["code"] == "NOT_FOUND" and batch.error["message"]
    # All or nothing: the batch ran as one transaction, so nothing was written and nothing needs undoing.
    assert batch.error["rollback"] == {"batchId": None, "reverted": 0}
    assert not batch.undos.exists()
    assert not BatchItem.objects.filter(batch=batch, status=BatchItem.Status.SUCCEEDED).exists()
    assert BatchItem.objects.filter(batch=batch, error__code="ROLLED_BACK").count() == 4
    assert BatchItem.objects.filter(batch=batch, error__code="STOPPED_ON_ERROR").count() == 2  # never ran
    assert_same_tables(before, table_snapshot())


def test_rollback_with_nothing_committed_ends_rolled_back_at_once(submit, run_batches, team):
    batch = finished(
        submit,
        run_batches,
        [update_op("bad", 999_999, name="x")],
        rollbackOnError=True,
        validateBeforeExecute=False,
    )
    assert batch.status == Batch.Status.ROLLED_BACK and batch.error["opId"] == "bad"
    assert not batch.undos.exists()


def test_without_failures_rollback_on_error_changes_nothing(submit, run_batches, team):
    batch = finished(submit, run_batches, [create_op("c")], rollbackOnError=True)
    assert batch.status == Batch.Status.COMPLETED and Workout.objects.count() == 1


# --- retry failed ----------------------------------------------------------------------------------


def test_retry_failed_runs_only_the_failed_items_with_refs_resolved(submit, run_batches, trainer, team):
    blocked = WorkoutFactory(
        team=team,
        status=Workout.Status.ARCHIVED,
        archived_at=timezone.now(),
        status_before_archive="scheduled",
    )
    batch = finished(
        submit,
        run_batches,
        [
            create_op("ok", "Made once"),
            update_op("bad", blocked.pk, notes="fixed"),
            update_op("after-bad", {"$ref": "bad"}, deps=["bad"], intensity=11),
            update_op("mixed", {"$ref": "ok"}, deps=["ok", "bad"], notes="both"),
        ],
        chunkSize=1,
        validateBeforeExecute=False,
    )
    assert (batch.succeeded, batch.failed, batch.skipped) == (1, 1, 2)
    Workout.objects.filter(pk=blocked.pk).update(archived_at=None, status="scheduled")

    retry = batch_retry_failed(batch_id=batch.pk, user=trainer)
    run_batches()
    retry.refresh_from_db()

    assert retry.kind == Batch.Kind.RETRY and retry.retry_of_id == batch.pk
    assert sorted(BatchItem.objects.filter(batch=retry).values_list("op_id", flat=True)) == [
        "after-bad",
        "bad",
        "mixed",
    ]
    assert retry.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=retry).values("error"))
    made = Workout.objects.get(name="Made once")  # not created twice
    assert made.notes == "both"
    mixed = BatchItem.objects.get(batch=retry, op_id="mixed")
    assert mixed.dependencies == ["bad"] and mixed.data["workoutId"] == made.pk
    blocked.refresh_from_db()
    assert (blocked.notes, blocked.intensity) == ("fixed", 11)


def test_retry_is_refused_without_failures_and_for_undos(submit, run_batches, trainer, other_trainer, team):
    batch = finished(submit, run_batches, [create_op("c")])
    with pytest.raises(RetryNotAllowed, match="no failed items"):
        batch_retry_failed(batch_id=batch.pk, user=trainer)
    with pytest.raises(PermissionDenied):
        batch_retry_failed(batch_id=batch.pk, user=other_trainer)
    undo = undo_and_run(batch, trainer, run_batches)
    with pytest.raises(RetryNotAllowed, match="is an undo"):
        batch_retry_failed(batch_id=undo.pk, user=trainer)


def test_undo_of_assign_restores_the_roster_removed_updated_and_added(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team)
    kept, removed, added = PlayerFactory.create_batch(3, team=team)
    AssignmentFactory(workout=workout, player=kept, load_percent=100)
    AssignmentFactory(workout=workout, player=removed, role="participant", load_percent=80)
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [
            {
                "id": "roster",
                "type": "ASSIGN",
                "data": {
                    "workoutId": workout.pk,
                    "removeExisting": True,
                    "assignments": [{"playerId": kept.pk, "loadPercent": 70}, {"playerId": added.pk}],
                },
            }
        ],
    )
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    actions = set(BatchChange.objects.filter(batch=batch).values_list("action", flat=True))
    assert {"unassigned", "assigned"} <= actions
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    assert_same_tables(before, table_snapshot())


def test_undo_of_unassign_conflicts_when_the_player_was_assigned_again(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team)
    player, other = PlayerFactory.create_batch(2, team=team)
    AssignmentFactory(workout=workout, player=player)
    batch = finished(
        submit,
        run_batches,
        [
            {
                "id": "swap",
                "type": "ASSIGN",
                "data": {
                    "workoutId": workout.pk,
                    "removeExisting": True,
                    "assignments": [{"playerId": other.pk}],
                },
            }
        ],
    )
    assert batch.status == Batch.Status.COMPLETED
    again = AssignmentFactory(workout=workout, player=player, load_percent=50)
    undo = undo_and_run(batch, trainer, run_batches)
    conflict = BatchItem.objects.get(batch=undo, status=BatchItem.Status.CONFLICT)
    assert conflict.error["details"]["conflict"] == "EXISTS"
    assert Assignment.objects.get(workout=workout, player=player).pk == again.pk


def test_undo_of_schedule_with_recurrence_moves_back_and_removes_the_copies(
    submit, run_batches, trainer, team
):
    workout = WorkoutFactory(team=team, status=Workout.Status.DRAFT, scheduled_start=None, scheduled_end=None)
    WorkoutExerciseFactory(workout=workout)
    before = table_snapshot()
    start = (timezone.now() + dt.timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    batch = finished(
        submit,
        run_batches,
        [
            {
                "id": "plan",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": workout.pk,
                    "start": start.isoformat(),
                    "end": (start + dt.timedelta(hours=1)).isoformat(),
                    "recurrence": {"frequency": "daily", "count": 3},
                },
            }
        ],
    )
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    assert Workout.objects.count() > 1
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=undo).values("error"))
    assert_same_tables(before, table_snapshot())


def test_undo_of_duplicate_removes_the_copies_with_their_exercises_and_assignments(
    submit, run_batches, trainer, team
):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    AssignmentFactory(workout=workout, player=PlayerFactory(team=team))
    before = table_snapshot()
    batch = finished(
        submit,
        run_batches,
        [
            {
                "id": "copies",
                "type": "DUPLICATE",
                "data": {"workoutId": workout.pk, "count": 3, "dateShiftDays": 7, "includeAssignments": True},
            }
        ],
    )
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    assert Workout.objects.count() == 4
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED
    assert_same_tables(before, table_snapshot())


def template_op(workout_ids: list[int]) -> dict:
    return {
        "id": "tpl",
        "type": "TEMPLATE",
        "data": {
            "workoutIds": workout_ids,
            "name": "Best of",
            "category": "STRENGTH",
            "visibility": WorkoutTemplate.Visibility.TEAM,
        },
    }


def test_undo_of_template_removes_it_with_its_exercises(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    before = table_snapshot()
    batch = finished(submit, run_batches, [template_op([workout.pk])])
    assert batch.status == Batch.Status.COMPLETED, list(BatchItem.objects.filter(batch=batch).values("error"))
    assert TemplateExercise.objects.count() == 1
    undo = undo_and_run(batch, trainer, run_batches)
    assert undo.status == Batch.Status.COMPLETED
    assert_same_tables(before, table_snapshot())


def test_undo_keeps_a_template_used_since_unless_forced(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    batch = finished(submit, run_batches, [template_op([workout.pk])])
    template = WorkoutTemplate.objects.get()
    WorkoutFactory(team=team, template=template)
    undo = undo_and_run(batch, trainer, run_batches)
    item = BatchItem.objects.get(batch=undo)
    assert item.status == BatchItem.Status.CONFLICT and item.error["details"]["conflict"] == "IN_USE"
    assert WorkoutTemplate.objects.filter(pk=template.pk).exists()
    undo_and_run(batch, trainer, run_batches, force=True)
    assert not WorkoutTemplate.objects.filter(pk=template.pk).exists()
