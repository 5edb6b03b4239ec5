"""UPDATE run in-process by the runner: time and facility changes on the calendar, strategies, chunk state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem
from batch.undo import batch_undo
from batch.validation import batch_validate
from tests.factories import AssignmentFactory, FacilityFactory, PlayerFactory, WorkoutFactory
from workouts.calendar import Calendar
from workouts.models import Workout

pytestmark = pytest.mark.django_db
# Measured: 39 for 10 items and 40 for 100 (the whole in-process run; the runner's transactions are
# savepoints inside the test's, and the run loop reads the unfinished batches once per pass; from 64
# rows on, bulk writes stage their rows with COPY, one statement more each).
QUERY_BOUND = 43
DAY = (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def upd(op_id: str, workout_id, expected: int | None = None, strategy: str | None = None, **updates) -> dict:
    data: dict = {"workoutId": workout_id, "updates": updates}
    if expected is not None:
        data["expectedVersion"] = expected
    op = {"id": op_id, "type": "UPDATE", "data": data}
    if strategy:
        op["conflictResolution"] = strategy
    return op


def at(hour: int, minute: int = 0, day: str = DAY) -> str:
    return f"{day}T{hour:02d}:{minute:02d}:00"


def local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def gym(db):
    return FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))


@pytest.fixture
def rink(db):
    return FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23))


@pytest.fixture
def busy_gym(team, gym):
    start = timezone.make_aware(dt.datetime.fromisoformat(at(10)))
    return WorkoutFactory(
        team=team, facility=gym, scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1)
    )


@pytest.mark.parametrize(
    ("strategy", "status", "where"),
    [
        ("SKIP", "SKIPPED", None),
        ("FAIL", "FAILED", None),
        ("ADJUST_TIME", "SUCCEEDED", f"{DAY} 11:00–12:00 Main gym"),
        ("FIND_ALTERNATIVE", "SUCCEEDED", f"{DAY} 10:15–11:15 Rink"),
        ("OVERRIDE", "SUCCEEDED", f"{DAY} 10:15–11:15 Main gym"),
    ],
)
def test_update_into_a_booked_facility_follows_the_strategy(
    submit, run_batches, team, gym, rink, busy_gym, strategy, status, where
):
    workout = WorkoutFactory(team=team, notes="before")
    original = (workout.scheduled_start, workout.scheduled_end, workout.facility_id)
    batch = submit(
        [
            upd(
                "u",
                workout.pk,
                facilityId=gym.pk,
                scheduledStart=at(10, 15),
                scheduledEnd=at(11, 15),
                notes="n",
            )
        ],
        conflictResolution=strategy,
        validateBeforeExecute=False,
    )
    run_batches()
    result = item(batch, "u")
    assert result.status == status, result.error
    workout.refresh_from_db()
    busy_gym.refresh_from_db()
    if where is None:
        assert result.error["code"] == "CONFLICT"
        assert result.error["details"]["conflict"] == "FACILITY_DOUBLE_BOOKED"
        assert (workout.scheduled_start, workout.scheduled_end, workout.facility_id) == original
        assert workout.notes == "before" and workout.version == 1
        return
    placed = f"{local(workout.scheduled_start)}–{timezone.localtime(workout.scheduled_end):%H:%M}"
    assert f"{placed} {workout.facility.name}" == where and workout.notes == "n"
    assert result.warnings and result.warnings[0]["code"] == "CONFLICT_FACILITY_DOUBLE_BOOKED"
    change = BatchChange.objects.get(batch=batch, object_id=workout.pk)
    assert dt.datetime.fromisoformat(change.after["scheduled_start"]) == workout.scheduled_start
    assert change.before["facility_id"] is None and change.version_after == 2
    if strategy == "OVERRIDE":
        assert busy_gym.facility_id is None and busy_gym.version == 2
        taken = BatchChange.objects.get(batch=batch, object_id=busy_gym.pk)
        assert taken.before == {"facility_id": gym.pk} and taken.version_after == 2
    else:
        assert busy_gym.facility_id == gym.pk and busy_gym.version == 1


def test_the_dry_run_lists_update_conflicts_and_what_the_strategy_does(trainer, team, gym, busy_gym):
    workout = WorkoutFactory(team=team)
    player = PlayerFactory(team=team, daily_load_limit=200)
    AssignmentFactory(workout=workout, player=player, load_percent=100)
    AssignmentFactory(workout=busy_gym, player=player, load_percent=100)
    raw = {
        "operations": [
            upd("late", workout.pk, facilityId=gym.pk, scheduledStart=at(20, 30), scheduledEnd=at(21, 30)),
            upd("clash", workout.pk, scheduledStart=at(10, 30), scheduledEnd=at(11, 30), strategy="FAIL"),
        ],
        "options": {"conflictResolution": "ADJUST_TIME"},
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    late = report.items["late"]
    assert not late.errors and late.conflicts[0]["kind"] == "OUTSIDE_FACILITY_HOURS"
    assert late.conflicts[0]["outcome"].startswith("moved to")
    # "clash" is checked against the gym "late" left it in, and the player's other workout.
    clash = report.items["clash"].errors[0]
    kinds = {c["kind"] for c in clash["details"]["conflicts"]}
    assert clash["code"] == "CONFLICT"
    assert kinds == {"FACILITY_DOUBLE_BOOKED", "PLAYER_DOUBLE_BOOKED"}


def test_assigned_players_double_booked_or_over_their_load_fail_the_move(submit, run_batches, team):
    player = PlayerFactory(team=team, daily_load_limit=120)
    moving = WorkoutFactory(team=team)
    AssignmentFactory(workout=moving, player=player, load_percent=60)
    other = WorkoutFactory(
        team=team,
        scheduled_start=timezone.make_aware(dt.datetime.fromisoformat(at(8))),
        scheduled_end=timezone.make_aware(dt.datetime.fromisoformat(at(9))),
    )
    AssignmentFactory(workout=other, player=player, load_percent=70)
    batch = submit(
        [
            upd("overlap", moving.pk, scheduledStart=at(8, 30), scheduledEnd=at(9, 30)),
            upd("load", moving.pk, scheduledStart=at(15), scheduledEnd=at(16)),
        ],
        conflictResolution="FAIL",
        validateBeforeExecute=False,
    )
    run_batches()
    overlap, load = item(batch, "overlap"), item(batch, "load")
    assert overlap.status == "FAILED"
    assert {c["kind"] for c in overlap.error["details"]["conflicts"]} == {
        "PLAYER_DOUBLE_BOOKED",
        "DAILY_LOAD_LIMIT",
    }
    assert load.error["details"]["conflict"] == "DAILY_LOAD_LIMIT"
    moving.refresh_from_db()
    assert moving.version == 1


def test_a_second_update_of_a_workout_is_checked_against_the_first(submit, run_batches, trainer, team, gym):
    workout = WorkoutFactory(team=team, notes="original", facility=None)
    other = WorkoutFactory(team=team, scheduled_start=None, scheduled_end=None, status="draft")
    start = timezone.make_aware(dt.datetime.fromisoformat(at(10)))
    batch = submit(
        [
            upd(
                "move", workout.pk, expected=1, scheduledStart=at(10), scheduledEnd=at(11), facilityId=gym.pk
            ),
            # Valid only after "move": version 2 and a start of 10:00.
            upd("then", workout.pk, expected=2, scheduledEnd=at(10, 45), notes="second"),
            upd("stale", workout.pk, expected=1, notes="lost"),
            # The gym at 10:00 is "move"'s now.
            upd("clash", other.pk, scheduledStart=at(10, 30), facilityId=gym.pk, status="scheduled"),
        ],
        chunkSize=10,
        conflictResolution="FAIL",
        validateBeforeExecute=False,
    )
    run_batches()
    assert [item(batch, o).status for o in ("move", "then", "stale", "clash")] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "FAILED",
        "FAILED",
    ]
    assert item(batch, "stale").error["details"]["currentVersion"] == 3
    assert item(batch, "clash").error["details"]["conflict"] == "FACILITY_DOUBLE_BOOKED"
    workout.refresh_from_db()
    assert (workout.scheduled_start, workout.facility_id, workout.notes) == (start, gym.pk, "second")
    assert workout.scheduled_end == start + dt.timedelta(minutes=45) and workout.version == 3
    assert list(
        BatchChange.objects.filter(batch=batch).order_by("pk").values_list("version_after", flat=True)
    ) == [2, 3]
    assert item(batch, "then").result["version"] == 3

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()
    assert undo.status == Batch.Status.COMPLETED
    workout.refresh_from_db()
    assert (workout.facility_id, workout.notes) == (None, "original")


def test_override_locks_the_workout_it_takes_the_facility_from_and_undo_gives_it_back(
    submit, run_batches, trainer, team, gym, busy_gym
):
    workout = WorkoutFactory(team=team)
    batch = submit(
        [upd("u", workout.pk, scheduledStart=at(10), scheduledEnd=at(11), facilityId=gym.pk)],
        conflictResolution="OVERRIDE",
    )
    with CaptureQueriesContext(connection) as captured:
        run_batches()
    assert item(batch, "u").status == "SUCCEEDED"
    assert any(
        "FOR UPDATE" in q["sql"] and f'"workouts_workout"."id" IN ({busy_gym.pk})' in q["sql"]
        for q in captured.captured_queries
    )
    busy_gym.refresh_from_db()
    assert busy_gym.facility_id is None and busy_gym.version == 2

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    undo.refresh_from_db()
    assert undo.status == Batch.Status.COMPLETED
    busy_gym.refresh_from_db()
    workout.refresh_from_db()
    assert busy_gym.facility_id == gym.pk and workout.facility_id is None


def test_override_fails_when_the_workout_changed_after_the_calendar_read_it(
    submit, run_batches, monkeypatch, team, gym, busy_gym
):
    original_load = Calendar.load.__func__

    def load_then_edit(cls, **kwargs):
        calendar = original_load(cls, **kwargs)
        # Someone edits the booked workout between the calendar read and the apply.
        Workout.objects.filter(pk=busy_gym.pk).update(version=F("version") + 1, notes="edited meanwhile")
        return calendar

    monkeypatch.setattr(Calendar, "load", classmethod(load_then_edit))
    moving, untouched = WorkoutFactory.create_batch(2, team=team)
    batch = submit(
        [
            upd("u", moving.pk, scheduledStart=at(10), scheduledEnd=at(11), facilityId=gym.pk),
            upd("plain", untouched.pk, notes="fine"),
        ],
        conflictResolution="OVERRIDE",
        chunkSize=10,
    )
    run_batches()
    result = item(batch, "u")
    assert result.status == "FAILED" and result.error["code"] == "CONFLICT"
    assert result.error["details"]["conflict"] == "VERSION"
    assert result.error["details"]["workoutId"] == busy_gym.pk
    assert item(batch, "plain").status == "SUCCEEDED"
    busy_gym.refresh_from_db()
    moving.refresh_from_db()
    assert busy_gym.facility_id == gym.pk and busy_gym.notes == "edited meanwhile"
    assert moving.facility_id is None and moving.version == 1
    assert not BatchChange.objects.filter(batch=batch, object_id__in=[busy_gym.pk, moving.pk]).exists()


def test_override_leaves_the_facility_of_a_workout_the_chunk_itself_changes(submit, run_batches, team, gym):
    first, second = WorkoutFactory.create_batch(2, team=team)
    batch = submit(
        [
            upd("a", first.pk, scheduledStart=at(10), scheduledEnd=at(11), facilityId=gym.pk),
            upd("b", second.pk, scheduledStart=at(10), scheduledEnd=at(11), facilityId=gym.pk),
        ],
        conflictResolution="OVERRIDE",
        chunkSize=10,
        validateBeforeExecute=False,
    )
    run_batches()
    assert item(batch, "a").status == "SUCCEEDED"
    b = item(batch, "b")
    assert b.status == "FAILED" and "OVERRIDE cannot lift this" in b.error["message"]
    first.refresh_from_db()
    assert first.facility_id == gym.pk


def test_a_100_item_chunk_of_time_changes_runs_in_as_many_queries_as_a_10_item_one(
    submit, run_batches, team, gym, rink
):
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for w in workouts[:5]:
            AssignmentFactory(workout=w, load_percent=50)
        base = dt.date.fromisoformat(DAY) + dt.timedelta(days=30 if n == 100 else 0)
        ops = [
            upd(
                f"{n}-{i}",
                w.pk,
                scheduledStart=at(8 + i % 10, day=(base + dt.timedelta(days=i // 10)).isoformat()),
                scheduledEnd=at(9 + i % 10, day=(base + dt.timedelta(days=i // 10)).isoformat()),
                facilityId=gym.pk,
                intensity=70,
            )
            for i, w in enumerate(workouts)
        ]
        batch = submit(ops, chunkSize=n, conflictResolution="FIND_ALTERNATIVE")
        with CaptureQueriesContext(connection) as captured:
            run_batches()
        counts.append(len(captured.captured_queries))
        assert Batch.objects.get(pk=batch.pk).succeeded == n, (
            BatchItem.objects.filter(batch=batch).exclude(status="SUCCEEDED").values("error")[:3]
        )
    # One more per bulk write for 100 rows: from 64 rows on, rows go through a COPY-filled temp table.
    assert max(counts) <= QUERY_BOUND and abs(counts[1] - counts[0]) <= 3, counts


def test_moving_a_workout_onto_a_restricted_day_is_blocked_for_that_player(submit, run_batches, team):
    from medical.models import MedicalRestriction
    from tests.factories import ExerciseFactory, RestrictionFactory, WorkoutExerciseFactory

    workout = WorkoutFactory(team=team, scheduled_start=timezone.make_aware(dt.datetime.fromisoformat(at(9))))
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name="Box jump", body_parts=["knee"]))
    player = PlayerFactory(team=team, first_name="Kim", last_name="Berg")
    AssignmentFactory(workout=workout, player=player)
    later = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    # The knee restriction starts after the workout's current day and covers the new one.
    RestrictionFactory(
        player=player,
        title="Knee sprain",
        severity=MedicalRestriction.Severity.SEVERE,
        effective_date=timezone.localdate() + dt.timedelta(days=15),
        expiry_date=timezone.localdate() + dt.timedelta(days=40),
    )
    batch = submit(
        [
            upd("move", workout.pk, scheduledStart=at(9, day=later), scheduledEnd=at(10, day=later)),
            upd("easier", workout.pk, notes="only notes: no medical re-check needed"),
        ],
        validateBeforeExecute=False,
        chunkSize=1,
        blockedPlayers="fail",
    )
    run_batches()
    moved = item(batch, "move")
    assert moved.status == "FAILED" and moved.error["code"] == "MEDICAL_RESTRICTION"
    assert "Kim Berg" in moved.error["message"] and "Knee sprain" in moved.error["message"]
    assert item(batch, "easier").status == "SUCCEEDED"
    workout.refresh_from_db()
    assert local(workout.scheduled_start).startswith(DAY)


def test_raising_intensity_above_a_players_limit_is_checked(trainer, team):
    from medical.models import MedicalRestriction
    from tests.factories import ExerciseFactory, RestrictionFactory, WorkoutExerciseFactory

    workout = WorkoutFactory(team=team, intensity=50)
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(body_parts=["shoulder"], intensity=40))
    player = PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=player)
    RestrictionFactory(
        player=player, severity=MedicalRestriction.Severity.SEVERE, body_parts=[], max_exertion=60
    )
    report = batch_validate(
        user=trainer,
        team=team,
        raw={"operations": [upd("hard", workout.pk, intensity=90)], "options": {"blockedPlayers": "fail"}},
    )
    assert report.items["hard"].errors[0]["code"] == "MEDICAL_RESTRICTION"
    assert [m["verdict"] for m in report.items["hard"].medical] == ["blocked"]
