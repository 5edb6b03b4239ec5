"""Ways forward from a partial run: retry the skipped items a new try can change, and export what
failed or was skipped as a request that imports again — or say there is nothing to run."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchItem
from batch.request import parse_request
from batch.validation import batch_validate
from tests.factories import FacilityFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db
DAY = (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def at(hhmm: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{DAY}T{hhmm}:00"))


@pytest.fixture
def partial(submit, run_batches, team):
    """A finished batch: one move skipped on a clash, one edit skipped on a version conflict, one done."""
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    busy = WorkoutFactory(
        team=team, name="Gym booked", facility=gym, scheduled_start=at("10:00"), scheduled_end=at("11:00")
    )
    moved = WorkoutFactory(
        team=team, name="Core circuit", status="draft", scheduled_start=None, scheduled_end=None
    )
    edited = WorkoutFactory(team=team, name="Edited meanwhile")
    fine = WorkoutFactory(team=team, name="Recovery swim")
    batch = submit(
        [
            {
                "id": "move",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": moved.pk,
                    "start": f"{DAY}T10:15:00",
                    "end": f"{DAY}T11:00:00",
                    "facilityId": gym.pk,
                },
            },
            {
                "id": "edit",
                "type": "UPDATE",
                "data": {
                    "workoutId": edited.pk,
                    "updates": {"intensity": 40},
                    "expectedVersion": edited.version,
                },
            },
            {"id": "swim", "type": "UPDATE", "data": {"workoutId": fine.pk, "updates": {"intensity": 30}}},
        ],
        conflictResolution="SKIP",
        validateBeforeExecute=False,
    )
    Workout.objects.filter(pk=edited.pk).update(notes="someone else")  # version moves before the run
    run_batches()
    batch.refresh_from_db()
    statuses = dict(BatchItem.objects.filter(batch=batch).values_list("op_id", "status"))
    assert statuses == {"move": "SKIPPED", "edit": "SKIPPED", "swim": "SUCCEEDED"}
    return batch, busy, moved


def test_retry_skipped_runs_the_clash_again_and_not_the_version_conflict(
    trainer_client, partial, run_batches
):
    batch, busy, moved = partial
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert 'data-testid="retry-skipped"' in page and "Retry skipped (1)" in page

    Workout.objects.filter(pk=busy.pk).update(facility=None)  # the gym is free now
    response = trainer_client.post(reverse("batch:retry_skipped", args=[batch.pk]))
    retry = Batch.objects.get(retry_of=batch)
    assert response.status_code == 302 and response["Location"] == reverse("batch:detail", args=[retry.pk])
    assert list(BatchItem.objects.filter(batch=retry).values_list("op_id", flat=True)) == ["move"]

    run_batches()
    retry.refresh_from_db()
    moved.refresh_from_db()
    assert retry.status == Batch.Status.COMPLETED and moved.scheduled_start == at("10:15")
    again = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert 'data-testid="retry-skipped"' not in again  # the retry ran it: nothing left to retry


def test_retry_skipped_is_refused_when_no_skip_could_go_differently(
    trainer_client, submit, run_batches, team
):
    edited = WorkoutFactory(team=team)
    batch = submit(
        [
            {
                "id": "edit",
                "type": "UPDATE",
                "data": {
                    "workoutId": edited.pk,
                    "updates": {"intensity": 40},
                    "expectedVersion": edited.version,
                },
            }
        ],
        conflictResolution="SKIP",
        validateBeforeExecute=False,
    )
    Workout.objects.filter(pk=edited.pk).update(notes="someone else")
    run_batches()
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert 'data-testid="retry-skipped"' not in page and 'data-testid="export-rerun"' not in page

    response = trainer_client.post(reverse("batch:retry_skipped", args=[batch.pk]), follow=True)
    assert "no skipped items that could go differently" in response.content.decode()
    assert not Batch.objects.filter(retry_of=batch).exists()

    export = trainer_client.get(reverse("batch:definition", args=[batch.pk]), {"failed": "1"})
    assert export.status_code == 409
    assert "has nothing to run again" in export.content.decode()


def test_the_failed_and_skipped_export_imports_again(trainer_client, trainer, team, partial):
    batch, _, moved = partial
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Failed and skipped (JSON)" in page

    response = trainer_client.get(reverse("batch:definition", args=[batch.pk]), {"failed": "1"})
    exported = json.loads(b"".join(response.streaming_content))
    assert [op["id"] for op in exported["operations"]] == ["move"]
    assert exported["operations"][0]["retryCount"] == 1
    assert parse_request(exported)[1] == []
    assert batch_validate(user=trainer, team=team, raw=exported).request is not None

    upload = trainer_client.post(
        reverse("batch:import"),
        {
            "team": team.slug,
            "action": "preview",
            "file": _file("again.json", json.dumps(exported).encode()),
        },
    )
    body = upload.content.decode()
    assert "Must have at least 1 entry" not in body and 'data-testid="dry-run"' in body
    assert "Core circuit" in body  # its clash is shown again, by name


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/json")
