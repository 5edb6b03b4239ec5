"""Schemathesis against the live app over the whole OpenAPI document: generated requests (valid and
invalid) for every operation, as a trainer with a token. No answer may be a server error, and every
answer must match the document (status code, content type, body schema, headers).

Runtime is kept modest with a small example budget per operation (SCHEMATHESIS_MAX_EXAMPLES)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from batch.models import Batch, BatchItem
from tests.api.conftest import make_token
from tests.factories import PlayerFactory, RestrictionFactory, WorkoutFactory, WorkoutTemplateFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, trainer, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 10_000
    workout = WorkoutFactory(team=team)
    WorkoutTemplateFactory(team=team)
    RestrictionFactory(player=PlayerFactory(team=team))
    batch = Batch.objects.create(team=team, created_by=trainer, status=Batch.Status.COMPLETED, total_items=1)
    BatchItem.objects.create(
        batch=batch, seq=0, op_id="a", type="UPDATE", data={"workoutId": workout.pk}, status="SUCCEEDED"
    )
    endpoint = WebhookEndpoint.objects.create(
        team=team, url="http://127.0.0.1:9/x", events=["batch.failed"], secret="whsec_eA=="
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="batch.failed", msg_id="m", payload={})
    # A third pass pins path ids to real objects, so generated bodies and queries reach the handlers.
    real_ids = {"batch_id": batch.pk, "endpoint_id": endpoint.pk, "delivery_id": delivery.pk}
    headers = {"Authorization": f"Bearer {make_token(trainer, team)}"}

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    statuses: Counter[int] = Counter()
    operations = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = {p.name for p in operation.path_parameters}
        pinned = {k: v for k, v in real_ids.items() if k in names}
        passes = [
            ("positive", {"generation_mode": schemathesis.GenerationMode.POSITIVE}),
            ("negative", {"generation_mode": schemathesis.GenerationMode.NEGATIVE}),
        ]
        if pinned:
            passes.append(("real ids", {"path_parameters": pinned}))
        for label, strategy_kwargs in passes:

            @hypothesis_settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(**strategy_kwargs))
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=live_server.url, headers=headers)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - collected, reported all together below
                failures.append(f"{operation.label} [{label}]: {exc}"[:2000])
    total = sum(statuses.values())
    summary = f"{operations} operations, {total} requests, statuses {dict(sorted(statuses.items()))}"
    print(f"\nschemathesis: {summary}, {len(failures)} failing operation/mode pairs")
    assert not failures, "\n\n".join(failures)
    assert operations >= 20 and total >= operations * 2
    assert not any(code >= 500 for code in statuses)
