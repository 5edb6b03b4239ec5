"""The seed guide's request examples, sent through the API with only the ids replaced: they validate,
and they run (the in-process worker for each, and a real worker process for the lot at once).

The examples themselves live in tests/batch/test_exchange_guide.py (one copy of them)."""

from __future__ import annotations

import pytest

from batch.models import Batch
from tests.api.conftest import ApiClient, make_token
from tests.batch.conftest import wait_final
from tests.batch.test_exchange_guide import (  # noqa: F401 (ids is a fixture)
    advanced_usage,
    basic_usage,
    bulk_delete,
    create_from_template,
    error_recovery,
    ids,
    medical_compliance,
    type_definitions,
)

EXAMPLES = [
    basic_usage,
    bulk_delete,
    advanced_usage,
    type_definitions,
    error_recovery,
    medical_compliance,
    create_from_template,
]


@pytest.fixture
def guide_api(trainer, team, api_settings) -> ApiClient:
    return ApiClient(make_token(trainer, team))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.__name__ for e in EXAMPLES])
def test_guide_example_validates_and_runs_through_the_api(guide_api, ids, run_worker, example):  # noqa: F811
    raw = example(ids)
    report = guide_api.post("/api/v1/batches/validate", raw)
    assert report.status_code == 200 and report.json()["valid"], report.json()
    submitted = guide_api.post("/api/v1/batches", raw)
    assert submitted.status_code == 202, submitted.content
    run_worker()
    batch = Batch.objects.get(pk=submitted.json()["id"])
    assert batch.status == Batch.Status.COMPLETED, (batch.status, batch.error)
    results = guide_api.get(f"/api/v1/batches/{batch.pk}/results").json()["data"]
    assert [r["id"] for r in results] == [op["id"] for op in raw["operations"]]
    assert all(r["target"]["name"] for r in results)
    # The guide's medical example assigns one player to three workouts at the same hour: the calendar
    # skips the double bookings (conflictResolution SKIP) and says why; nothing fails.
    for result in results:
        assert result["status"] == "SUCCEEDED" or (
            result["status"] == "SKIPPED" and result["error"]["code"] and result["error"]["suggestedAction"]
        ), result
    assert batch.succeeded >= 1 and batch.failed == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_guide_examples_run_on_a_real_worker_process(guide_api, ids, workers):  # noqa: F811
    batch_ids = []
    for example in (basic_usage, advanced_usage, create_from_template):
        response = guide_api.post("/api/v1/batches", example(ids))
        assert response.status_code == 202, response.content
        batch_ids.append(response.json()["id"])
    workers.start()
    for batch_id in batch_ids:
        assert wait_final(batch_id, timeout=120).status == Batch.Status.COMPLETED
        state = guide_api.get(f"/api/v1/batches/{batch_id}").json()
        assert state["progress"]["percentComplete"] == 100.0 and state["progress"]["successRate"] == 1.0
