"""Busy time in the calendar rules: every conflict strategy around an imported game or booking."""

from __future__ import annotations

import datetime as dt

import pytest

from batch.models import Batch, BatchItem
from batch.validation import batch_validate
from calendars.services import imported_calendar_import
from tests.calendars.conftest import GAMES, local
from tests.factories import WorkoutFactory, WorkoutTemplateFactory
from workouts.calendar import BUSY, Calendar, Slot
from workouts.models import Workout

pytestmark = pytest.mark.django_db
GAME = "Game vs Luleå 2026-10-06 19:00–21:30"


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def sched(op_id: str, workout_id: int, start: dt.datetime, facility_id: int, **extra) -> dict:
    data = {"workoutId": workout_id, "start": start.isoformat(), "facilityId": facility_id}
    return {"id": op_id, "type": "SCHEDULE", "data": data, **extra}


@pytest.fixture
def games(pinned, team, trainer):
    return imported_calendar_import(user=trainer, data=GAMES, name="League games", team=team).calendar


@pytest.fixture
def draft(team):
    return WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None, name="Legs")


def test_calendar_load_carries_busy_time_as_bookings(games, team, gym):
    calendar = Calendar.load(team=team, days=[dt.date(2026, 10, 6)])
    busy = [b for b in calendar.on_day(dt.date(2026, 10, 6)) if b.busy]
    assert [(b.name, b.start, b.end, b.workout_id, b.source) for b in busy] == [
        ("Game vs Luleå", local(2026, 10, 6, 19), local(2026, 10, 6, 21, 30), None, "League games")
    ]
    slot = Slot(local(2026, 10, 6, 20), local(2026, 10, 6, 21), gym.pk, {}, key="new")
    [conflict] = calendar.conflicts(slot)
    assert conflict.kind == BUSY and conflict.message == f"the team is busy: {GAME}"
    assert conflict.as_dict()["event"]["title"] == "Game vs Luleå"
    assert not calendar.can_override(conflict)
    # Another team's games do not block this team.
    other = Calendar.load(team=WorkoutFactory().team, days=[dt.date(2026, 10, 6)])
    assert not other.conflicts(slot)


@pytest.mark.parametrize(
    ("strategy", "status", "where"),
    [
        ("FAIL", "FAILED", None),
        ("SKIP", "SKIPPED", None),
        # 20:00 would end 21:00 in the game; later does not fit before the gym closes at 22:00.
        ("ADJUST_TIME", "SUCCEEDED", (local(2026, 10, 6, 18), "Main gym")),
        # The team is busy in every facility: the next day at the same time.
        ("FIND_ALTERNATIVE", "SUCCEEDED", (local(2026, 10, 7, 20), "Main gym")),
        ("OVERRIDE", "FAILED", None),
    ],
)
def test_schedule_into_a_game_follows_the_strategy(
    games, submit, run_batches, team, trainer, gym, rink, draft, strategy, status, where
):
    op = sched("s", draft.pk, local(2026, 10, 6, 20), gym.pk)
    raw = {"operations": [op], "options": {"conflictResolution": strategy}}
    [conflict] = batch_validate(user=trainer, team=team, raw=raw).items["s"].conflicts
    assert GAME in conflict["message"]
    batch = submit([op], conflictResolution=strategy, validateBeforeExecute=False)
    run_batches()
    result = item(batch, "s")
    draft.refresh_from_db()
    assert result.status == status
    if where is None:
        assert result.error["code"] == "BUSY_TIME"
        assert result.error["details"]["conflict"] == BUSY
        assert GAME in result.error["message"]
        if strategy == "OVERRIDE":
            assert "OVERRIDE cannot lift this" in result.error["message"]
        assert draft.scheduled_start is None
    else:
        assert (draft.scheduled_start, draft.facility.name) == where
        assert result.warnings[0]["code"] == "CONFLICT_BUSY_TIME"


