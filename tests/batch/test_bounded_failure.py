"""Bounded failure: a bug or a dying process costs the items it concerns, never the runner or the batch."""

from __future__ import annotations

import logging

import pytest

from batch.models import Batch, BatchChange, BatchChunk, BatchItem
from tests.batch.conftest import wait_final
from tests.batch.faulty_executors import register_faulty, unregister_faulty
from workouts.models import Workout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faulty():
    register_faulty()
    yield
    unregister_faulty()


def submit_typed(submit, ops: list[tuple[str, str, str]], **options) -> Batch:
    """Submit CREATEs, then give items a test-only type (the request format only knows real ones)."""
    batch = submit(
        [
            {"id": op_id, "type": "CREATE", "data": {"workout": {"name": name, "type": "AGILITY"}}}
            for op_id, _, name in ops
        ],
        **options,
    )
    for op_id, op_type, _ in ops:
        BatchItem.objects.filter(batch=batch, op_id=op_id).update(type=op_type)
    return batch


def outcome(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def test_an_executor_bug_fails_only_its_item_with_a_logged_reference(
    submit, run_worker, faulty, team, caplog
):
    batch = submit_typed(
        submit,
        [("a", "RAISE", "A"), ("b", "RAISE", "boom"), ("c", "RAISE", "C"), ("d", "CREATE", "D")],
        chunkSize=10,
    )
    with caplog.at_level(logging.INFO, logger="batch"):
        run_worker()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    assert (batch.succeeded, batch.failed) == (3, 1)
    failed = outcome(batch, "b")
    assert failed.status == "FAILED" and failed.error["code"] == "INTERNAL_ERROR"
    assert failed.error["recoverable"] is False
    reference = failed.error["details"]["reference"]
    assert reference in failed.error["message"] and reference in failed.error["suggestedAction"]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log under that reference
    assert sorted(Workout.objects.filter(team=team).values_list("name", flat=True)) == ["A", "C", "D"]
    assert BatchChange.objects.filter(batch=batch).count() == 3


def test_a_group_that_fails_as_a_whole_is_isolated_item_by_item(submit, run_worker, faulty, team):
    batch = submit_typed(
        submit,
        [("x", "BREAK", "X"), ("y", "BREAK", "Y"), ("z", "CREATE", "Z")],
        chunkSize=10,
    )
    run_worker()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    errors = [outcome(batch, op_id).error for op_id in ("x", "y")]
    assert {e["code"] for e in errors} == {"INTERNAL_ERROR"}
    assert errors[0]["details"]["reference"] != errors[1]["details"]["reference"]
    assert outcome(batch, "z").status == "SUCCEEDED"
    assert list(Workout.objects.filter(team=team).values_list("name", flat=True)) == ["Z"]


def test_a_bug_after_the_executors_fails_its_chunk_and_the_batch_goes_on(submit, run_worker, faulty, team):
    batch = submit_typed(
        submit,
        [("p", "OPAQUE", "P"), ("q", "OPAQUE", "Q"), ("r", "CREATE", "R")],
        chunkSize=2,
        parallel=False,
    )
    run_worker()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    for op_id in ("p", "q"):
        assert outcome(batch, op_id).error["code"] == "INTERNAL_ERROR"
    # The failed chunk's transaction rolled back: no workout, no change row for it.
    assert list(Workout.objects.filter(team=team).values_list("name", flat=True)) == ["R"]
    assert BatchChange.objects.filter(batch=batch).count() == 1


@pytest.mark.worker
def test_a_chunk_that_kills_its_runner_fails_as_runner_crashed_and_the_batch_goes_on(
    submit, workers, team, settings
):
    batch = submit_typed(
        submit,
        [("before", "CREATE", "Before"), ("fatal", "EXIT", "boom"), ("after", "CREATE", "After")],
        chunkSize=1,
        parallel=False,
    )
    workers.start(faulty=True)  # one long-running worker: it re-enqueues after each dead work horse
    batch = wait_final(batch.pk, timeout=90)
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    fatal = outcome(batch, "fatal")
    assert fatal.status == "FAILED" and fatal.error["code"] == "RUNNER_CRASHED"
    assert fatal.error["details"]["crashes"] == settings.BATCH_CHUNK_MAX_CRASHES
    chunk = BatchChunk.objects.get(pk=fatal.chunk_id)
    assert (chunk.attempts, chunk.transient_failures) == (settings.BATCH_CHUNK_MAX_CRASHES + 1, 0)
    # Every other chunk ran exactly once.
    assert set(
        BatchChunk.objects.filter(batch=batch).exclude(pk=chunk.pk).values_list("attempts", flat=True)
    ) == {1}
    assert sorted(Workout.objects.filter(team=team).values_list("name", flat=True)) == ["After", "Before"]
