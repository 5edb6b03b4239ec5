"""Webhooks end to end: a real worker process runs the batch and delivers signed events to a real HTTP
receiver; a 500 answer is retried with the same webhook-id; internal targets are refused (SSRF)."""

from __future__ import annotations

import json
import socket

import pytest
from standardwebhooks import Webhook

from batch.models import Batch
from hockeyhub import metrics
from tests.api.conftest import ApiClient, make_token
from tests.batch.conftest import wait_final, wait_until
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import retry_delay, webhook_deliver
from webhooks.ssrf import UnsafeTarget, check_url


def create_op(op_id: str) -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": f"W {op_id}", "type": "STRENGTH"}}}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_signed_events_reach_a_real_receiver_and_a_500_is_retried(workers, receiver, trainer, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    api = ApiClient(make_token(trainer, team))
    created = api.post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["batch.completed", "batch.undone"]}
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in api.get(f"/api/v1/webhooks/{created.json()['id']}").json()

    receiver.answers = [500]  # the first delivery fails; the retry must succeed
    submitted = api.post(
        "/api/v1/batches",
        {"operations": [create_op("a"), create_op("b")], "metadata": {"callbackUrl": receiver.url}},
    )
    assert submitted.status_code == 202, submitted.content
    batch_id = submitted.json()["id"]
    workers.start(WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_RETRY_BASE_SECONDS="1")
    assert wait_final(batch_id, timeout=120).status == Batch.Status.COMPLETED
    wait_until(lambda: len(receiver.requests) >= 2, timeout=90)

    verifier = Webhook(secret)
    (first_headers, first_body), (second_headers, second_body) = receiver.requests[:2]
    for headers, body in receiver.requests[:2]:
        payload = verifier.verify(body, headers)  # raises if the signature does not match
        assert payload["type"] == "batch.completed" and payload["data"]["id"] == batch_id
        assert payload["data"]["summary"] == {
            "total": 2,
            "successful": 2,
            "failed": 0,
            "skipped": 0,
            "cancelled": 0,
            "conflicts": 0,
            "withWarnings": 0,
        }
    assert first_headers["webhook-id"] == second_headers["webhook-id"]  # a retry is the same message
    with pytest.raises(Exception):  # noqa: B017 - any verification error
        Webhook("whsec_" + "A" * 43 + "=").verify(first_body, first_headers)
    delivery = WebhookDelivery.objects.get(batch_id=batch_id, event="batch.completed")
    wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded", timeout=60)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and [entry["status"] for entry in delivery.log] == [500, 200]

    # Undo through the API: the original ends UNDONE and batch.undone is delivered.
    undo = api.post(f"/api/v1/batches/{batch_id}/undo")
    assert undo.status_code == 202, undo.content
    wait_final(undo.json()["id"], timeout=120)
    wait_until(lambda: Batch.objects.get(pk=batch_id).status == Batch.Status.UNDONE, timeout=90)
    wait_until(lambda: len(receiver.requests) >= 3, timeout=90)
    headers, body = receiver.requests[2]
    assert verifier.verify(body, headers)["type"] == "batch.undone"

    # The delivery log is readable through the API, and redelivery sends the event once more.
    endpoint_id = created.json()["id"]
    log = api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()["data"]
    assert {d["event"] for d in log} == {"batch.completed", "batch.undone"}
    again = api.post(f"/api/v1/webhooks/{endpoint_id}/deliveries/{delivery.pk}/redeliver")
    assert again.status_code == 202
    wait_until(lambda: len(receiver.requests) >= 4, timeout=90)
    headers, body = receiver.requests[3]
    assert verifier.verify(body, headers)["data"]["id"] == batch_id
    assert headers["webhook-id"] != first_headers["webhook-id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[2002:7f00:1::]/hook",  # 6to4 hiding 127.0.0.1
        "http://[2002:5db8:d822::1]/hook",  # 6to4 of a public address: still a tunnel, refused
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
        "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_internal_targets_are_refused(trainer, team, settings, url):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    api = ApiClient(make_token(trainer, team))
    response = api.post("/api/v1/webhooks", {"url": url, "events": ["batch.completed"]})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "WEBHOOK_REFUSED"
    assert response.json()["errors"][0]["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


def test_every_resolved_address_is_checked(monkeypatch, settings):
    """A name with one public and one private address is refused (DNS answers stubbed here)."""
    settings.WEBHOOK_ALLOWED_HOSTS = []

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(UnsafeTarget, match="not a public address") as refused:
        check_url("https://hooks.example.org/in")
    assert "10.0.0.7" not in refused.value.message  # what an internal name resolves to stays secret
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
    assert check_url("https://hooks.example.org/in").address == "93.184.216.34"


@pytest.mark.django_db
def test_a_target_that_turned_internal_is_refused_at_delivery(receiver, trainer, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=receiver.url, events=["batch.completed"], secret="whsec_" + "A" * 43 + "="
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="batch.completed", msg_id="msg_x", payload={"type": "batch.completed"}
    )
    settings.WEBHOOK_ALLOWED_HOSTS = []
    counters = metrics._redis(), metrics._key("webhook_failures")
    before = {k: int(v) for k, v in counters[0].hgetall(counters[1]).items()}
    assert webhook_deliver(delivery_id=delivery.pk) == "gave up"
    after = {k: int(v) for k, v in counters[0].hgetall(counters[1]).items()}
    for reason in (b"refused", b"gave_up"):
        assert after.get(reason, 0) == before.get(reason, 0) + 1, (before, after)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.log[0]["error"].startswith("refused:")
    assert receiver.requests == []


@pytest.mark.django_db
def test_callback_url_must_be_a_registered_endpoint(trainer, team, settings, receiver):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    api = ApiClient(make_token(trainer, team))
    body = {"operations": [create_op("a")], "metadata": {"callbackUrl": receiver.url}}
    refused = api.post("/api/v1/batches", body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "metadata.callbackUrl"
    api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["batch.failed"]})
    assert api.post("/api/v1/batches", body).status_code == 202


def test_backoff_grows_exponentially_and_stays_within_a_day(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 5
    delays = [retry_delay(n) for n in range(1, 9)]
    assert delays[:3] == [5, 20, 80]
    assert all(b == 4 * a for a, b in zip(delays, delays[1:], strict=False))
    assert sum(delays[:7]) < 24 * 3600 < sum(delays)  # the 24-hour deadline ends the schedule
    json.dumps(delays)


@pytest.mark.django_db
def test_refusals_do_not_say_what_a_name_resolves_to_or_whether_it_does(trainer, team, settings, monkeypatch):
    """Registering webhooks must not map the internal network: an internal name and a name that does
    not resolve get the same answer, naming neither address nor resolver error."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    answers = {"db.internal.example": "10.20.30.40"}

    def resolve(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(-2, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    api = ApiClient(make_token(trainer, team))
    internal = api.post(
        "/api/v1/webhooks", {"url": "https://db.internal.example/x", "events": ["batch.completed"]}
    )
    missing = api.post(
        "/api/v1/webhooks", {"url": "https://nope.internal.example/x", "events": ["batch.completed"]}
    )
    assert internal.status_code == missing.status_code == 422
    one, other = internal.json()["detail"], missing.json()["detail"]
    assert one.replace("db.", "nope.") == other
    assert "10.20.30.40" not in internal.content.decode() and "not known" not in missing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"url": "https://hooks.example.org/in", "events": ["batch.completed"], "secret": "x"},
            400,
            "secret",
        ),
        ('{"url": "https://x.example/in", "events": ' + "[" * 5000 + "]" * 5000 + "}", 422, "nested deeper"),
        ('{"url": "https://x.example/in\\ud800", "events": ["batch.completed"]}', 422, "surrogate"),
        ('{"url": "https://x.example/in", "events": [], "n": ' + "1" * 5000 + "}", 422, "digits"),
        ("not json", 400, "not valid JSON"),
        ('{"url": "' + "x" * 3_000_000 + '"}', 413, "KiB"),
    ],
)
def test_webhook_bodies_with_unknown_keys_or_unreadable_json_are_refused(
    trainer, team, settings, body, status, words
):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    api = ApiClient(make_token(trainer, team))
    response = api.post("/api/v1/webhooks", body)
    assert response.status_code == status, response.content[:300]
    assert words in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
