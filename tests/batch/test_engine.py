"""The engine, run in-process by the runner itself: requests, dependencies, failures, options."""

from __future__ import annotations

import pytest

from batch.errors import InvalidRequest
from batch.models import Batch, BatchChange, BatchItem
from batch.services import batch_submit
from batch.validation import batch_validate
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def create_op(op_id: str, name: str | None = None, **extra) -> dict:
    return {
        "id": op_id,
        "type": "CREATE",
        "data": {"workout": {"name": name or f"Workout {op_id}", "type": "STRENGTH"}},
        **extra,
    }


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def test_create_batch_runs_to_completion_with_counts_and_change_log(submit, run_batches, team):
    batch = submit([create_op(f"op-{i}") for i in range(25)], chunkSize=10)
    assert batch.status == Batch.Status.QUEUED and batch.total_chunks == 3
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    assert (batch.succeeded, batch.failed, batch.done_chunks) == (25, 0, 3)
    assert Workout.objects.filter(team=team).count() == 25
    assert BatchChange.objects.filter(batch=batch, action="created").count() == 25
    assert batch.undo_deadline is not None and batch.finished_at is not None
    assert item(batch, "op-3").result["workoutId"] == Workout.objects.get(name="Workout op-3").pk


def test_update_depending_on_create_uses_the_created_id(submit, run_batches, team):
    batch = submit(
        [
            {
                "id": "upd",
                "type": "UPDATE",
                "dependencies": ["new"],
                "data": {"workoutId": {"$ref": "new"}, "updates": {"notes": "bring skates"}},
            },
            create_op("new", "Leg day"),
        ],
        chunkSize=1,
    )
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    workout = Workout.objects.get(name="Leg day")
    assert workout.notes == "bring skates" and workout.version == 2
    assert item(batch, "upd").result["workoutId"] == workout.pk


def test_items_depending_on_a_failed_item_are_skipped_not_left_pending(submit, run_batches, team):
    batch = submit(
        [
            {"id": "bad", "type": "UPDATE", "data": {"workoutId": 999999, "updates": {"name": "x"}}},
            {
                "id": "after",
                "type": "UPDATE",
                "dependencies": ["bad"],
                "data": {"workoutId": {"$ref": "bad"}, "updates": {"name": "y"}},
            },
            create_op("fine"),
        ],
        validateBeforeExecute=False,
    )
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    bad, after = item(batch, "bad"), item(batch, "after")
    assert bad.status == "FAILED" and bad.error["code"] == "NOT_FOUND" and bad.error["suggestedAction"]
    assert after.status == "SKIPPED" and after.error["code"] == "DEPENDENCY_FAILED"
    assert item(batch, "fine").status == "SUCCEEDED"
    assert (batch.succeeded, batch.failed, batch.skipped) == (1, 1, 1)


def test_a_failing_item_does_not_roll_back_its_neighbours_in_the_chunk(submit, run_batches, team):
    workout = WorkoutFactory(team=team)
    batch = submit(
        [
            {"id": "a", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "a"}}},
            {
                "id": "b",
                "type": "UPDATE",
                "data": {"workoutId": workout.pk, "updates": {"notes": "b"}, "expectedVersion": 7},
            },
            create_op("c"),
        ],
        chunkSize=10,
        validateBeforeExecute=False,
        conflictResolution="FAIL",
    )
    run_batches()
    batch.refresh_from_db()
    assert item(batch, "a").status == "SUCCEEDED" and item(batch, "c").status == "SUCCEEDED"
    assert item(batch, "b").status == "FAILED" and item(batch, "b").error["code"] == "CONFLICT"
    workout.refresh_from_db()
    assert workout.notes == "a"


