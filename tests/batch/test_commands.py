"""The ops surface: batch_run / batch_status / batch_list / batch_cancel / batch_recover."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from batch.models import Batch
from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db(transaction=True)


def write(tmp_path, payload) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(payload))
    return str(path)


REQUEST = {
    "operations": [
        {"id": "a", "type": "CREATE", "data": {"workout": {"name": "CLI day", "type": "STRENGTH"}}},
        {
            "id": "b",
            "type": "UPDATE",
            "dependencies": ["a"],
            "data": {"workoutId": {"$ref": "a"}, "updates": {"notes": "from the command line"}},
        },
    ],
    "metadata": {"description": "cli"},
}


def test_dry_run_prints_the_estimate_and_writes_nothing(tmp_path, trainer, capsys):
    call_command("batch_run", write(tmp_path, REQUEST), user=trainer.username, dry_run=True)
    out = capsys.readouterr().out
    assert "VALID: 2 operations" in out and "Estimate:" in out
    assert Batch.objects.count() == 0 and Workout.objects.count() == 0


def test_invalid_request_exits_2_with_the_problem_named(tmp_path, trainer, capsys):
    bad = {"operations": [{"id": "x", "type": "CREATE", "data": {"workout": {"type": "STRENGTH"}}}]}
    with pytest.raises(SystemExit) as exc:
        call_command("batch_run", write(tmp_path, bad), user=trainer.username)
    assert exc.value.code == 2
    assert "data.workout.name" in capsys.readouterr().err


def test_wait_json_prints_the_final_summary_and_exits_0(tmp_path, trainer, workers, capsys):
    workers.start()
    call_command("batch_run", write(tmp_path, REQUEST), user=trainer.username, wait=True, json=True)
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "COMPLETED"
    assert summary["summary"] == {
        "total": 2,
        "successful": 2,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
        "conflicts": 0,
        "withWarnings": 0,
    }
    assert [r["status"] for r in summary["results"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert Workout.objects.get(name="CLI day").notes == "from the command line"


def test_failed_items_exit_3(tmp_path, trainer, team, workers, capsys):
    payload = {
        "operations": [{"id": "m", "type": "UPDATE", "data": {"workoutId": 99999, "updates": {"name": "x"}}}],
        "options": {"validateBeforeExecute": False},
    }
    workers.start()
    with pytest.raises(SystemExit) as exc:
        call_command("batch_run", write(tmp_path, payload), user=trainer.username, wait=True, json=True)
    assert exc.value.code == 3
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["error"]["code"] == "NOT_FOUND" and result["error"]["suggestedAction"]


def test_status_list_cancel_and_recover(tmp_path, trainer, team, rq_queue, capsys):
    WorkoutFactory(team=team)
    call_command("batch_run", write(tmp_path, REQUEST), user=trainer.username)
    batch = Batch.objects.get()
    call_command("batch_status", batch.pk)
    call_command("batch_list")
    call_command("batch_cancel", batch.pk)
    call_command("batch_recover")
    out = capsys.readouterr().out
    assert f"Batch {batch.pk}" in out and "QUEUED" in out and "CANCELLED" in out
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and batch.cancelled == 2


def test_export_writes_a_request_that_batch_run_accepts(tmp_path, trainer, rq_queue, capsys):
    call_command("batch_run", write(tmp_path, REQUEST), user=trainer.username)
    batch = Batch.objects.get()
    capsys.readouterr()
    call_command("batch_export", batch.pk)
    exported = json.loads(capsys.readouterr().out)
    assert [op["id"] for op in exported["operations"]] == ["a", "b"]
    assert exported["operations"][1]["dependencies"] == ["a"]
    assert exported["operations"][1]["data"]["workoutId"] == {"$ref": "a"}
    assert exported["options"]["chunkSize"] is None  # sized by time, as it was submitted
    assert exported["metadata"]["description"] == "cli"
    call_command("batch_run", write(tmp_path, exported), user=trainer.username, dry_run=True)
    assert "VALID: 2 operations" in capsys.readouterr().out
