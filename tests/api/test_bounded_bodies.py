"""Bodies the API must refuse before any query: too big, too deep, numbers too long, NUL and lone
surrogates, ids and cursors past bigint. Each answers 4xx with a message that says what is wrong, and
nothing is written. And the largest valid request (100,000 operations) is accepted."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.body import MAX_BODY_BYTES
from batch.models import Batch
from hockeyhub.models import AuditEvent

pytestmark = pytest.mark.django_db


def create_op(op_id: str, name: str = "Leg day") -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": name, "type": "STRENGTH"}}}


def deep(levels: int) -> str:
    return '{"operations": [' + "[" * levels + "]" * levels + "]}"


HUGE_INT = "9" * 5000  # past Python's int-from-string limit (4300 digits)
BODIES = {
    "deep nesting": (deep(100_000), "nested deeper"),
    "very long integer": (
        '{"operations": [{"id": "a", "type": "CREATE", "priority": ' + HUGE_INT + ', "data": {}}]}',
        "digits",
    ),
    "integer past bigint as id": (
        json.dumps({"operations": [{"id": "a", "type": "ASSIGN", "data": {"workoutId": 10**30}}]}),
        None,
    ),
    "NUL in a requestId": (
        json.dumps({"operations": [create_op("a")], "metadata": {"requestId": "a\u0000b"}}),
        "NUL",
    ),
    "lone surrogate in a requestId": (
        '{"operations": [{"id": "a", "type": "CREATE", "data": {}}], "metadata": {"requestId": "x\\ud800"}}',
        "surrogate",
    ),
    "lone surrogate in an op id": (
        '{"operations": [{"id": "\\udfff", "type": "CREATE", "data": {}}]}',
        "surrogate",
    ),
    "NUL in a key": ('{"operations": [], "\\u0000": 1}', "NUL"),
    "not UTF-8": (b'{"operations": ["\xff"]}', "UTF-8"),
    "NaN": ('{"operations": [{"id": "a", "type": "CREATE", "priority": NaN, "data": {}}]}', "NaN"),
}


def assert_clear_refusal(response, words: str | None) -> None:
    assert 400 <= response.status_code < 500, response.content[:300]
    problem = response.json()
    text = (problem.get("detail") or problem.get("title") or "") + json.dumps(problem.get("errors", []))
    assert text.strip()
    if words:
        assert words.lower() in text.lower(), problem


@pytest.mark.parametrize("cause", list(BODIES))
@pytest.mark.parametrize("path", ["/api/v1/batches/validate", "/api/v1/batches"])
def test_malformed_bodies_are_refused_with_a_reason_and_write_nothing(trainer_api, path, cause):
    body, words = BODIES[cause]
    events = AuditEvent.objects.count()
    headers = {"Idempotency-Key": "k1"} if "requestId" not in cause else None
    response = trainer_api.post(path, body, headers=headers)
    assert_clear_refusal(response, words)
    assert Batch.objects.count() == 0 and AuditEvent.objects.count() == events


def test_nul_and_surrogate_bodies_are_refused_before_any_query(trainer_api, trainer, team):
    body, _ = BODIES["NUL in a requestId"]
    trainer_api.get("/api/v1/batches")  # warm up the token lookup path
    with CaptureQueriesContext(connection) as queries:
        response = trainer_api.post("/api/v1/batches", body)
    assert response.status_code == 422
    assert not [q for q in queries.captured_queries if "batch_batch" in q["sql"]]


def test_a_body_past_the_limit_is_413_naming_the_limit_before_it_is_read(trainer_api):
    # Content-Length alone decides: the body is not buffered to find out.
    response = trainer_api.client.post(
        "/api/v1/batches/validate",
        b"{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {trainer_api.token}"},
        CONTENT_LENGTH=str(MAX_BODY_BYTES + 1),
    )
    assert response.status_code == 413
    assert f"{MAX_BODY_BYTES // 2**20} MiB" in response.json()["detail"]


def test_a_multipart_body_is_415_not_500(trainer_api):
    response = trainer_api.client.post(
        "/api/v1/batches/validate",
        {"file": "x"},
        headers={"Authorization": f"Bearer {trainer_api.token}"},
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(json.dumps({"k": 2**63}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"k": -(2**63) - 1}).encode()).decode(),
        base64.urlsafe_b64encode(b'{"k": ' + b"9" * 5000 + b"}").decode(),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/batches", "/api/v1/workouts"])
def test_cursors_past_bigint_are_400(trainer_api, cursor, path):
    response = trainer_api.get(path, {"cursor": cursor.rstrip("=")})
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] in ("BAD_CURSOR", "BAD_REQUEST")
    assert "cursor" in response.content.decode().lower()


def test_a_valid_100000_operation_request_is_validated_through_the_api(trainer_api, settings):
    """The documented maximum fits under the body limit (and Django's own form limit is not in the way)."""
    ops = [create_op(f"op-{i:06d}", f"Session {i}") for i in range(100_000)]
    body = json.dumps({"operations": ops}).encode()
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) < MAX_BODY_BYTES
    response = trainer_api.post("/api/v1/batches/validate", body)
    assert response.status_code == 200, response.content[:500]
    report = response.json()
    assert report["valid"] is True and report["summary"]["operations"] == 100_000
