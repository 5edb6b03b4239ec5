"""After Redis loses its data: due webhook deliveries are found in PostgreSQL (the delivery log) and
sent once, and /healthz counts the live workers again by their heartbeats."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rq import SimpleWorker

from tests.batch.conftest import wait_until
from webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET = "whsec_" + "A" * 43 + "="


def burst(q) -> None:
    SimpleWorker([q], connection=q.connection).work(burst=True, logging_level="WARNING")


@pytest.mark.django_db(transaction=True)
def test_a_due_retry_lost_with_redis_is_found_in_postgres_and_sent_once(
    receiver, webhook_queue, team, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=receiver.url, events=["batch.completed"], secret=SECRET
    )
    now = timezone.now()
    # A retry that was scheduled in RQ (now flushed away) and is due; one not due yet; one delivered.
    due = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="batch.completed",
        msg_id="msg_due",
        payload={"type": "batch.completed"},
        attempts=1,
        next_attempt_at=now - dt.timedelta(seconds=5),
    )
    later = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="batch.completed",
        msg_id="msg_later",
        payload={"type": "batch.completed"},
        attempts=1,
        next_attempt_at=now + dt.timedelta(hours=1),
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="batch.completed", msg_id="msg_done", payload={}, status="succeeded"
    )
    webhook_queue.connection.flushdb()
    assert webhook_queue.count == 0
    call_command("webhook_recover", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("webhook_recover", stdout=open("/dev/null", "w"))  # twice: two jobs for one delivery  # noqa: SIM115
    assert webhook_queue.count == 2
    burst(webhook_queue)
    assert [json.loads(body)["type"] for _, body in receiver.requests] == ["batch.completed"]
    assert receiver.requests[0][0]["webhook-id"] == "msg_due"
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == "succeeded" and due.attempts == 2
    assert later.status == "pending" and later.attempts == 1


@pytest.mark.serial  # measures time: runs alone, after the parallel part
@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_healthz_counts_workers_by_heartbeat_after_a_flush(workers, settings):
    settings.HEALTHZ_MIN_WORKERS = 1
    client = Client()

    def live() -> int:
        return client.get("/healthz").json()["checks"]["workers"].get("live", -1)

    from rq import Queue, Worker

    from hockeyhub.metrics import _redis

    queue = Queue(settings.RQ_QUEUE_NAME, connection=_redis())
    workers.start(BATCH_RECOVER_ON_WORKER_START="false")
    workers.start(BATCH_RECOVER_ON_WORKER_START="false")
    # Both have registered with RQ (not just a heartbeat an earlier test's killed worker left behind).
    wait_until(lambda: len(Worker.all(queue=queue)) >= 2 and live() >= 2, timeout=30)
    _redis().flushdb()
    wait_until(lambda: live() == 2, timeout=25)  # within one heartbeat (15 s) both are back
    # RQ's own registry, which /healthz used to count, stays empty until the workers restart.
    assert Worker.all(queue=queue) == []
    response = client.get("/healthz")
    assert response.status_code == 200
