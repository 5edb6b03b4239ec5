"""The admin with a 100,000-item batch: the batch page links to its items instead of rendering them, and
both pages answer in under a second with a bounded number of queries."""

from __future__ import annotations

import time
from itertools import islice

import pytest
from django.db import connection
from django.urls import reverse

from batch.models import Batch, BatchChunk, BatchItem
from batch.sql import copy_insert

pytestmark = pytest.mark.django_db

ITEMS = 100_000
FAILED_EVERY = 1_000  # 100 failed items
MAX_QUERIES = 12  # session, user, the object or page, counts; independent of the item count
MAX_SECONDS = 1.0


@pytest.fixture
def big_batch(team, trainer):
    batch = Batch.objects.create(
        team=team,
        created_by=trainer,
        status=Batch.Status.COMPLETED_WITH_ERRORS,
        total_items=ITEMS,
        succeeded=ITEMS - ITEMS // FAILED_EVERY,
        failed=ITEMS // FAILED_EVERY,
        total_chunks=ITEMS // 1000,
        done_chunks=ITEMS // 1000,
    )
    chunk = BatchChunk.objects.create(batch=batch, seq=0, item_count=ITEMS, status=BatchChunk.Status.DONE)
    rows = (
        {
            "batch": batch.pk,
            "chunk": chunk.pk,
            "seq": seq,
            "op_id": f"op-{seq}",
            "type": "UPDATE",
            "data": {"workoutId": seq, "updates": {"notes": "x" * 40}},
            "priority": 0,
            "dependencies": [],
            "depends_on": [],
            "conflict_resolution": "",
            "status": "FAILED" if seq % FAILED_EVERY == 0 else "SUCCEEDED",
            "attempts": 1,
            "result": {"workoutId": seq, "version": 2},
            "error": {"code": "VERSION_CONFLICT", "message": "edited since"}
            if seq % FAILED_EVERY == 0
            else None,
            "warnings": [],
        }
        for seq in range(ITEMS)
    )
    # Columns this test does not care about get their model defaults, whatever fields the model grows.
    defaults = {
        f.name: f.get_default()
        for f in BatchItem._meta.concrete_fields
        if not f.primary_key and not f.null and f.has_default()
    }
    while part := [{**defaults, **row} for row in islice(rows, 10_000)]:
        copy_insert(BatchItem, part, list(part[0]))
    with connection.cursor() as cursor:
        # Production tables have planner statistics (autovacuum); a table filled a second ago does not.
        cursor.execute(f"ANALYZE {BatchItem._meta.db_table}")
    return batch


def timed_get(client, url: str, django_assert_max_num_queries, tries: int = 3):
    """GET `url` a few times, each within MAX_QUERIES; return the response and the best time.

    The time is what the request costs: this process's CPU time (the whole Django stack runs here) plus
    the database's time for its queries. Wall-clock time would also count waiting for a CPU on the
    shared 2-core machine that runs the suite next to other work; any work that grows with the batch
    (rendering or loading 100,000 items) shows up in the cost all the same.
    """
    best = float("inf")
    for _ in range(tries):
        with django_assert_max_num_queries(MAX_QUERIES) as queries:
            cpu = time.process_time()
            response = client.get(url)
            cpu = time.process_time() - cpu
        assert response.status_code == 200
        best = min(best, cpu + sum(float(q["time"]) for q in queries.captured_queries))
    return response, best


@pytest.fixture
def warm(staff_client, team, trainer):
    """Load the admin's templates once, on a small batch, so the timing is of the data, not of start-up."""
    small = Batch.objects.create(team=team, created_by=trainer, status=Batch.Status.COMPLETED)
    BatchItem.objects.create(
        batch=small, seq=0, op_id="warm", type="UPDATE", status="FAILED", error={"code": "X"}
    )
    staff_client.get(reverse("admin:batch_batch_change", args=[small.pk]))
    staff_client.get(reverse("admin:batch_batchitem_changelist") + f"?batch={small.pk}")
    return staff_client


def test_the_batch_page_of_100k_items_links_to_them_fast_and_in_bounded_queries(
    warm, big_batch, django_assert_max_num_queries
):
    url = reverse("admin:batch_batch_change", args=[big_batch.pk])
    response, elapsed = timed_get(warm, url, django_assert_max_num_queries)
    body = response.content.decode()
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    items_url = reverse("admin:batch_batchitem_changelist")
    assert f'href="{items_url}?batch={big_batch.pk}">All 100000 items</a>' in body
    assert f"?batch={big_batch.pk}&amp;status__exact=FAILED" in body and ">100 failed</a>" in body
    assert "op-99999" not in body and "op-1<" not in body  # no item is rendered on the batch page


def test_the_item_list_of_a_100k_batch_pages_fast_and_in_bounded_queries(
    warm, big_batch, django_assert_max_num_queries
):
    base = reverse("admin:batch_batchitem_changelist") + f"?batch={big_batch.pk}"
    first, elapsed = timed_get(warm, base, django_assert_max_num_queries)
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    body = first.content.decode()
    assert (
        body.count('class="field-seq') == 50 and "op-0<" in body and "op-49<" in body and "op-50<" not in body
    )
    assert "100000 batch items" in body

    # The last page walks the (batch, seq) index past 99,950 entries (about 60 ms on an idle machine);
    # it must stay in bounded queries and right, its time is not asserted.
    last, _ = timed_get(warm, base + "&p=2000", django_assert_max_num_queries, tries=1)
    assert "op-99999<" in last.content.decode() and "op-99949<" not in last.content.decode()

    failed, elapsed = timed_get(warm, base + "&status__exact=FAILED", django_assert_max_num_queries)
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    assert failed.content.decode().count('class="field-seq') == 50
    assert "VERSION_CONFLICT" in failed.content.decode()


def test_an_item_page_is_read_only_and_a_bad_batch_filter_is_an_empty_list(warm, big_batch):
    item = BatchItem.objects.get(batch=big_batch, seq=5)
    page = warm.get(reverse("admin:batch_batchitem_change", args=[item.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    bad = warm.get(reverse("admin:batch_batchitem_changelist") + "?batch=abc")
    assert bad.status_code == 200 and 'class="field-seq' not in bad.content.decode()