def test_stop_on_error_skips_everything_after_the_first_failure(submit, run_batches, team):
    ops = [
        {
            "id": "bad",
            "type": "UPDATE",
            "data": {"workoutId": 999999, "updates": {"name": "x"}},
            "priority": 9,
        }
    ]
    ops += [create_op(f"op-{i}") for i in range(9)]
    batch = submit(ops, chunkSize=2, stopOnError=True, parallel=False, validateBeforeExecute=False)
    run_batches()
    batch.refresh_from_db()
    assert batch.failed == 1
    skipped = BatchItem.objects.filter(batch=batch, status="SKIPPED")
    assert skipped.count() == 9  # its chunk stopped at it (the neighbour after it did not run), and the rest
    assert {i.error["code"] for i in skipped} == {"STOPPED_ON_ERROR"}
    assert batch.status == Batch.Status.FAILED and batch.error["stoppedAt"] == 1


def test_cycle_and_ref_without_dependency_are_rejected_with_named_operations(trainer, team):
    raw = {
        "operations": [
            {
                "id": "a",
                "type": "UPDATE",
                "dependencies": ["b"],
                "data": {"workoutId": 1, "updates": {"name": "x"}},
            },
            {
                "id": "b",
                "type": "UPDATE",
                "dependencies": ["a"],
                "data": {"workoutId": 1, "updates": {"name": "y"}},
            },
        ]
    }
    with pytest.raises(InvalidRequest) as exc:
        batch_submit(user=trainer, team=team, raw=raw)
    assert any(
        p.code == "DEPENDENCY_CYCLE" and "a -> b -> a" in p.message or "b -> a -> b" in p.message
        for p in exc.value.problems
    )
    raw = {
        "operations": [
            create_op("a"),
            {"id": "b", "type": "UPDATE", "data": {"workoutId": {"$ref": "a"}, "updates": {"name": "y"}}},
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert [(p.operation_id, p.code) for p in report.problems] == [("b", "REF_WITHOUT_DEPENDENCY")]
    assert Batch.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "operation_id", "field", "fragment"),
    [
        (
            {
                "operations": [
                    {
                        "id": "x",
                        "type": "CREATE",
                        "data": {"workout": {"name": "n", "type": "STRENGTH"}},
                        "colour": "red",
                    }
                ]
            },
            "x",
            "colour",
            "unknown key",
        ),
        ({"operations": [{"id": "x", "type": "EXPLODE", "data": {}}]}, "x", "type", "must be one of"),
        (
            {
                "operations": [
                    {"id": "x", "type": "CREATE", "data": {"workout": {"name": 5, "type": "STRENGTH"}}}
                ]
            },
            "x",
            "data.workout.name",
            "must be a string",
        ),
        ({"operations": [create_op("x"), create_op("x")]}, "x", "id", "duplicate"),
        (
            {"operations": [create_op("x")], "options": {"chunkSize": "big"}},
            None,
            "options.chunkSize",
            "integer",
        ),
        (
            {"operations": [create_op("x")], "options": {"turbo": True}},
            None,
            "options.turbo",
            "unknown option",
        ),
        (
            {
                "operations": [
                    {
                        "id": "x",
                        "type": "UPDATE",
                        "dependencies": ["ghost"],
                        "data": {"workoutId": 1, "updates": {"name": "y"}},
                    }
                ]
            },
            "x",
            "dependencies",
            "unknown",
        ),
    ],
)
def test_invalid_requests_name_the_operation_and_field(trainer, team, raw, operation_id, field, fragment):
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert not report.valid
    assert any(
        p.operation_id == operation_id and p.field == field and fragment in p.message for p in report.problems
    ), [p.as_dict() for p in report.problems]


def test_too_many_operations_is_a_clear_error(trainer, team, settings):
    settings.BATCH_MAX_OPERATIONS = 3
    report = batch_validate(
        user=trainer, team=team, raw={"operations": [create_op(f"{i}") for i in range(4)]}
    )
    assert [p.code for p in report.problems] == ["TOO_MANY_OPERATIONS"]


