"""Pinned targets: what the dry run validated is what Run runs, on the modal and through the API.

Validate stores a plan (the request, its fingerprint, each target workout at its version); Run executes
exactly that whatever the session's selection is by then, and refuses, naming them, when a target was
edited, archived or deleted since. Plans expire and belong to the user who validated.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchItem, BatchPlan
from batch.plans import PLAN_EXPIRED, PLAN_UNKNOWN, TARGETS_CHANGED, batch_plan_create, request_fingerprint
from batch.services import batch_submit
from tests.api.conftest import ApiClient, make_token
from tests.factories import WorkoutFactory
from workouts.models import Workout
from workouts.selectors import Selection

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
SELECT = reverse("workouts:select")
EDIT = reverse("batch:operation", args=["update"])


def select(client, team, workouts) -> None:
    ids = [w.pk for w in workouts]
    client.post(SELECT, {"team": team.slug, "action": "clear"})
    client.post(
        SELECT,
        {"team": team.slug, "action": "sync", "query": "", "ids": ids, "page_ids": ",".join(map(str, ids))},
        headers=HX,
    )


def edit_post(team, **extra) -> dict:
    data = {
        "team": team.slug,
        "request_id": "pinned-1",
        "intensity": 55,
        "opt-max_concurrency": 2,
        "opt-chunk_size": 10,
        "opt-retry_attempts": 3,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "SKIP",
    }
    data.update(extra)
    return data


def validate(client, team, **extra) -> str:
    """Validate the edit on the modal; return the plan id the page carries for Run."""
    response = client.post(EDIT, edit_post(team, action="validate", **extra), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200, body[:2000]
    return re.search(r'name="plan" value="([0-9a-f-]+)"', body).group(1)


def test_run_runs_the_validated_workouts_though_another_tab_changed_the_selection(trainer_client, team):
    validated = WorkoutFactory.create_batch(3, team=team, intensity=70)
    other = WorkoutFactory(team=team, name="Ticked in tab B", intensity=70)
    select(trainer_client, team, validated)
    plan = validate(trainer_client, team)

    select(trainer_client, team, [other])  # tab B, same session
    response = trainer_client.post(EDIT, edit_post(team, action="run", plan=plan), headers=HX)

    assert response.status_code == 200 and "HX-Redirect" in response
    batch = Batch.objects.get()
    edited = set(BatchItem.objects.filter(batch=batch).values_list("data__workoutId", flat=True))
    assert edited == {w.pk for w in validated}
    # Tab B's selection is its own: the run of tab A's plan leaves it alone.
    assert Selection.from_session(trainer_client.session, team).included == {other.pk}
    assert BatchPlan.objects.get(pk=plan).batch_id == batch.pk


def test_a_workout_edited_since_the_dry_run_refuses_the_run_naming_it(trainer_client, team):
    kept = WorkoutFactory(team=team, name="Stays put")
    moved = WorkoutFactory(team=team, name="Edited by Maja")
    gone = WorkoutFactory(team=team, name="Archived by Maja")
    select(trainer_client, team, [kept, moved, gone])
    plan = validate(trainer_client, team)

    Workout.objects.filter(pk=moved.pk).update(notes="a teammate's edit")  # the trigger bumps the version
    Workout.objects.filter(pk=gone.pk).update(status=Workout.Status.ARCHIVED, archived_at=gone.created_at)
    response = trainer_client.post(EDIT, edit_post(team, action="run", plan=plan), headers=HX)

    body = response.content.decode()
    assert response.status_code == 422 and not Batch.objects.exists()
    assert "2 workouts changed since you validated: validate again" in body
    assert (
        "Edited by Maja" in body
        and "(edited)" in body
        and "Archived by Maja" in body
        and "(archived)" in body
    )
    assert (
        'id="op-run"' in body
        and "disabled" in body[body.index('id="op-run"') - 200 : body.index('id="op-run"') + 300]
    )


def test_changing_the_form_after_validating_is_refused(trainer_client, team):
    workout = WorkoutFactory(team=team)
    select(trainer_client, team, [workout])
    plan = validate(trainer_client, team)
    response = trainer_client.post(EDIT, edit_post(team, action="run", plan=plan, intensity=90), headers=HX)
    assert response.status_code == 422 and not Batch.objects.exists()
    assert "not the request you validated" in response.content.decode()


def test_an_expired_plan_is_refused(trainer_client, team):
    workout = WorkoutFactory(team=team)
    select(trainer_client, team, [workout])
    plan = validate(trainer_client, team)
    stored = BatchPlan.objects.get(pk=plan)
    BatchPlan.objects.filter(pk=plan).update(expires_at=stored.created_at)
    response = trainer_client.post(EDIT, edit_post(team, action="run", plan=plan), headers=HX)
    assert response.status_code == 422 and not Batch.objects.exists()
    body = response.content.decode()
    expired_at = timezone.localtime(stored.created_at)  # the run's clock, whatever instant it is pinned to
    assert f"This dry run expired at {expired_at:%H:%M}" in body and "validate again" in body


def test_another_users_plan_is_refused(trainer, medic, team):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [
            {"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"intensity": 40}}}
        ]
    }
    plan = batch_plan_create(user=trainer, team=team, raw=raw)
    with pytest.raises(Exception) as refused:
        batch_submit(user=medic, team=team, raw=raw, plan_id=plan.pk)
    assert refused.value.problems[0].code == PLAN_UNKNOWN
    assert "not one of your dry runs" in str(refused.value)
    assert not Batch.objects.exists()


def test_a_plan_runs_once(trainer, team):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [
            {"id": "u", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"intensity": 40}}}
        ]
    }
    plan = batch_plan_create(user=trainer, team=team, raw=raw)
    first = batch_submit(user=trainer, team=team, raw=raw, plan_id=plan.pk)
    with pytest.raises(Exception) as again:
        batch_submit(user=trainer, team=team, raw=raw, plan_id=plan.pk)
    assert again.value.problems[0].code in (PLAN_EXPIRED, "PLAN_ALREADY_RUN")
    assert list(Batch.objects.values_list("pk", flat=True)) == [first.pk]


def test_run_the_valid_ones_leaves_out_the_invalid_and_names_them(trainer_client, team):
    ok = WorkoutFactory.create_batch(2, team=team)
    done = WorkoutFactory(
        team=team, name="No time yet", status=Workout.Status.DRAFT, scheduled_start=None, scheduled_end=None
    )
    select(trainer_client, team, [*ok, done])
    # A scheduled workout needs a start: the rulebook refuses that one, the other two are fine.
    response = trainer_client.post(EDIT, edit_post(team, action="validate", status="scheduled"), headers=HX)
    body = response.content.decode()
    assert 'data-testid="run-valid"' in body, body[body.index("modal__footer") :][:1500]
    assert "Run the 2 valid ones" in body
    plan = re.search(r'name="plan" value="([0-9a-f-]+)"', body).group(1)

    response = trainer_client.post(
        EDIT, edit_post(team, action="run_valid", plan=plan, status="scheduled"), headers=HX
    )

    assert response.status_code == 200, response.content.decode()[:3000]
    batch = Batch.objects.get()
    assert set(BatchItem.objects.filter(batch=batch).values_list("data__workoutId", flat=True)) == {
        w.pk for w in ok
    }
    assert batch.metadata["leftOut"] == [f"update-{done.pk}"]


def api_ops(*workouts, intensity: int = 45) -> dict:
    return {
        "operations": [
            {
                "id": f"u{w.pk}",
                "type": "UPDATE",
                "data": {"workoutId": w.pk, "updates": {"intensity": intensity}},
            }
            for w in workouts
        ],
        "options": {"chunkSize": 5},
    }


@pytest.mark.worker
def test_an_api_run_with_the_plan_id_runs_the_validated_request_through_a_worker(
    trainer, team, run_worker, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    api = ApiClient(make_token(trainer, team))
    a, b = WorkoutFactory.create_batch(2, team=team, intensity=70)
    body = api_ops(a, b)
    dry = api.post("/api/v1/batches/validate", body).json()
    assert dry["valid"] and len(dry["fingerprint"]) == 64 and dry["planId"]

    other = api.post("/api/v1/batches", api_ops(a), params={"plan": dry["planId"]})
    assert other.status_code == 422 and "not the request you validated" in other.json()["detail"]

    run = api.post("/api/v1/batches", body, params={"plan": dry["planId"]})
    assert run.status_code == 202, run.content
    run_worker()
    batch = Batch.objects.get(pk=run.json()["id"])
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 2
    assert set(Workout.objects.values_list("intensity", flat=True)) == {45}


def test_an_api_run_with_a_stale_plan_is_refused_and_one_without_plan_runs_as_before(trainer, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    api = ApiClient(make_token(trainer, team))
    a, b = WorkoutFactory.create_batch(2, team=team, name="Morning skate")
    body = api_ops(a, b)
    dry = api.post("/api/v1/batches/validate", body).json()
    Workout.objects.filter(pk=b.pk).update(intensity=99)

    stale = api.post("/api/v1/batches", body, params={"plan": dry["planId"]})
    problem = stale.json()
    assert stale.status_code == 422 and not Batch.objects.exists()
    assert problem["errors"][0]["code"] == TARGETS_CHANGED
    assert "1 workout changed since you validated: validate again (Morning skate" in problem["detail"]

    unknown = api.post("/api/v1/batches", body, params={"plan": "not-a-plan"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == PLAN_UNKNOWN

    plain = api.post("/api/v1/batches", body)
    assert plain.status_code == 202


def test_the_fingerprint_ignores_metadata_but_not_options(trainer, team):
    body = {"operations": [{"id": "x", "type": "ARCHIVE", "data": {"workoutId": 1}}], "options": {}}
    same = {**body, "metadata": {"requestId": "another"}}
    assert request_fingerprint(body) == request_fingerprint(same)
    assert request_fingerprint(body) != request_fingerprint({**body, "options": {"stopOnError": True}})


def test_an_imported_request_is_pinned_to_its_preview(trainer_client, team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    workout = WorkoutFactory(team=team, name="Imported target")
    body = api_ops(workout)
    upload = SimpleUploadedFile("edit.json", json.dumps(body).encode(), content_type="application/json")
    preview = trainer_client.post(
        reverse("batch:import"), {"team": team.slug, "action": "preview", "file": upload}
    )
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview.content.decode()).group(1)

    Workout.objects.filter(pk=workout.pk).update(name="Renamed meanwhile")
    run = trainer_client.post(reverse("batch:import"), {"team": team.slug, "action": "run", "token": token})

    assert run.status_code == 422 and not Batch.objects.exists()
    assert "1 workout changed since you validated: validate again (Imported target" in run.content.decode()
