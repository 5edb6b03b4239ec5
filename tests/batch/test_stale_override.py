"""OVERRIDE takes a facility only from a workout as the calendar read it; a change since fails that item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from django.utils import timezone

from batch.models import BatchChange, BatchItem
from batch.operations.base import REGISTRY, Context
from batch.operations.schedule import ScheduleExecutor
from tests.factories import FacilityFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db
DAY = (timezone.localdate() + dt.timedelta(days=7)).isoformat()


class EditedMeanwhile(ScheduleExecutor):
    """SCHEDULE, but another trainer saves `victim` between the calendar's read and the write."""

    def __init__(self, victim: int) -> None:
        self.victim = victim
        self.edited = False

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        if not self.edited:
            self.edited = True
            Workout.objects.filter(pk=self.victim).update(notes="moved the gym session, see me")
        return super().apply(items, ctx)


def at(time: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{DAY}T{time}"))


def test_override_of_a_workout_changed_since_fails_only_that_item(submit, run_batches, team, monkeypatch):
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    rink = FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23))
    in_gym = WorkoutFactory(team=team, facility=gym, scheduled_start=at("10:00"), scheduled_end=at("11:00"))
    on_rink = WorkoutFactory(team=team, facility=rink, scheduled_start=at("14:00"), scheduled_end=at("15:00"))
    first, second = WorkoutFactory.create_batch(2, team=team, status="draft", scheduled_start=None)
    monkeypatch.setitem(REGISTRY, "SCHEDULE", EditedMeanwhile(victim=in_gym.pk))
    batch = submit(
        [
            {
                "id": "gym",
                "type": "SCHEDULE",
                "data": {"workoutId": first.pk, "start": f"{DAY}T10:15:00", "facilityId": gym.pk},
            },
            {
                "id": "rink",
                "type": "SCHEDULE",
                "data": {"workoutId": second.pk, "start": f"{DAY}T14:15:00", "facilityId": rink.pk},
            },
        ],
        conflictResolution="OVERRIDE",
        validateBeforeExecute=False,
        chunkSize=10,
    )
    run_batches()

    failed = BatchItem.objects.get(batch=batch, op_id="gym")
    assert failed.status == BatchItem.Status.FAILED
    assert failed.error["code"] == "CONFLICT"
    assert (
        failed.error["details"] | {"workoutId": in_gym.pk, "expectedVersion": 1, "currentVersion": 2}
        == (failed.error["details"])
    )
    assert "changed while this batch ran" in failed.error["message"]
    first.refresh_from_db()
    in_gym.refresh_from_db()
    assert first.scheduled_start is None and in_gym.facility_id == gym.pk

    # The other item of the chunk is decided afresh and takes the rink as asked.
    assert BatchItem.objects.get(batch=batch, op_id="rink").status == BatchItem.Status.SUCCEEDED
    second.refresh_from_db()
    on_rink.refresh_from_db()
    assert (second.scheduled_start, second.facility_id) == (at("14:15"), rink.pk)
    assert on_rink.facility_id is None
    assert BatchChange.objects.filter(batch=batch, object_id=on_rink.pk, after={"facility_id": None}).exists()
