"""Busy time through a real RQ worker process: the run sees the imported game like the dry run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from batch.models import BatchItem
from calendars.services import imported_calendar_import
from tests.batch.conftest import wait_final
from tests.factories import FacilityFactory, WorkoutFactory
from workouts.calendar import at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def game_on(day: dt.date) -> bytes:
    # Local wall-clock times with the club's TZID: the same whatever the hour or season of the run.
    stamp = day.strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:game@test\r\n"
        f"DTSTART;TZID=Europe/Stockholm:{stamp}T190000\r\nDTEND;TZID=Europe/Stockholm:{stamp}T213000\r\n"
        "SUMMARY:Game vs Luleå\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_a_real_worker_moves_around_a_game_and_refuses_into_it(submit, workers, team, trainer):
    day = timezone.localdate() + dt.timedelta(days=7)
    imported_calendar_import(user=trainer, data=game_on(day), name="Games", team=team)
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(22))
    moved, refused = (
        WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None) for _ in range(2)
    )
    start = at(day, dt.time(20)).isoformat()
    batch = submit(
        [
            {
                "id": "adjust",
                "type": "SCHEDULE",
                "data": {"workoutId": moved.pk, "start": start, "facilityId": gym.pk},
                "conflictResolution": "ADJUST_TIME",
            },
            {
                "id": "override",
                "type": "SCHEDULE",
                "data": {"workoutId": refused.pk, "start": start, "facilityId": gym.pk},
                "conflictResolution": "OVERRIDE",
            },
        ],
        validateBeforeExecute=False,
    )
    workers.start(burst=True)
    wait_final(batch.pk)
    items = {i.op_id: i for i in BatchItem.objects.filter(batch=batch)}
    moved.refresh_from_db()
    refused.refresh_from_db()
    assert items["adjust"].status == "SUCCEEDED"
    assert moved.scheduled_start == at(day, dt.time(18))  # before puck drop; after it the gym closes
    assert items["override"].status == "FAILED" and items["override"].error["code"] == "BUSY_TIME"
    assert f"Game vs Luleå {day:%Y-%m-%d} 19:00–21:30" in items["override"].error["message"]
    assert refused.scheduled_start is None
