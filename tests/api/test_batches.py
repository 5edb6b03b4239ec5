"""The batch endpoints' contract: 202 + Location, idempotency keys, problem details per operation and
field, quotas as 429 + Retry-After, cursor pagination, results with their target, session + CSRF."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import connection
from django.test import Client

from batch.models import Batch, BatchChunk, BatchItem
from batch.runner.claims import CHUNK_NAMESPACE, chunk_key, claim_chunk, release_chunk
from tests.factories import WorkoutFactory

pytestmark = pytest.mark.django_db


def create_op(op_id: str, name: str = "Leg day") -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": name, "type": "STRENGTH"}}}


def test_submit_answers_202_with_location_and_the_guides_progress_fields(trainer_api):
    response = trainer_api.post("/api/v1/batches", {"operations": [create_op("a"), create_op("b")]})
    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == f"/api/v1/batches/{body['id']}"
    assert body["status"] == "QUEUED" and body["team"] == "hawks" and body["createdBy"] == "alice"
    progress = body["progress"]
    for key in ("percentComplete", "completed", "inProgress", "failed", "successRate", "currentOperation"):
        assert key in progress
    assert progress["currentOperation"] == {"id": "a", "type": "CREATE"}
    assert progress["total"] == 2 and progress["percentComplete"] == 0.0
    # Stored options come back in the exchange (camelCase) shape; no chunkSize: chunks sized by time.
    assert body["options"]["chunkSize"] is None and body["options"]["maxConcurrency"] == 5


def test_in_progress_counts_the_operations_of_the_chunks_runners_hold(trainer_api, transactional_db):
    """inProgress is exact: the operations of the chunks runners have claimed, none before a claim.
    Two runners: this test's connection, and a second session holding the next chunk's claim."""
    ops = [create_op(f"op{i}") for i in range(7)]
    body = trainer_api.post("/api/v1/batches", {"operations": ops, "options": {"chunkSize": 3}}).json()
    Batch.objects.filter(pk=body["id"]).update(status=Batch.Status.RUNNING)

    def in_progress() -> int:
        return trainer_api.get(f"/api/v1/batches/{body['id']}").json()["progress"]["inProgress"]

    assert in_progress() == 0
    first = claim_chunk(body["id"])
    assert in_progress() == 3
    last = BatchChunk.objects.filter(batch_id=body["id"]).order_by("-seq").first()  # 1 operation
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [CHUNK_NAMESPACE, chunk_key(last.pk)])
        assert in_progress() == 4
    release_chunk(first.chunk_id)
    assert in_progress() == 0


def test_same_idempotency_key_and_body_replays_the_first_batch(trainer_api):
    body = {"operations": [create_op("a")]}
    first = trainer_api.post("/api/v1/batches", body, headers={"Idempotency-Key": "sync-42"})
    again = trainer_api.post("/api/v1/batches", body, headers={"Idempotency-Key": "sync-42"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Batch.objects.count() == 1
    assert Batch.objects.get().request_id == "sync-42"


def test_same_key_with_another_body_is_a_409_naming_the_first_batch(trainer_api):
    first = trainer_api.post(
        "/api/v1/batches", {"operations": [create_op("a")], "metadata": {"requestId": "nightly"}}
    )
    clash = trainer_api.post(
        "/api/v1/batches", {"operations": [create_op("a", "Other")], "metadata": {"requestId": "nightly"}}
    )
    assert clash.status_code == 409
    problem = clash.json()
    assert problem["code"] == "IDEMPOTENCY_CONFLICT" and problem["batchId"] == first.json()["id"]
    assert f"batch {first.json()['id']}" in problem["detail"]
    # The header counts as the same key as metadata.requestId.
    by_header = trainer_api.post(
        "/api/v1/batches", {"operations": [create_op("b")]}, headers={"Idempotency-Key": "nightly"}
    )
    assert by_header.status_code == 409


def test_header_and_request_id_that_disagree_are_refused(trainer_api):
    response = trainer_api.post(
        "/api/v1/batches",
        {"operations": [create_op("a")], "metadata": {"requestId": "one"}},
        headers={"Idempotency-Key": "two"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.requestId"


def test_request_problems_name_the_operation_and_field(trainer_api):
    body = {
        "operations": [
            create_op("a"),
            {"id": "b", "type": "ASSIGN", "data": {"workoutId": 1}, "dependencies": ["nope"]},
            {"id": "c", "type": "EXPLODE", "data": {}},
        ]
    }
    response = trainer_api.post("/api/v1/batches", body)
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    errors = {(e["operationId"], e["field"]) for e in response.json()["errors"]}
    assert ("c", "type") in errors
    validation = trainer_api.post("/api/v1/batches/validate", body).json()
    assert validation["valid"] is False and validation["problems"]


def test_item_errors_refuse_the_submit_with_each_operation_named(trainer_api, other_team):
    foreign = WorkoutFactory(team=other_team)
    body = {
        "operations": [
            create_op("ok"),
            {"id": "bad", "type": "UPDATE", "data": {"workoutId": foreign.pk, "updates": {"notes": "x"}}},
        ]
    }
    report = trainer_api.post("/api/v1/batches/validate", body).json()
    assert report["valid"] is False
    assert [i["id"] for i in report["items"] if i["errors"]] == ["bad"]
    response = trainer_api.post("/api/v1/batches", body)
    assert response.status_code == 422
    assert [e["operationId"] for e in response.json()["errors"]] == ["bad"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"x"', b"null"])
def test_a_body_that_is_not_a_request_is_a_problem_never_a_500(trainer_api, body):
    response = trainer_api.post("/api/v1/batches", body)
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_quota_refusal_is_429_with_retry_after(trainer_api, settings):
    settings.BATCH_QUOTA_ACTIVE_PER_USER = 1
    assert trainer_api.post("/api/v1/batches", {"operations": [create_op("a")]}).status_code == 202
    refused = trainer_api.post("/api/v1/batches", {"operations": [create_op("b")]})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "QUOTA_EXCEEDED" and refused.json()["retryAfter"] >= 1


def test_history_pages_with_a_cursor_and_filters(trainer_api, trainer, team, other_trainer):
    for i in range(5):
        Batch.objects.create(
            team=team, created_by=trainer, status=Batch.Status.COMPLETED, description=f"b{i}"
        )
    Batch.objects.create(team=team, created_by=trainer, status=Batch.Status.FAILED)
    first = trainer_api.get("/api/v1/batches", {"limit": 4}).json()
    assert len(first["data"]) == 4 and first["hasMore"] is True
    second = trainer_api.get("/api/v1/batches", {"limit": 4, "cursor": first["nextCursor"]}).json()
    assert len(second["data"]) == 2 and second["hasMore"] is False and second["nextCursor"] is None
    ids = [b["id"] for b in first["data"] + second["data"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    failed = trainer_api.get("/api/v1/batches", {"status": "FAILED"}).json()["data"]
    assert [b["status"] for b in failed] == ["FAILED"]
    assert trainer_api.get("/api/v1/batches", {"createdBy": "bob"}).json()["data"] == []
    assert len(trainer_api.get("/api/v1/batches", {"createdBy": "me"}).json()["data"]) == 6
    bad = trainer_api.get("/api/v1/batches", {"status": "EXPLODED"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"


def test_results_page_by_cursor_with_target_and_status_filter(trainer_api, trainer, team):
    workout = WorkoutFactory(team=team, name="Monday legs")
    batch = Batch.objects.create(team=team, created_by=trainer, status=Batch.Status.COMPLETED_WITH_ERRORS)
    for seq in range(3):
        BatchItem.objects.create(
            batch=batch,
            seq=seq,
            op_id=f"op-{seq}",
            type="UPDATE",
            data={"workoutId": workout.pk, "updates": {}},
            status="FAILED" if seq == 1 else "SUCCEEDED",
            error={"code": "CONFLICT", "message": "m", "suggestedAction": "s"} if seq == 1 else None,
        )
    page = trainer_api.get(f"/api/v1/batches/{batch.pk}/results", {"limit": 2}).json()
    assert [r["id"] for r in page["data"]] == ["op-0", "op-1"] and page["hasMore"]
    rest = trainer_api.get(f"/api/v1/batches/{batch.pk}/results", {"limit": 2, "cursor": page["nextCursor"]})
    assert [r["id"] for r in rest.json()["data"]] == ["op-2"]
    target = page["data"][0]["target"]
    assert target["id"] == workout.pk and target["name"] == "Monday legs" and target["type"] == "workout"
    assert target["date"] == workout.scheduled_start.astimezone().date().isoformat() or target["date"]
    failed = trainer_api.get(f"/api/v1/batches/{batch.pk}/results", {"status": "FAILED"}).json()["data"]
    assert [r["id"] for r in failed] == ["op-1"] and failed[0]["error"]["suggestedAction"] == "s"


def test_session_works_and_writes_need_the_csrf_token(trainer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(trainer)
    assert client.get("/api/v1/batches").status_code == 200
    body = json.dumps({"operations": [create_op("a")]})
    refused = client.post("/api/v1/batches", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "CSRF_FAILED"
    client.get("/workouts/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/batches", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 202


def test_a_token_is_bound_to_its_team(trainer, team, other_team, api_settings):
    from tests.api.conftest import ApiClient, make_token
    from tests.factories import MembershipFactory

    MembershipFactory(user=trainer, team=other_team)
    hawks_only = ApiClient(make_token(trainer, team))
    assert hawks_only.get("/api/v1/workouts", {"team": "lynx"}).status_code == 404
    assert hawks_only.get("/api/v1/workouts", {"team": "hawks"}).status_code == 200


def test_token_records_last_use(trainer_api, trainer):
    from api.models import ApiToken

    assert ApiToken.objects.get(user=trainer).last_used_at is None
    trainer_api.get("/api/v1/schema")
    assert ApiToken.objects.get(user=trainer).last_used_at is not None


def test_a_request_id_is_scoped_by_team_a_token_never_gets_another_teams_batch(trainer, team, other_team):
    """The same user works in two teams: a key first used for Lynx, replayed with a Hawks-only token,
    is a 409 that names no Lynx batch, and no Hawks batch is made under the used key."""
    from tests.api.conftest import ApiClient, make_token
    from workouts.models import Membership

    Membership.objects.create(user=trainer, team=other_team)
    body = {"operations": [create_op("a")]}
    lynx = ApiClient(make_token(trainer, other_team, name="lynx"))
    hawks = ApiClient(make_token(trainer, team, name="hawks"))
    first = lynx.post("/api/v1/batches", body, headers={"Idempotency-Key": "nightly-1"})
    assert first.status_code == 202 and first.json()["team"] == other_team.slug
    replay = hawks.post("/api/v1/batches", body, headers={"Idempotency-Key": "nightly-1"})
    assert replay.status_code == 409, replay.content
    problem = replay.json()
    assert problem["code"] == "IDEMPOTENCY_CONFLICT" and problem["batchId"] is None
    assert "another team" in problem["detail"] and str(first.json()["id"]) not in problem["detail"]
    assert Batch.objects.count() == 1
    # The Lynx token still replays its own batch.
    again = lynx.post("/api/v1/batches", body, headers={"Idempotency-Key": "nightly-1"})
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
