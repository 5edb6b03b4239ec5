"""A partial run's ways forward on the batch page: retry the skipped clash once the gym is free, and
download what failed or was skipped as a request that imports again."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from batch.models import Batch
from batch.request import parse_request
from batch.services import batch_submit
from tests.batch.conftest import wait_final
from tests.browser.conftest import login, shot
from tests.factories import FacilityFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]
DAY = (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def at(hhmm: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{DAY}T{hhmm}:00"))


def test_retry_skipped_from_the_results_page_runs_the_clash_again(page, trainer, team, workers):
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    busy = WorkoutFactory(
        team=team, name="Gym booked", facility=gym, scheduled_start=at("10:00"), scheduled_end=at("11:00")
    )
    moved = WorkoutFactory(
        team=team, name="Core circuit", status="draft", scheduled_start=None, scheduled_end=None
    )
    fine = WorkoutFactory(team=team, name="Recovery swim")
    workers.start()
    raw = {
        "operations": [
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
            {"id": "swim", "type": "UPDATE", "data": {"workoutId": fine.pk, "updates": {"intensity": 30}}},
        ],
        "options": {"conflictResolution": "SKIP", "validateBeforeExecute": False},
    }
    batch = batch_submit(user=trainer, team=team, raw=raw, source="test")
    wait_final(batch.pk)

    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    retry = page.get_by_test_id("retry-skipped")
    expect(retry).to_have_text("Retry skipped (1)")
    with page.expect_download() as download:
        page.get_by_test_id("export-rerun").click()
    exported = json.loads(open(download.value.path()).read())  # noqa: SIM115, PTH123
    assert [op["id"] for op in exported["operations"]] == ["move"]
    assert parse_request(exported)[1] == []
    shot(page, "ways-forward-retry-skipped")

    Workout.objects.filter(pk=busy.pk).update(facility=None)  # the gym is free now
    retry.click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("batch-percent")).to_have_text("100 %", timeout=30_000)
    expect(page.get_by_test_id("outcome")).to_contain_text("1 succeeded")

    follow_up = Batch.objects.get(retry_of=batch)
    assert page.url.endswith(f"/batches/{follow_up.pk}/")
    moved.refresh_from_db()
    assert moved.scheduled_start == at("10:15") and moved.facility_id == gym.pk
