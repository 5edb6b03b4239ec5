"""Chunks sized by time: without an explicit chunkSize a chunk holds about BATCH_CHUNK_TARGET_MS of work."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchChunk
from batch.planner import plan_chunks
from batch.queueing import live_workers
from batch.request import Operation
from batch.selectors import DEFAULT_COSTS_MS, Progress
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


def history(submit, sizes_and_ms: list[tuple[int, float]], op_type: str = "CREATE") -> None:
    """Finished single-type chunks of these sizes that took these many ms (what runners record)."""
    done = submit(create_ops(1), chunkSize=1)
    now = timezone.now()
    BatchChunk.objects.bulk_create(
        BatchChunk(
            batch=done,
            seq=100 + n,
            item_count=size,
            op_type=op_type,
            status=BatchChunk.Status.DONE,
            finished_at=now,
            duration_ms=ms,
        )
        for n, (size, ms) in enumerate(sizes_and_ms)
    )
    selector_costs._cost_cache = None  # what a minute later looks like (costs are cached per process)


@pytest.mark.django_db
def test_sizes_are_learned_from_a_fixed_cost_per_chunk_and_a_cost_per_item(submit, settings):
    settings.BATCH_CHUNK_TARGET_MS = 250
    # 11 ms per chunk plus 2 ms per CREATE, as least squares finds it from three chunk sizes.
    history(submit, [(10, 31.0), (50, 111.0), (100, 211.0), (100, 211.0)])
    fit = {f.op_type: f for f in selector_costs.fit_costs()}["CREATE"]
    assert fit.fitted and fit.item_ms == pytest.approx(2.0) and fit.fixed_ms == pytest.approx(11.0)
    batch = submit(create_ops(500))
    assert batch.options["chunk_size"] is None
    per_chunk = int((250 - 11) / 2.0)  # 119 CREATEs of 2 ms each after the chunk's own 11 ms
    sizes = list(BatchChunk.objects.filter(batch=batch).values_list("item_count", flat=True))
    assert sizes == [per_chunk] * 4 + [500 - 4 * per_chunk]
    assert batch.estimate["chunks"] == 5
    assert (
        BatchChunk.objects.filter(batch=batch).values_list("op_type", flat=True).distinct().get() == "CREATE"
    )


@pytest.mark.django_db
def test_a_history_of_tiny_batches_does_not_shrink_the_chunks_of_a_big_one(submit, settings):
    settings.BATCH_CHUNK_TARGET_MS = 250
    settings.BATCH_MAX_CHUNK_SIZE = 1000
    # Ten 2-operation batches whose chunks took 39 ms each: 19.5 ms per operation if the chunk's fixed
    # cost were put on its items (then 12 operations a chunk). Sizes that never vary cannot tell the
    # two apart: the fixed cost takes the time, the item cost stays the default.
    history(submit, [(2, 39.0)] * 10)
    fit = {f.op_type: f for f in selector_costs.fit_costs()}["CREATE"]
    assert not fit.fitted and fit.item_ms == DEFAULT_COSTS_MS["CREATE"]
    assert fit.fixed_ms == pytest.approx(39.0 - 2 * DEFAULT_COSTS_MS["CREATE"])
    batch = submit(create_ops(20_000))
    per_chunk = int((250 - fit.fixed_ms) / DEFAULT_COSTS_MS["CREATE"])
    assert batch.total_chunks == -(-20_000 // per_chunk) and per_chunk > 500
    # The estimate counts the fixed cost once a chunk: about 7 s of CREATEs plus 34 chunks, not 390 s.
    assert batch.estimate["seconds"] < 10


@pytest.mark.django_db
def test_mixed_chunks_and_other_types_do_not_teach_create(submit):
    history(submit, [(10, 500.0), (50, 2500.0), (100, 5000.0)], op_type="")
    history(submit, [(10, 100.0), (50, 500.0), (100, 1000.0)], op_type="ASSIGN")
    costs = selector_costs.measured_costs()
    assert costs["CREATE"] == DEFAULT_COSTS_MS["CREATE"] and costs["ASSIGN"] == pytest.approx(10.0)


@pytest.mark.django_db
def test_the_estimate_divides_by_the_workers_alive_not_the_concurrency_asked(submit, rq_queue):
    # No worker listens: five runner slots still run one after another once one starts.
    one = submit(create_ops(5000), chunkSize=100, maxConcurrency=5)
    assert one.estimate["runners"] == 5 and one.estimate["workers"] == 0
    chunk_ms = DEFAULT_COSTS_MS["_chunk"]
    alone = (5000 * DEFAULT_COSTS_MS["CREATE"] + 50 * chunk_ms) / 1000
    assert one.estimate["seconds"] == pytest.approx(alone, abs=0.01)


@pytest.mark.serial  # measures time: runs alone, after the parallel part
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_with_two_workers_alive_the_estimate_halves_and_the_page_says_how_far_off_it_was(
    submit, workers, trainer, client
):
    workers.start()
    workers.start()
    wait_until(lambda: live_workers() == 2, timeout=30)
    batch = submit(create_ops(2000), chunkSize=100, maxConcurrency=5)
    assert batch.estimate["workers"] == 2
    alone = (
        2000 * selector_costs.measured_costs()["CREATE"] + 20 * selector_costs.measured_costs()["_chunk"]
    ) / 1000
    assert batch.estimate["seconds"] == pytest.approx(alone / 2, abs=0.02)
    batch = wait_final(batch.pk, timeout=60)
    client.force_login(trainer)
    page = client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    check = Progress(batch).estimate_check
    assert check is not None and check["estimatedSeconds"] == batch.estimate["seconds"]
    assert 'data-testid="estimate-check"' in page and check["words"] in page
    # The chunks it ran teach the fit: single-type chunks of 100 CREATEs.
    assert set(BatchChunk.objects.filter(batch=batch).values_list("op_type", flat=True)) == {"CREATE"}
