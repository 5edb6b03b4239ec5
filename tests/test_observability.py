"""/metrics, /healthz and Sentry: real PostgreSQL, Redis and RQ worker processes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from batch.models import Batch
from batch.queueing import queue
from hockeyhub.metrics import _key, _redis, webhook_failure
from tests.batch import conftest as batch_fixtures
from tests.batch.conftest import wait_final, wait_until

ROOT = Path(__file__).resolve().parents[1]
# Real RQ worker processes and the submit helper, shared with the engine tests.
rq_queue, submit, workers = batch_fixtures.rq_queue, batch_fixtures.submit, batch_fixtures.workers


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """GET /metrics and return {sample name: {label items: value}}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture(autouse=True)
def _metrics_public(settings):
    """These tests scrape without a token: declare /metrics public, as a closed network would."""
    settings.METRICS_PUBLIC = True


@pytest.fixture
def clean_metrics():
    redis = _redis()
    redis.delete(_key("chunk_duration"), _key("webhook_failures"))
    yield
    redis.delete(_key("chunk_duration"), _key("webhook_failures"))


# /metrics -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_when_one_is_set(settings, client):
    settings.METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic scrape-secret-123"}).status_code == 401
    assert "hockeyhub_batches" in scrape(client, Authorization="Bearer scrape-secret-123")
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200  # METRICS_PUBLIC=true (the fixture below)


@pytest.mark.django_db
def test_metrics_without_a_token_are_closed_unless_declared_public(settings, client):
    settings.METRICS_TOKEN, settings.METRICS_PUBLIC = "", False
    closed = client.get("/metrics")
    assert closed.status_code == 401 and b"METRICS_PUBLIC=true" in closed.content
    assert b"hockeyhub_" not in closed.content
    settings.METRICS_PUBLIC = True
    assert "hockeyhub_batches" in scrape(client)


@pytest.mark.django_db
def test_state_gauges_are_read_from_the_database_at_scrape_time(client, team, trainer, clean_metrics):
    now = timezone.now()
    Batch.objects.create(team=team, created_by=trainer, status="QUEUED", total_items=4, queued_at=now)
    Batch.objects.create(
        team=team,
        created_by=trainer,
        status="COMPLETED_WITH_ERRORS",
        total_items=10,
        succeeded=6,
        failed=3,
        conflicted=1,
    )
    Batch.objects.create(
        team=team, created_by=trainer, status="RUNNING", total_items=5, succeeded=2, skipped=1
    )
    webhook_failure(reason="HTTP 503")
    webhook_failure(reason="HTTP 503")
    webhook_failure(reason="timeout")
    samples = scrape(client)
    batches = {dict(k)["state"]: v for k, v in samples["hockeyhub_batches"].items()}
    assert batches["QUEUED"] == 1 and batches["RUNNING"] == 1 and batches["COMPLETED_WITH_ERRORS"] == 1
    assert batches["UNDONE"] == 0
    items = {dict(k)["outcome"]: v for k, v in samples["hockeyhub_batch_items"].items()}
    assert items == {
        "succeeded": 8,
        "failed": 3,
        "skipped": 1,
        "cancelled": 0,
        "conflict": 1,
        "pending": 19 - 13,
    }
    assert samples["hockeyhub_batch_oldest_waiting_age_seconds"][()] >= 0
    failures = {dict(k)["reason"]: v for k, v in samples["hockeyhub_webhook_failures_total"].items()}
    assert failures == {"http_503": 2, "timeout": 1}
    assert samples["hockeyhub_queue_depth"][(("queue", settings.RQ_QUEUE_NAME),)] >= 0
    sources = {dict(k)["source"]: v for k, v in samples["hockeyhub_metrics_source_up"].items()}
    assert sources == {"database": 1, "rq": 1, "redis": 1}


@pytest.mark.django_db
def test_a_broken_source_is_reported_and_the_rest_still_served(settings, client):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    samples = scrape(client)
    sources = {dict(k)["source"]: v for k, v in samples["hockeyhub_metrics_source_up"].items()}
    assert sources["database"] == 1 and sources["redis"] == 0
    assert "hockeyhub_batches" in samples and "hockeyhub_batch_chunk_duration_seconds_count" not in samples


@pytest.mark.worker
def test_chunk_durations_recorded_by_worker_processes_show_in_this_process(
    client, submit, workers, clean_metrics
):
    batch = submit(
        [
            {"id": f"c{i}", "type": "CREATE", "data": {"workout": {"name": f"M{i}", "type": "STRENGTH"}}}
            for i in range(12)
        ],
        chunkSize=4,
        maxConcurrency=2,
    )
    workers.start()
    workers.start()
    batch = wait_final(batch.pk)
    assert batch.status == Batch.Status.COMPLETED and batch.total_chunks == 3
    # The batch may end before the second worker has registered (a loaded machine): wait for it.
    wait_until(lambda: len(Worker.all(queue=queue())) >= 2, timeout=30)
    samples = scrape(client)
    histogram = samples["hockeyhub_batch_chunk_duration_seconds_bucket"]
    assert histogram[(("le", "+Inf"),)] == 3
    assert samples["hockeyhub_batch_chunk_duration_seconds_count"][()] == 3
    assert 0 < samples["hockeyhub_batch_chunk_duration_seconds_sum"][()] < 60
    buckets = [v for k, v in sorted(histogram.items(), key=lambda kv: float(dict(kv[0])["le"]))]
    assert buckets == sorted(buckets)  # cumulative
    batches = {dict(k)["state"]: v for k, v in samples["hockeyhub_batches"].items()}
    assert batches["COMPLETED"] == 1
    assert samples["hockeyhub_workers"][(("queue", settings.RQ_QUEUE_NAME),)] >= 2