def test_dry_run_writes_nothing_and_estimates(trainer, team, django_assert_max_num_queries):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [create_op(f"c{i}") for i in range(30)]
        + [
            {"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"name": "new"}}},
            {"id": "missing", "type": "UPDATE", "data": {"workoutId": 424242, "updates": {"name": "new"}}},
        ],
        "options": {"chunkSize": 10},
    }
    before = Workout.objects.count()
    with django_assert_max_num_queries(10):
        report = batch_validate(user=trainer, team=team, raw=raw)
    assert Workout.objects.count() == before and Batch.objects.count() == 0
    assert report.item_errors == 1 and report.items["missing"].errors[0]["code"] == "NOT_FOUND"
    assert report.estimate["rows"] == 32 and report.estimate["chunks"] == 4
    assert report.estimate["seconds"] > 0
    workout.refresh_from_db()
    assert workout.name != "new"


def test_validate_before_execute_refuses_a_batch_with_item_errors(trainer, team):
    raw = {
        "operations": [{"id": "m", "type": "UPDATE", "data": {"workoutId": 424242, "updates": {"name": "n"}}}]
    }
    with pytest.raises(InvalidRequest) as exc:
        batch_submit(user=trainer, team=team, raw=raw)
    assert exc.value.problems[0].operation_id == "m" and exc.value.problems[0].code == "NOT_FOUND"


def test_resubmitting_the_same_request_id_returns_the_first_batch(
    trainer, team, django_capture_on_commit_callbacks
):
    raw = {"operations": [create_op("a")], "metadata": {"requestId": "req-1"}}
    with django_capture_on_commit_callbacks() as enqueued:
        first = batch_submit(user=trainer, team=team, raw=raw)
        second = batch_submit(user=trainer, team=team, raw=raw)
    assert first.pk == second.pk and Batch.objects.count() == 1
    assert len(enqueued) == 1  # runners are enqueued once, on commit


def test_another_teams_workout_is_not_found(submit, run_batches, other_team, team):
    foreign = WorkoutFactory(team=other_team)
    batch = submit(
        [{"id": "u", "type": "UPDATE", "data": {"workoutId": foreign.pk, "updates": {"name": "x"}}}],
        validateBeforeExecute=False,
    )
    run_batches()
    assert item(batch, "u").error["code"] == "NOT_FOUND"
    foreign.refresh_from_db()
    assert foreign.name != "x"


def test_a_non_member_cannot_submit(other_trainer, team):
    with pytest.raises(InvalidRequest) as exc:
        batch_submit(user=other_trainer, team=team, raw={"operations": [create_op("a")]})
    assert exc.value.problems[0].code == "PERMISSION_DENIED"


def test_higher_priority_runs_first_and_parallel_false_keeps_order(submit, run_batches, team):
    ops = [create_op("low", priority=0), create_op("high", priority=5), create_op("mid", priority=1)]
    batch = submit(ops, chunkSize=1, parallel=False)
    assert batch.runner_slots == 1
    run_batches()
    order = list(BatchItem.objects.filter(batch=batch).order_by("chunk__seq").values_list("op_id", flat=True))
    assert order == ["high", "mid", "low"]
    finished = list(
        BatchItem.objects.filter(batch=batch).order_by("finished_at").values_list("op_id", flat=True)
    )
    assert finished == ["high", "mid", "low"]


def test_dependents_wait_for_every_lower_level_chunk(submit, run_batches, team):
    ops = [create_op(f"base{i}") for i in range(6)]
    ops += [
        {
            "id": f"upd{i}",
            "type": "UPDATE",
            "dependencies": [f"base{i}"],
            "data": {"workoutId": {"$ref": f"base{i}"}, "updates": {"intensity": 90}},
        }
        for i in range(6)
    ]
    batch = submit(ops, chunkSize=4, maxConcurrency=3)
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 12
    assert set(Workout.objects.filter(team=team).values_list("intensity", "version")) == {(90, 2)}
