"""Naming, summarising and exporting a batch's items costs no more queries for 360 items than for 12:
every path that lists results (batch_run/batch_status --json, batch_export, the page's CSV and JSON, the
API's results and exports, the webhook payload) streams the items on one cursor and names them a slice at
a time."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batch.models import Batch
from tests.api.conftest import ApiClient, make_token
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutFactory
from webhooks.services import event_payload

pytestmark = pytest.mark.django_db


def a_batch(submit, run_batches, team, creates: int) -> Batch:
    """CREATEs (with a name and a start), an UPDATE, an ASSIGN and a failing UPDATE."""
    players = PlayerFactory.create_batch(2, team=team)
    skate = WorkoutFactory(team=team, name="Morning skate")
    AssignmentFactory(workout=skate, player=players[0])
    ops = [
        {
            "id": f"c{n}",
            "type": "CREATE",
            "data": {"workout": {"name": f"Lift {n}", "type": "STRENGTH"}},
            "metadata": {"row": n},
        }
        for n in range(creates)
    ]
    ops += [
        {"id": "u", "type": "UPDATE", "data": {"workoutId": skate.pk, "updates": {"intensity": 70}}},
        {
            "id": "a",
            "type": "ASSIGN",
            "data": {"workoutId": skate.pk, "assignments": [{"playerId": players[1].pk}]},
        },
        {"id": "gone", "type": "UPDATE", "data": {"workoutId": 10**9, "updates": {"intensity": 70}}},
    ]
    batch = submit(ops, validateBeforeExecute=False)
    run_batches()
    batch.refresh_from_db()
    return batch


def queries(fn: Callable[[], object]) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        out = fn()
    return len(captured), out


def read(response) -> str:
    return b"".join(response.streaming_content).decode()


def paths(client, api: ApiClient):
    def command(*args: str) -> Callable[[], str]:
        def run() -> str:
            out = io.StringIO()
            call_command(*args, stdout=out)
            return out.getvalue()

        return run

    return {
        "batch_status --json": lambda b: command("batch_status", str(b.pk), "--json")(),
        "batch_export": lambda b: command("batch_export", str(b.pk))(),
        "page results.csv": lambda b: read(client.get(reverse("batch:export", args=[b.pk]))),
        "page results.json": lambda b: read(client.get(reverse("batch:export_json", args=[b.pk]))),
        "API results page": lambda b: api.get(f"/api/v1/batches/{b.pk}/results", {"limit": 200}).content,
        "API results CSV": lambda b: read(
            api.get(f"/api/v1/batches/{b.pk}/export", {"what": "results", "format": "csv"})
        ),
        "API results JSON": lambda b: read(
            api.get(f"/api/v1/batches/{b.pk}/export", {"what": "results", "format": "json"})
        ),
        "webhook payload": lambda b: event_payload(b, "batch.completed"),
    }


def test_every_results_path_costs_the_same_queries_for_12_items_as_for_360(
    submit, run_batches, team, trainer, client
):
    client.force_login(trainer)
    api = ApiClient(make_token(trainer, team))
    small = a_batch(submit, run_batches, team, creates=9)
    large = a_batch(submit, run_batches, team, creates=357)
    assert (small.total_items, large.total_items) == (12, 360)
    for name, fetch in paths(client, api).items():
        small_count, _ = queries(lambda f=fetch: f(Batch.objects.get(pk=small.pk)))
        large_count, out = queries(lambda f=fetch: f(Batch.objects.get(pk=large.pk)))
        assert large_count <= small_count, (
            f"{name}: {small_count} queries for 12 items, {large_count} for 360"
        )
        assert out, name


def test_the_streamed_summary_names_every_item_and_passes_results_through(submit, run_batches, team):
    batch = a_batch(submit, run_batches, team, creates=3)
    out = io.StringIO()
    call_command("batch_status", str(batch.pk), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["summary"] == {
        "total": 6,
        "successful": 5,
        "failed": 1,
        "skipped": 0,
        "cancelled": 0,
        "conflicts": 0,
        "withWarnings": 0,
    }
    results = {r["id"]: r for r in summary["results"]}
    assert [r["id"] for r in summary["results"]] == ["c0", "c1", "c2", "u", "a", "gone"]
    assert results["c1"]["target"]["name"] == "Lift 1" and results["c1"]["metadata"] == {"row": 1}
    assert results["c1"]["result"]["workoutId"] == results["c1"]["target"]["id"]
    assert results["u"]["target"]["name"] == "Morning skate"
    assert results["a"]["result"]["assigned"] and "error" not in results["a"]
    assert results["gone"]["status"] == "FAILED" and results["gone"]["error"]["code"]
    assert results["gone"]["target"]["name"] == "A workout that no longer exists"


def test_the_api_results_csv_carries_each_items_result_json(submit, run_batches, team, trainer):
    batch = a_batch(submit, run_batches, team, creates=2)
    api = ApiClient(make_token(trainer, team))
    text = read(api.get(f"/api/v1/batches/{batch.pk}/export", {"what": "results", "format": "csv"}))
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert json.loads(rows["c0"]["result"])["workoutId"] == int(rows["c0"]["target_id"])
    assert rows["gone"]["error_code"] and rows["gone"]["result"] == ""


def test_the_webhook_payload_carries_the_summary_and_links_not_the_items(submit, run_batches, team):
    batch = a_batch(submit, run_batches, team, creates=3)
    data = event_payload(batch, "batch.completed")["data"]
    assert data["summary"]["total"] == 6 and "results" not in data
    assert data["links"]["results"] == f"/api/v1/batches/{batch.pk}/results"
    assert data["links"]["web"] == reverse("batch:detail", args=[batch.pk])


def test_items_about_workouts_deleted_since_are_named_from_the_change_log(submit, run_batches, team):
    from batch.models import BatchChange
    from workouts.models import Workout

    batch = a_batch(submit, run_batches, team, creates=3)
    logged, forgotten = (batch.items.get(op_id=op).result["workoutId"] for op in ("c1", "c2"))
    Workout.objects.filter(pk__in=[logged, forgotten]).delete()
    BatchChange.objects.filter(batch=batch, object_id=forgotten).delete()  # nothing left to name it by
    out = io.StringIO()
    call_command("batch_status", str(batch.pk), "--json", stdout=out)
    results = {r["id"]: r for r in json.loads(out.getvalue())["results"]}
    assert results["c0"]["target"]["name"] == "Lift 0"
    assert results["c1"]["target"] == {"id": logged, "name": "Lift 1", "date": None}
    assert results["c2"]["target"] == {
        "id": forgotten,
        "name": "A workout that no longer exists",
        "date": None,
    }