# /healthz -----------------------------------------------------------------------------------------


@pytest.mark.worker
def test_healthz_is_200_with_database_redis_and_a_live_worker(client, workers):
    workers.start()
    wait_until(lambda: len(Worker.all(queue=queue())) >= 1, timeout=30)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "workers": "ok",
    }
    assert body["checks"]["workers"]["live"] >= 1


@pytest.mark.django_db
def test_healthz_is_503_without_a_live_worker(settings, client):
    settings.RQ_QUEUE_NAME = "hh-healthz-nobody-listens"
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "fail"
    assert body["checks"]["workers"] == {
        **body["checks"]["workers"],
        "status": "fail",
        "live": 0,
        "required": 1,
    }
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["redis"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down_and_names_no_address(settings, client):
    settings.REDIS_URL = "redis://:hunter2-secret@127.0.0.1:1/0"
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"] == {
        **body["checks"]["redis"],
        "status": "fail",
        "error": "ConnectionError",
    }
    assert body["checks"]["workers"]["status"] == "fail"
    assert "127.0.0.1" not in response.content.decode() and "hunter2" not in response.content.decode()


HEALTH_PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_healthz_is_503_when_the_database_is_down_and_names_no_address():
    # A separate process: this one's database connection is the test database's.
    result = run_python(HEALTH_PROBE, DATABASE_URL="postgres://app:db-secret-pw@127.0.0.1:1/hockeyhub")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 503
    assert probe["body"]["checks"]["database"]["status"] == "fail"
    assert probe["body"]["checks"]["database"]["error"] == "OperationalError"
    assert probe["body"]["checks"]["redis"]["status"] == "ok"
    assert "db-secret-pw" not in result.stdout and "127.0.0.1" not in result.stdout
    assert "db-secret-pw" not in result.stderr  # nor in its log lines


# Sentry -------------------------------------------------------------------------------------------


SENTRY_PROBE = """
import django, sentry_sdk
django.setup()
print("active" if sentry_sdk.get_client().is_active() else "inactive")
"""

SENTRY_CAPTURE = """
import django, sentry_sdk
django.setup()
from django.conf import settings
from django.utils import timezone
try:
    raise RuntimeError(f"cannot reach {settings.DATABASE_URL} with {settings.SECRET_KEY}")
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(10)
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_sentry_is_initialised_with_a_dsn_and_not_without():
    assert run_python(SENTRY_PROBE).stdout.strip() == "inactive"
    with_dsn = run_python(SENTRY_PROBE, SENTRY_DSN="http://publickey@127.0.0.1:9/1")
    assert with_dsn.stdout.strip() == "active", with_dsn.stderr


def test_errors_reach_sentry_without_secrets():
    received: list[bytes] = []

    class Ingest(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding == "br":
                import brotli  # only when the SDK chose brotli, which needs the package

                body = brotli.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_python(SENTRY_CAPTURE, SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    payload = b"".join(received).decode()
    assert "RuntimeError" in payload and "cannot reach [redacted] with [redacted]" in payload
    assert settings.DATABASE_URL not in payload and json.dumps(settings.SECRET_KEY)[1:-1] not in payload


# Logs ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_runner_log_lines_carry_the_batch_slot_and_job_ids(submit, rq_queue):
    from rq import SimpleWorker

    from tests.test_serving import captured_logs

    batch = submit(
        [{"id": "c", "type": "CREATE", "data": {"workout": {"name": "Logged", "type": "STRENGTH"}}}]
    )
    with captured_logs() as logs:
        SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True, logging_level="WARNING")
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    finished = next(line for line in lines if line["event"].startswith(f"batch {batch.pk} finished"))
    assert finished["batch_id"] == batch.pk and finished["slot"] == 0 and finished["job_id"]
    assert finished["logger"] == "batch" and finished["level"] == "info" and finished["ts"].endswith("Z")


@pytest.mark.django_db
def test_failed_webhook_deliveries_are_counted_by_reason(settings, client, team, clean_metrics):
    from tests.webhooks.conftest import Receiver
    from webhooks.models import WebhookDelivery, WebhookEndpoint
    from webhooks.services import webhook_deliver

    receiver = Receiver(answers=[503, 404])
    try:
        settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
        settings.WEBHOOK_RETRY_HOURS = 0  # give up at once: no retry job is left queued for later tests
        endpoint = WebhookEndpoint.objects.create(
            team=team, url=receiver.url, events=["batch.completed"], secret="whsec_" + "A" * 43 + "="
        )
        deliveries = [
            WebhookDelivery.objects.create(
                endpoint=endpoint, event="batch.completed", msg_id=f"msg_{i}", payload={"type": "x"}
            )
            for i in range(3)
        ]
        webhook_deliver(delivery_id=deliveries[0].pk)  # 503
        webhook_deliver(delivery_id=deliveries[1].pk)  # 404
        settings.WEBHOOK_ALLOWED_HOSTS = []
        webhook_deliver(delivery_id=deliveries[2].pk)  # an internal address, refused
    finally:
        receiver.close()
    failures = {dict(k)["reason"]: v for k, v in scrape(client)["hockeyhub_webhook_failures_total"].items()}
    # Each failed attempt counts by its reason; a delivery that will not be tried again also counts as
    # gave_up (here all three: no retry window, and a refusal is final).
    assert failures == {"http_5xx": 1, "http_4xx": 1, "refused": 1, "gave_up": 3}