def test_a_facility_booking_blocks_that_facility_for_every_team(pinned, submit, run_batches, team, gym, rink):
    imported_calendar_import(user=None, data=GAMES, name="Ice time", facility=gym)
    workout = WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None)
    batch = submit(
        [sched("s", workout.pk, local(2026, 10, 6, 20), gym.pk)],
        conflictResolution="FIND_ALTERNATIVE",
        validateBeforeExecute=False,
    )
    run_batches()
    workout.refresh_from_db()
    assert item(batch, "s").warnings[0]["message"].startswith("Main gym is booked: Game vs Luleå")
    assert (workout.scheduled_start, workout.facility_id) == (local(2026, 10, 6, 20), rink.pk)


def test_an_all_day_event_blocks_the_whole_local_day(games, submit, run_batches, team, gym, draft):
    batch = submit(
        [sched("s", draft.pk, local(2026, 11, 2, 7), gym.pk)],
        conflictResolution="ADJUST_TIME",
        validateBeforeExecute=False,
    )
    run_batches()
    error = item(batch, "s").error
    assert error["code"] == "BUSY_TIME"
    assert "Autumn break 2026-11-02–2026-11-03" in error["message"]
    assert "no free slot the same day" in error["message"]


def test_create_update_duplicate_and_template_see_busy_time(games, submit, run_batches, team, trainer, gym):
    template = WorkoutTemplateFactory(team=team, name="Ladders", category=Workout.Type.AGILITY)
    existing = WorkoutFactory(
        team=team, facility=gym, scheduled_start=local(2026, 10, 5, 20), scheduled_end=local(2026, 10, 5, 21)
    )
    in_game = {"start": local(2026, 10, 6, 20).isoformat(), "facilityId": gym.pk}
    moved = {"scheduledStart": in_game["start"], "scheduledEnd": local(2026, 10, 6, 21).isoformat()}
    new = {"name": "New", "type": "STRENGTH"}
    operations = [
        {"id": "create", "type": "CREATE", "data": {"workout": new, "schedule": in_game}},
        {
            "id": "template",
            "type": "CREATE",
            "data": {"workout": {}, "templateId": template.pk, "schedule": in_game},
        },
        {"id": "update", "type": "UPDATE", "data": {"workoutId": existing.pk, "updates": moved}},
        {
            "id": "duplicate",
            "type": "DUPLICATE",
            "data": {"workoutId": existing.pk, "count": 1, "dateShiftDays": 1},
        },
    ]
    report = batch_validate(user=trainer, team=team, raw={"operations": operations, "options": {}})
    for op in operations:
        assert any(GAME in c["message"] for c in report.items[op["id"]].conflicts), op["id"]
    batch = submit(operations, conflictResolution="FAIL", validateBeforeExecute=False)
    run_batches()
    for op in operations:
        assert item(batch, op["id"]).error["code"] == "BUSY_TIME", op["id"]
    assert Workout.objects.filter(team=team).count() == 1


def test_a_weekly_series_skips_only_the_game_days(games, submit, run_batches, team, gym, draft):
    # Tuesdays 20:00 from 6 October, four weeks: games on the 6th and 13th; the 20th is the EXDATE
    # (no game); the 27th's game was moved to 17:00–19:30, so 20:00 is free.
    recurrence = {"frequency": "weekly", "weekdays": ["TU"], "count": 4}
    batch = submit(
        [
            {
                "id": "s",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": draft.pk,
                    "start": local(2026, 10, 6, 20).isoformat(),
                    "facilityId": gym.pk,
                    "recurrence": recurrence,
                },
                "conflictResolution": "SKIP",
            }
        ],
        validateBeforeExecute=False,
    )
    run_batches()
    result = item(batch, "s")
    assert result.status == "SUCCEEDED", result.error
    parts = {p["date"]: p["outcome"] for p in result.result["parts"]}
    assert parts == {
        "2026-10-06": "skipped",
        "2026-10-13": "skipped",
        "2026-10-20": "moved",
        "2026-10-27": "created",
    }
    placed = Workout.objects.filter(team=team, scheduled_start__isnull=False).order_by("scheduled_start")
    assert [p.scheduled_start for p in placed] == [local(2026, 10, 20, 20), local(2026, 10, 27, 20)]
    assert "Game vs Luleå 2026-10-13 19:00–21:30" in result.warnings[0]["message"]
