"""Ids and indexes from the URL are range-checked before they reach the database or a list: a
non-ASCII digit, a number past bigint, a queue index that names no queue answer 4xx, never 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 30, "0", "-1"])
def test_notice_ids_that_are_not_batch_ids_are_400(trainer_client, value):
    assert trainer_client.get("/batches/notifications/", {"shown": value}).status_code == 400
    assert trainer_client.post("/batches/notifications/", {"seen": value}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/admin/rq/queues/99/",
        "/admin/rq/queues/99/details/",
        "/admin/rq/queues/99/finished/",
        "/admin/rq/queues/99/failed/",
        "/admin/rq/queues/99/failed/clear/",
        "/admin/rq/queues/99/scheduled/",
        "/admin/rq/queues/99/started/",
        "/admin/rq/queues/99/deferred/",
        "/admin/rq/queues/99/empty/",
        "/admin/rq/queues/99/requeue-all/",
        "/admin/rq/queues/99/some-job/",
        "/admin/rq/queues/99/some-job/delete/",
        "/admin/rq/queues/confirm-action/99/",
        "/admin/rq/queues/actions/99/",
        "/admin/rq/workers/99/",
        "/admin/rq/workers/99/w1/",
        "/admin/rq/schedulers/99/",
        "/admin/rq/queues/999999999999999999999999999999/",
    ],
)
def test_rq_dashboard_queue_index_out_of_range_is_404(staff, path):
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    assert client.get(path).status_code == 404
    assert client.post(path).status_code in (404, 405)
