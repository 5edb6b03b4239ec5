"""Chunks sized by time: without an explicit chunkSize a chunk holds about BATCH_CHUNK_TARGET_MS of work."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from batch.models import Batch, BatchChunk, BatchItem
from batch.planner import plan_chunks
from batch.request import Operation
from batch.selectors import DEFAULT_COSTS_MS
from batch.selectors import costs as selector_costs
from batch.services import batch_cancel
from tests.batch.conftest import wait_final, wait_until
from tests.batch.test_workers import create_ops


def ops(op_type: str, n: int, start: int = 0) -> list[Operation]:
    return [Operation(id=f"{op_type}{i}", type=op_type, data={}, seq=i) for i in range(start, start + n)]


def sizes(chunks) -> list[int]:
    return [len(chunk) for _, chunk in chunks]


def test_without_a_chunk_size_chunks_hold_the_target_duration_of_measured_work(settings):
    settings.BATCH_CHUNK_TARGET_MS = 250
    costs = {"CREATE": 1.0, "ASSIGN": 4.0, "_chunk": 50.0}
    assert sizes(plan_chunks(ops("CREATE", 450), chunk_size=None, costs=costs)) == [200, 200, 50]
    assert sizes(plan_chunks(ops("ASSIGN", 120), chunk_size=None, costs=costs)) == [50, 50, 20]
    # Mixed types weigh what each costs: 100 CREATEs (100 ms) leave room for 25 ASSIGNs (100 ms).
    mixed = ops("CREATE", 100) + ops("ASSIGN", 100, start=100)
    assert sizes(plan_chunks(mixed, chunk_size=None, costs=costs)) == [125, 50, 25]


def test_an_explicit_chunk_size_is_honoured_whatever_the_costs():
    costs = {"CREATE": 100.0, "_chunk": 50.0}
    assert sizes(plan_chunks(ops("CREATE", 23), chunk_size=7, costs=costs)) == [7, 7, 7, 2]


def test_time_sized_chunks_keep_to_the_size_cap_and_to_one_operation_at_least(settings):
    settings.BATCH_CHUNK_TARGET_MS = 250
    settings.BATCH_MAX_CHUNK_SIZE = 300
    assert sizes(plan_chunks(ops("CREATE", 700), chunk_size=None, costs={"CREATE": 0.01})) == [300, 300, 100]
    assert sizes(plan_chunks(ops("CREATE", 3), chunk_size=None, costs={"CREATE": 900.0})) == [1, 1, 1]


@pytest.mark.django_db
def test_sizes_are_learned_from_the_measured_cost_per_type(submit, settings):
    settings.BATCH_CHUNK_TARGET_MS = 250
    history = submit(create_ops(3), chunkSize=10)
    BatchItem.objects.filter(batch=history).update(
        status=BatchItem.Status.SUCCEEDED, duration_ms=2.0, finished_at=timezone.now()
    )
    selector_costs._cost_cache = None  # what a minute later looks like (costs are cached per process)
    batch = submit(create_ops(500))
    assert batch.options["chunk_size"] is None
    per_chunk = int((250 - DEFAULT_COSTS_MS["_chunk"]) / 2.0)  # 119 CREATEs of 2 ms each
    assert list(BatchChunk.objects.filter(batch=batch).values_list("item_count", flat=True)) == [
        per_chunk,
        per_chunk,
        per_chunk,
        per_chunk,
        500 - 4 * per_chunk,
    ]
    assert batch.estimate["chunks"] == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_time_sized_chunks_move_progress_every_second_and_cancel_within_one(submit, workers, trainer):
    batch = submit(create_ops(12_000), parallel=False)
    assert batch.options["chunk_size"] is None and batch.total_chunks > 1
    workers.start()
    wait_until(lambda: Batch.objects.get(pk=batch.pk).done_chunks >= 3, timeout=60)
    asked = time.monotonic()
    batch_cancel(batch_id=batch.pk, user=trainer)
    batch = wait_final(batch.pk, timeout=10)
    # Chunks aim at 250 ms; the bounds leave room for a machine shared with other work.
    assert time.monotonic() - asked < 2.0
    assert batch.status == Batch.Status.CANCELLED and batch.cancelled > 0
    durations = list(
        BatchChunk.objects.filter(batch=batch, duration_ms__isnull=False).values_list(
            "duration_ms", flat=True
        )
    )
    assert len(durations) >= 3 and max(durations) < 1500, durations
