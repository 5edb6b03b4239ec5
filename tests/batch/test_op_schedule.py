"""SCHEDULE run in-process by the runner: moves, recurrence, facility conflicts and strategies, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem
from batch.operations.schedule import occurrence_days
from batch.validation import batch_validate
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    FacilityFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Workout

pytestmark = pytest.mark.django_db
QUERY_BOUND = 45
DAY = (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def sched(op_id: str, workout_id, start: str, **data) -> dict:
    extra = {k: data.pop(k) for k in ("conflictResolution",) if k in data}
    return {
        "id": op_id,
        "type": "SCHEDULE",
        "data": {"workoutId": workout_id, "start": start, **data},
        **extra,
    }


def local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def gym(db):
    return FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))


@pytest.fixture
def rink(db):
    return FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23))


def test_schedule_moves_a_draft_and_logs_the_change(submit, run_batches, team, gym):
    workout = WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None)
    batch = submit([sched("s", workout.pk, f"{DAY}T10:00:00", end=f"{DAY}T11:30:00", facilityId=gym.pk)])
    run_batches()
    workout.refresh_from_db()
    assert (workout.status, workout.facility_id, workout.version) == ("scheduled", gym.pk, 2)
    assert local(workout.scheduled_start) == f"{DAY} 10:00" and local(workout.scheduled_end) == f"{DAY} 11:30"
    change = BatchChange.objects.get(batch=batch)
    assert change.action == "updated" and change.before == {
        "scheduled_start": None,
        "scheduled_end": None,
        "facility_id": None,
        "status": "draft",
    }
    assert change.after["facility_id"] == gym.pk and change.version_after == 2


def test_weekly_recurrence_moves_the_first_and_copies_the_rest(submit, run_batches, team, gym):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    player = PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player, load_percent=90)
    start = dt.date.fromisoformat(DAY)
    monday = start - dt.timedelta(days=start.weekday())
    recurrence = {
        "frequency": "weekly",
        "weekdays": ["MO", 3],
        "count": 6,
        "exceptions": [(monday + dt.timedelta(weeks=1)).isoformat()],
    }
    batch = submit(
        [sched("s", workout.pk, f"{monday.isoformat()}T08:00:00", facilityId=gym.pk, recurrence=recurrence)]
    )
    run_batches()
    result = item(batch, "s")
    assert result.status == "SUCCEEDED", result.error
    assert result.result["occurrences"] == 5 and len(result.result["createdIds"]) == 4
    copies = Workout.objects.filter(source_workout=workout).order_by("scheduled_start")
    assert [timezone.localtime(c.scheduled_start).weekday() for c in copies] == [3, 3, 0, 3]
    assert all(c.workout_exercises.count() == 1 and c.assignments.get().load_percent == 90 for c in copies)
    assert BatchChange.objects.filter(batch=batch, action="created").count() == 4


def test_occurrence_rules():
    first = dt.date(2027, 1, 31)
    assert occurrence_days(first, {"frequency": "monthly", "count": 3}) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 3, 31),
        dt.date(2027, 5, 31),
    ]
    assert len(occurrence_days(first, {"frequency": "daily", "until": "2027-02-09"})) == 10
    assert occurrence_days(dt.date(2027, 1, 4), {"frequency": "biweekly", "count": 2}) == [
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 18),
    ]
    assert occurrence_days(dt.date(2027, 1, 4), {"frequency": "daily", "weekdays": [5, 6], "count": 2}) == [
        dt.date(2027, 1, 9),
        dt.date(2027, 1, 10),
    ]


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"recurrence": {"frequency": "daily", "until": "2030-01-01"}}, "data.recurrence", "more than 366"),
        ({"recurrence": {"frequency": "daily"}}, "data.recurrence", "until or count"),
        ({"recurrence": {"frequency": "hourly", "count": 2}}, "data.recurrence.frequency", "must be one of"),
        (
            {"recurrence": {"frequency": "weekly", "count": 2, "weekdays": ["XX"]}},
            "data.recurrence.weekdays[0]",
            "0-6",
        ),
        ({"end": f"{DAY}T09:00:00"}, "data.end", "after the start"),
    ],
)
def test_schedule_request_errors(trainer, team, data, field, fragment):
    raw = {"operations": [sched("s", 1, f"{DAY}T10:00:00", **data)]}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert any(p.field == field and fragment in p.message for p in report.problems), report.problems


def test_schedule_item_errors(trainer, team):
    done = WorkoutFactory(team=team, status="completed")
    raw = {
        "operations": [
            sched("done", done.pk, f"{DAY}T10:00:00"),
            sched("nofacility", done.pk, f"{DAY}T10:00:00", facilityId=98765),
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert "cannot be scheduled" in report.items["done"].errors[0]["message"]
    assert report.items["nofacility"].errors[0]["code"] == "NOT_FOUND"


@pytest.fixture
def busy_gym(team, gym):
    start = timezone.make_aware(dt.datetime.fromisoformat(f"{DAY}T10:00:00"))
    return WorkoutFactory(
        team=team, facility=gym, scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1)
    )


@pytest.mark.parametrize(
    ("strategy", "status", "where"),
    [
        ("SKIP", "SKIPPED", None),
        ("FAIL", "FAILED", None),
        ("ADJUST_TIME", "SUCCEEDED", f"{DAY} 11:00 Main gym"),
        ("FIND_ALTERNATIVE", "SUCCEEDED", f"{DAY} 10:15 Rink"),
        ("OVERRIDE", "SUCCEEDED", f"{DAY} 10:15 Main gym"),
    ],
)
def test_facility_double_booking_follows_the_strategy(
    submit, run_batches, team, gym, rink, busy_gym, strategy, status, where
):
    workout = WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None)
    batch = submit(
        [sched("s", workout.pk, f"{DAY}T10:15:00", end=f"{DAY}T11:15:00", facilityId=gym.pk)],
        conflictResolution=strategy,
        validateBeforeExecute=False,
    )
    run_batches()
    result = item(batch, "s")
    assert result.status == status
    workout.refresh_from_db()
    if where is None:
        assert result.error["code"] == "CONFLICT"
        assert result.error["details"]["conflict"] == "FACILITY_DOUBLE_BOOKED"
        assert workout.scheduled_start is None
        return
    assert f"{local(workout.scheduled_start)} {workout.facility.name}" == where
    busy_gym.refresh_from_db()
    if strategy == "OVERRIDE":
        assert busy_gym.facility_id is None and busy_gym.version == 2
        change = BatchChange.objects.get(batch=batch, object_id=busy_gym.pk)
        assert change.before == {"facility_id": gym.pk} and change.version_after == 2
    else:
        assert busy_gym.facility_id == gym.pk


def test_outside_facility_hours_and_adjust_time_without_room(submit, run_batches, team, gym, trainer):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [sched("s", workout.pk, f"{DAY}T21:00:00", end=f"{DAY}T22:00:00", facilityId=gym.pk)],
        "options": {"conflictResolution": "ADJUST_TIME"},
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    conflict = report.items["s"].conflicts[0]
    assert conflict["kind"] == "OUTSIDE_FACILITY_HOURS" and conflict["outcome"].startswith("moved to")
    raw["options"]["conflictResolution"] = "FAIL"
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.items["s"].errors[0]["details"]["conflict"] == "OUTSIDE_FACILITY_HOURS"


def test_items_of_one_chunk_see_each_others_bookings(submit, run_batches, team, gym):
    a, b = WorkoutFactory.create_batch(2, team=team)
    batch = submit(
        [
            sched("a", a.pk, f"{DAY}T10:00:00", facilityId=gym.pk),
            sched("b", b.pk, f"{DAY}T10:30:00", facilityId=gym.pk),
        ],
        conflictResolution="FAIL",
        validateBeforeExecute=False,
    )
    run_batches()
    assert item(batch, "a").status == "SUCCEEDED" and item(batch, "b").status == "FAILED"


def test_blocked_player_on_an_occurrence_date_fails_the_series(submit, run_batches, team):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout)
    player = PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player)
    later = dt.date.fromisoformat(DAY) + dt.timedelta(days=14)
    RestrictionFactory(
        player=player,
        severity=MedicalRestriction.Severity.COMPLETE,
        effective_date=later,
        expiry_date=later + dt.timedelta(days=30),
    )
    batch = submit(
        [sched("s", workout.pk, f"{DAY}T10:00:00", recurrence={"frequency": "weekly", "count": 4})],
        validateBeforeExecute=False,
        blockedPlayers="fail",
    )
    run_batches()
    assert item(batch, "s").error["code"] == "MEDICAL_RESTRICTION"
    assert not Workout.objects.filter(source_workout=workout).exists()


def test_a_100_item_chunk_runs_in_as_many_queries_as_a_10_item_one(submit, run_batches, team, gym, rink):
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for w in workouts[:5]:
            AssignmentFactory(workout=w)
            WorkoutExerciseFactory(workout=w)
        base = dt.date.fromisoformat(DAY) + dt.timedelta(days=30 if n == 100 else 0)
        ops = [
            sched(
                f"{n}-{i}",
                w.pk,
                f"{base + dt.timedelta(days=i // 10)}T{8 + i % 10}:00:00",
                facilityId=gym.pk,
                recurrence={"frequency": "weekly", "count": 2} if i % 2 else None,
            )
            for i, w in enumerate(workouts)
        ]
        for o in ops:
            if o["data"]["recurrence"] is None:
                del o["data"]["recurrence"]
        batch = submit(ops, chunkSize=n, conflictResolution="FIND_ALTERNATIVE")
        counts.append(len(capture(run_batches)))
        assert Batch.objects.get(pk=batch.pk).succeeded == n, (
            BatchItem.objects.filter(batch=batch).exclude(status="SUCCEEDED").values("error")[:3]
        )
    assert max(counts) <= QUERY_BOUND and abs(counts[1] - counts[0]) <= 3, counts


def capture(run_batches):
    with CaptureQueriesContext(connection) as captured:
        run_batches()
    return captured.captured_queries
