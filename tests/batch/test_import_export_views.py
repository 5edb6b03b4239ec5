"""Import and export on the web: upload JSON or CSV, see the dry run, run it; export a definition (all,
or failed only, which is valid input again) and results as JSON."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from batch.imports import ImportRefused, operations_from_csv
from batch.models import Batch, BatchItem
from batch.request import parse_request
from batch.validation import batch_validate
from tests.factories import PlayerFactory, WorkoutFactory

pytestmark = pytest.mark.django_db
IMPORT = reverse("batch:import")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def upload(client, name: str, content: str, team: str = "hawks"):
    file = SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")
    return client.post(IMPORT, {"team": team, "action": "preview", "file": file})


def run(client, response, **extra):
    return client.post(
        IMPORT, {"team": "hawks", "action": "run", "token": response.context["token"], **extra}
    )


def test_json_upload_previews_the_dry_run_then_runs(trainer_client, trainer, team):
    request = {"operations": [{"id": "a", "type": "CREATE", "data": {"workout": {"name": "Imported legs"}}}]}
    preview = upload(trainer_client, "plan.json", json.dumps(request))
    assert preview.status_code == 200 and preview.context["report"]["valid"]
    assert "Dry run" in preview.content.decode() and Batch.objects.count() == 0
    ran = run(trainer_client, preview)
    batch = Batch.objects.get()
    assert ran.status_code == 302 and ran["Location"] == reverse("batch:detail", args=[batch.pk])
    assert batch.source == "import" and batch.created_by == trainer and batch.total_items == 1
    # A second click on Run does not make a second batch; the preview names its request once.
    again = run(trainer_client, preview)
    assert again.status_code == 422 and Batch.objects.count() == 1
    assert batch.request_id.startswith("import-")


def test_csv_columns_become_operations_with_refs_and_nested_fields(trainer_client, team):
    player = PlayerFactory(team=team)
    text = (
        "id,type,dependencies,data.workout.name,data.workout.type,data.workoutId,data.assignments\n"
        "new,CREATE,,Tuesday power,POWER,,\n"
        f'give,ASSIGN,new,,,$ref:new,"[{{""playerId"": {player.pk}}}]"\n'
    )
    operations = operations_from_csv(text)
    assert operations == [
        {"id": "new", "type": "CREATE", "data": {"workout": {"name": "Tuesday power", "type": "POWER"}}},
        {
            "id": "give",
            "type": "ASSIGN",
            "data": {"workoutId": {"$ref": "new"}, "assignments": [{"playerId": player.pk}]},
            "dependencies": ["new"],
        },
    ]
    preview = upload(trainer_client, "plan.csv", text)
    assert preview.status_code == 200, preview.context.get("report")
    assert run(trainer_client, preview).status_code == 302
    assert BatchItem.objects.filter(batch__source="import").count() == 2


def test_an_unreadable_csv_names_the_row_and_what_is_wrong(trainer_client):
    with pytest.raises(ImportRefused, match="row 3, column data"):
        operations_from_csv('id,type,data\na,CREATE,{}\nb,CREATE,"[1]"\n')
    response = upload(trainer_client, "bad.csv", "name,kind\nx,y\n")
    assert response.status_code == 422
    assert "id and type" in response.content.decode()


def test_a_request_with_problems_shows_them_and_offers_no_run(trainer_client):
    request = {"operations": [{"id": "a", "type": "EXPLODE", "data": {}}]}
    response = upload(trainer_client, "bad.json", json.dumps(request))
    assert response.status_code == 422
    assert not response.context["report"]["valid"]
    assert 'name="action" value="run"' not in response.content.decode()


def test_another_teams_import_is_a_404(other_trainer_client, team):
    assert upload(other_trainer_client, "x.json", '{"operations": []}').status_code == 404


def _batch_with_a_failed_dependent(team, trainer) -> tuple[Batch, int]:
    made = WorkoutFactory(team=team)
    batch = Batch.objects.create(
        team=team, created_by=trainer, status=Batch.Status.COMPLETED_WITH_ERRORS, total_items=2, failed=1
    )
    BatchItem.objects.create(
        batch=batch,
        seq=0,
        op_id="make",
        type="CREATE",
        data={"workout": {"name": "Made"}},
        status="SUCCEEDED",
        result={"id": made.pk, "workoutId": made.pk},
    )
    BatchItem.objects.create(
        batch=batch,
        seq=1,
        op_id="tweak",
        type="UPDATE",
        data={"workoutId": {"$ref": "make"}, "updates": {"notes": "bring skates"}},
        dependencies=["make"],
        status="FAILED",
        error={"code": "TRANSIENT_ERROR", "message": "lock timeout"},
    )
    return batch, made.pk


def test_failed_only_definition_is_valid_input_again(trainer_client, trainer, team):
    batch, made = _batch_with_a_failed_dependent(team, trainer)
    response = trainer_client.get(reverse("batch:definition", args=[batch.pk]), {"failed": "1"})
    exported = json.loads(b"".join(response.streaming_content))
    assert [op["id"] for op in exported["operations"]] == ["tweak"]
    tweak = exported["operations"][0]
    assert tweak["data"]["workoutId"] == made and "dependencies" not in tweak
    _, problems = parse_request(exported)
    assert problems == []
    assert batch_validate(user=trainer, team=team, raw=exported).valid
    whole = json.loads(
        b"".join(trainer_client.get(reverse("batch:definition", args=[batch.pk])).streaming_content)
    )
    assert [op["id"] for op in whole["operations"]] == ["make", "tweak"]


def test_batch_export_failed_only_reads_back_with_batch_run(trainer, team, capsys):
    batch, _ = _batch_with_a_failed_dependent(team, trainer)
    call_command("batch_export", batch.pk, "--failed-only")
    exported = capsys.readouterr().out
    assert parse_request(json.loads(exported))[1] == []


def test_batch_export_failed_only_refuses_when_nothing_can_run_again(trainer, team, capsys):
    """An empty request is not valid input: the command says why instead of printing one."""
    batch, _ = _batch_with_a_failed_dependent(team, trainer)
    batch.items.filter(op_id="tweak").update(status="SUCCEEDED", error=None)
    with pytest.raises(CommandError, match="nothing to run again"):
        call_command("batch_export", batch.pk, "--failed-only")
    assert capsys.readouterr().out == ""


def test_results_export_as_json_names_each_target(trainer_client, trainer, team):
    batch, made = _batch_with_a_failed_dependent(team, trainer)
    response = trainer_client.get(reverse("batch:export_json", args=[batch.pk]))
    body = json.loads(b"".join(response.streaming_content))
    assert body["id"] == batch.pk and [r["status"] for r in body["results"]] == ["SUCCEEDED", "FAILED"]
    assert body["results"][0]["target"]["id"] == made


def test_a_csv_runs_with_the_options_on_the_page_and_a_json_with_its_own(trainer_client, team):
    """A CSV carries only operations: the import page's options are its options. A JSON request keeps
    the options it brings. A bad option is a form error, not a silent default."""
    workout = WorkoutFactory(team=team)
    page = trainer_client.get(IMPORT, {"team": "hawks"}).content.decode()
    assert 'data-testid="csv-options"' in page and 'name="opt-conflict_resolution"' in page
    options = {
        "opt-max_concurrency": 2,
        "opt-chunk_size": "",
        "opt-retry_attempts": 1,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "FAIL",
        "opt-blocked_players": "fail",
        "opt-stop_on_error": "on",
    }
    csv_text = f"id,type,data.workoutId,data.updates.notes\nu,UPDATE,{workout.pk},from a sheet\n"
    file = SimpleUploadedFile("plan.csv", csv_text.encode())
    preview = trainer_client.post(IMPORT, {"team": "hawks", "action": "preview", "file": file, **options})
    assert preview.status_code == 200, preview.content.decode()[:500]
    assert run(trainer_client, preview).status_code == 302
    batch = Batch.objects.get()
    assert batch.options["conflict_resolution"] == "FAIL" and batch.options["stop_on_error"] is True
    assert batch.options["blocked_players"] == "fail" and batch.options["max_concurrency"] == 2

    own = {"operations": [{"id": "j", "type": "ARCHIVE", "data": {"workoutId": workout.pk}}]}
    own["options"] = {"conflictResolution": "SKIP"}
    file = SimpleUploadedFile("plan.json", json.dumps(own).encode())
    preview = trainer_client.post(IMPORT, {"team": "hawks", "action": "preview", "file": file, **options})
    assert run(trainer_client, preview).status_code == 302
    assert Batch.objects.latest("pk").options["conflict_resolution"] == "SKIP"

    bad = {**options, "opt-conflict_resolution": "PANIC"}
    file = SimpleUploadedFile("plan.csv", csv_text.encode())
    refused = trainer_client.post(IMPORT, {"team": "hawks", "action": "preview", "file": file, **bad})
    assert refused.status_code == 422 and "PANIC" in refused.content.decode()
    assert Batch.objects.count() == 2
