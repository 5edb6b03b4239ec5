"""ASSIGN, run in-process by the runner: add, update, replace, medical outcomes, calendar conflicts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batch.models import Batch, BatchChange, BatchItem
from batch.validation import batch_validate
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment, Exercise

pytestmark = pytest.mark.django_db
QUERY_BOUND = 45


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def assign(op_id: str, workout_id, *players, remove=False, **extra) -> dict:
    data = {
        "workoutId": workout_id,
        "assignments": [p if isinstance(p, dict) else {"playerId": p} for p in players],
    }
    if remove:
        data["removeExisting"] = True
    return {"id": op_id, "type": "ASSIGN", "data": data, **extra}


def worker_queries(run_batches) -> int:
    with CaptureQueriesContext(connection) as captured:
        run_batches()
    return len(captured.captured_queries)


@pytest.fixture
def squat_workout(team):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name="Back squat"))
    return workout


def test_assign_adds_updates_and_logs(submit, run_batches, team, squat_workout):
    p1, p2 = PlayerFactory(team=team), PlayerFactory(team=team)
    existing = AssignmentFactory(workout=squat_workout, player=p2, load_percent=100)
    batch = submit(
        [
            assign(
                "a",
                squat_workout.pk,
                {"playerId": p1.pk, "role": "assistant", "loadPercent": 70},
                {"playerId": p2.pk, "loadPercent": 50},
            )
        ]
    )
    run_batches()
    assert item(batch, "a").status == "SUCCEEDED", item(batch, "a").error
    new = Assignment.objects.get(workout=squat_workout, player=p1)
    assert (new.role, new.load_percent, new.medical_verdict) == ("assistant", 70, "compliant")
    existing.refresh_from_db()
    assert (existing.load_percent, existing.version) == (50, 2)
    changes = {c.action: c for c in BatchChange.objects.filter(batch=batch)}
    assert changes["assigned"].object_id == new.pk and changes["assigned"].after["player_id"] == p1.pk
    assert changes["updated"].before["load_percent"] == 100 and changes["updated"].after["load_percent"] == 50
    assert changes["updated"].version_after == 2
    assert item(batch, "a").result["assigned"] == [p1.pk] and item(batch, "a").result["updated"] == [p2.pk]


def test_remove_existing_replaces_the_roster_and_logs_full_rows(submit, run_batches, team, squat_workout):
    keep, gone, new = (PlayerFactory(team=team) for _ in range(3))
    AssignmentFactory(workout=squat_workout, player=keep)
    old = AssignmentFactory(workout=squat_workout, player=gone, load_percent=90)
    batch = submit([assign("a", squat_workout.pk, keep.pk, new.pk, remove=True)])
    run_batches()
    assert set(Assignment.objects.filter(workout=squat_workout).values_list("player_id", flat=True)) == {
        keep.pk,
        new.pk,
    }
    change = BatchChange.objects.get(batch=batch, action="unassigned")
    assert change.object_id == old.pk
    assert change.before == {
        "workout_id": squat_workout.pk,
        "player_id": gone.pk,
        "role": "participant",
        "load_percent": 90,
        "status": "assigned",
        "medical_verdict": "unchecked",
        "modifications": [],
        "version": 1,
    }


def test_validation_errors_name_the_field(trainer, team, squat_workout, other_team):
    stranger = PlayerFactory(team=other_team)
    player = PlayerFactory(team=team)
    raw = {
        "operations": [
            assign("missing-player", squat_workout.pk, stranger.pk),
            assign("twice", squat_workout.pk, player.pk, player.pk),
            assign("no-workout", 987654, player.pk),
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.items["missing-player"].errors[0]["code"] == "NOT_FOUND"
    assert report.items["missing-player"].errors[0]["details"]["field"] == "data.assignments[0].playerId"
    assert "listed twice" in report.items["twice"].errors[0]["message"]
    assert report.items["no-workout"].errors[0]["code"] == "NOT_FOUND"
    bad = batch_validate(
        user=trainer,
        team=team,
        raw={"operations": [assign("x", squat_workout.pk, {"playerId": player.pk, "loadPercent": 500})]},
    )
    assert bad.problems[0].field == "data.assignments[0].loadPercent"


def test_blocked_player_fails_with_medical_restriction_and_alternatives(
    submit, run_batches, team, squat_workout
):
    ExerciseFactory(name="Seated row", body_parts=["upper_back"], movement_patterns=["pull"])
    ok, hurt = PlayerFactory(team=team), PlayerFactory(team=team, first_name="Kim", last_name="Berg")
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE, title="ACL tear")
    batch = submit(
        [assign("a", squat_workout.pk, ok.pk, hurt.pk)], validateBeforeExecute=False, blockedPlayers="fail"
    )
    run_batches()
    error = item(batch, "a").error
    assert item(batch, "a").status == "FAILED" and error["code"] == "MEDICAL_RESTRICTION"
    assert (
        "Kim Berg" in error["message"] and "ACL tear" in error["message"] and "Back squat" in error["message"]
    )
    assert "Kim Berg: replace Back squat with Seated row" in error["suggestedAction"]
    assert not Assignment.objects.filter(workout=squat_workout).exists()


def test_modified_player_gets_capped_load_and_substitutions(
    submit, run_batches, team, squat_workout, trainer
):
    ExerciseFactory(name="Seated row", body_parts=["upper_back"], movement_patterns=["pull"], intensity=55)
    player = PlayerFactory(team=team)
    RestrictionFactory(player=player, severity=MedicalRestriction.Severity.MODERATE, max_exertion=80)
    squat_workout.intensity = 90  # above max exertion: the load is capped
    squat_workout.save()
    raw = {"operations": [assign("a", squat_workout.pk, {"playerId": player.pk, "loadPercent": 100})]}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert [m["verdict"] for m in report.items["a"].medical] == ["modified"]
    submit(raw["operations"])
    run_batches()
    assignment = Assignment.objects.get(workout=squat_workout, player=player)
    assert assignment.medical_verdict == "modified" and assignment.load_percent == 80
    assert assignment.modifications[0]["replacementName"] == "Seated row"


def test_medic_can_turn_the_check_off_and_blocked_stays_visible(
    submit, run_batches, team, squat_workout, medic
):
    player = PlayerFactory(team=team)
    RestrictionFactory(player=player, severity=MedicalRestriction.Severity.COMPLETE)
    batch = submit([assign("a", squat_workout.pk, player.pk)], user=medic, medicalComplianceCheck=False)
    run_batches()
    assert item(batch, "a").status == "SUCCEEDED"
    assert Assignment.objects.get(workout=squat_workout, player=player).medical_verdict == "blocked"
    batch.refresh_from_db()
    assert batch.medical_check_disabled_by == medic


@pytest.fixture
def double_booking(team, squat_workout):
    """A player already on another workout overlapping the squat workout."""
    player = PlayerFactory(team=team)
    other = WorkoutFactory(
        team=team,
        scheduled_start=squat_workout.scheduled_start + dt.timedelta(minutes=30),
        scheduled_end=squat_workout.scheduled_end + dt.timedelta(minutes=30),
    )
    booked = AssignmentFactory(workout=other, player=player, load_percent=60)
    return player, other, booked


@pytest.mark.parametrize(
    ("strategy", "status", "assigned"),
    [
        ("SKIP", "SKIPPED", False),
        ("FAIL", "FAILED", False),
        ("ADJUST_TIME", "FAILED", False),
        ("FIND_ALTERNATIVE", "FAILED", False),
        ("OVERRIDE", "SUCCEEDED", True),
    ],
)
def test_double_booking_follows_the_strategy(
    submit, run_batches, squat_workout, double_booking, strategy, status, assigned
):
    player, other, booked = double_booking
    batch = submit(
        [assign("a", squat_workout.pk, player.pk)], conflictResolution=strategy, validateBeforeExecute=False
    )
    run_batches()
    result = item(batch, "a")
    assert result.status == status
    assert Assignment.objects.filter(workout=squat_workout, player=player).exists() is assigned
    if status != "SUCCEEDED":
        assert result.error["code"] == "CONFLICT"
        assert result.error["details"]["conflict"] == "PLAYER_DOUBLE_BOOKED"
        assert result.error["details"]["conflicts"][0]["workoutId"] == other.pk
    else:
        assert not Assignment.objects.filter(pk=booked.pk).exists()
        change = BatchChange.objects.get(batch=batch, action="unassigned")
        assert change.object_id == booked.pk and change.before["load_percent"] == 60
        assert result.warnings[0]["code"] == "CONFLICT_PLAYER_DOUBLE_BOOKED"


def test_per_operation_strategy_overrides_the_batch_one(submit, run_batches, squat_workout, double_booking):
    player, _, _ = double_booking
    batch = submit(
        [assign("a", squat_workout.pk, player.pk, conflictResolution="FAIL")],
        conflictResolution="OVERRIDE",
        validateBeforeExecute=False,
    )
    run_batches()
    assert item(batch, "a").status == "FAILED"


def test_dry_run_lists_conflicts_with_their_resolution(trainer, team, squat_workout, double_booking):
    player, _, _ = double_booking
    for strategy, outcome in (("SKIP", "SKIPPED"), ("OVERRIDE", "the player is taken off")):
        raw = {
            "operations": [assign("a", squat_workout.pk, player.pk)],
            "options": {"conflictResolution": strategy},
        }
        report = batch_validate(user=trainer, team=team, raw=raw).as_dict()
        conflict = report["items"][0]["conflicts"][0]
        assert conflict["resolution"] == strategy and outcome in conflict["outcome"]
        assert report["summary"]["conflicts"] == 1


def test_daily_load_limit_is_a_conflict_and_counts_earlier_items_of_the_chunk(submit, run_batches, team):
    player = PlayerFactory(team=team, daily_load_limit=150)
    morning = WorkoutFactory(team=team)
    afternoon = WorkoutFactory(
        team=team,
        scheduled_start=morning.scheduled_start + dt.timedelta(hours=5),
        scheduled_end=morning.scheduled_end + dt.timedelta(hours=5),
    )
    batch = submit(
        [
            assign("am", morning.pk, {"playerId": player.pk, "loadPercent": 100}),
            assign("pm", afternoon.pk, {"playerId": player.pk, "loadPercent": 80}),
        ],
        conflictResolution="FAIL",
        validateBeforeExecute=False,
    )
    run_batches()
    assert item(batch, "am").status == "SUCCEEDED"
    error = item(batch, "pm").error
    assert error["details"]["conflict"] == "DAILY_LOAD_LIMIT" and "180%" in error["message"]


def test_assign_after_create_in_the_same_batch(submit, run_batches, team):
    player = PlayerFactory(team=team)
    batch = submit(
        [
            {"id": "new", "type": "CREATE", "data": {"workout": {"name": "Legs", "type": "STRENGTH"}}},
            assign("a", {"$ref": "new"}, player.pk, dependencies=["new"]),
        ]
    )
    run_batches()
    assert item(batch, "a").status == "SUCCEEDED"
    assert Assignment.objects.get(player=player).workout.name == "Legs"


def test_a_100_item_chunk_runs_in_as_many_queries_as_a_10_item_one(submit, run_batches, team):
    exercise = ExerciseFactory()
    alt = ExerciseFactory(body_parts=["chest"], movement_patterns=["push"])  # noqa: F841
    players = PlayerFactory.create_batch(20, team=team)
    RestrictionFactory(player=players[0], severity="moderate")
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for i, w in enumerate(workouts):
            w.scheduled_start += dt.timedelta(days=i % 7, hours=i // 7 % 8)
            w.scheduled_end = w.scheduled_start + dt.timedelta(minutes=30)
            w.save()
            WorkoutExerciseFactory(workout=w, exercise=exercise)
        ops = [
            assign(f"{n}-{w.pk}", w.pk, players[i % 20].pk, players[(i + 7) % 20].pk)
            for i, w in enumerate(workouts)
        ]
        batch = submit(ops, chunkSize=n, conflictResolution="OVERRIDE")
        counts.append(worker_queries(run_batches))
        assert Batch.objects.get(pk=batch.pk).succeeded == n
    # Same statements whatever the size; which optional writes (update, delete) run may differ.
    assert max(counts) <= QUERY_BOUND and abs(counts[1] - counts[0]) <= 3, counts
    assert Exercise.objects.count() == 2
