"""A series and a set of copies are resolved part by part, and the dry run predicts exactly what runs.

Under SKIP a colliding occurrence or copy is dropped alone; the item's result lists each part, created,
moved or skipped with its reason. For every operation type that meets the calendar, the dry run's
prediction (outcome, and for series and copies each part) equals what the run then does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchItem
from batch.validation import batch_validate
from batch.wording import part_rows
from tests.factories import (
    AssignmentFactory,
    FacilityFactory,
    PlayerFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Workout

pytestmark = pytest.mark.django_db
MONDAY = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday() + 7)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def gym(db):
    return FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))


@pytest.fixture
def week_two_taken(team, gym):
    """Another workout holds the gym on the series' second Monday, 10:00-11:00."""
    day = MONDAY + dt.timedelta(days=7)
    return WorkoutFactory(
        team=team, name="Busy", facility=gym, scheduled_start=at(day, 10), scheduled_end=at(day, 11)
    )


def series(workout_id: int, gym_id: int, strategy: str) -> dict:
    return {
        "id": "s",
        "type": "SCHEDULE",
        "conflictResolution": strategy,
        "data": {
            "workoutId": workout_id,
            "start": at(MONDAY, 10).isoformat(),
            "end": at(MONDAY, 11).isoformat(),
            "facilityId": gym_id,
            "recurrence": {"frequency": "weekly", "count": 4},
        },
    }


def copies(workout_id: int, strategy: str) -> dict:
    return {
        "id": "d",
        "type": "DUPLICATE",
        "conflictResolution": strategy,
        "data": {"workoutId": workout_id, "count": 3, "dateShiftDays": 7, "includeAssignments": True},
    }


def predicted(report, op_id: str) -> str:
    entry = report.items[op_id]
    if entry.errors:
        return BatchItem.Status.FAILED
    if any(c.get("outcome") == "SKIPPED" and c.get("code") for c in entry.conflicts) and not entry.parts:
        return BatchItem.Status.SKIPPED
    if entry.parts and all(p["outcome"] == "skipped" for p in entry.parts):
        return BatchItem.Status.SKIPPED
    return BatchItem.Status.SUCCEEDED


def without_ids(parts: list[dict]) -> list[dict]:
    return [{k: v for k, v in p.items() if k != "workoutId"} for p in parts]


def dry_run_then_run(submit, run_batches, trainer, team, operations: list[dict]) -> tuple:
    report = batch_validate(user=trainer, team=team, raw={"operations": operations})
    batch = submit(operations, validateBeforeExecute=False)
    run_batches()
    return report, {i.op_id: i for i in BatchItem.objects.filter(batch=batch)}


def test_skip_drops_only_the_colliding_occurrence_and_the_result_names_it(
    submit, run_batches, trainer, team, gym, week_two_taken
):
    workout = WorkoutFactory(
        team=team, name="Leg day", scheduled_start=None, scheduled_end=None, status="draft"
    )
    report, items = dry_run_then_run(submit, run_batches, trainer, team, [series(workout.pk, gym.pk, "SKIP")])
    parts = report.items["s"].parts
    assert [p["outcome"] for p in parts] == ["moved", "skipped", "created", "created"]
    assert "Main gym is already booked by Busy" in parts[1]["reason"]
    result = items["s"]
    assert result.status == BatchItem.Status.SUCCEEDED
    assert without_ids(result.result["parts"]) == parts  # the dry run said exactly this
    assert result.result["occurrences"] == 3 and result.result["skipped"] == 1
    assert [p.get("workoutId") for p in result.result["parts"]] == [
        workout.pk,
        None,
        *result.result["createdIds"],
    ]
    assert any(
        w["code"] == "PARTS_SKIPPED" and "1 occurrence skipped" in w["message"] for w in result.warnings
    )
    days = sorted(
        timezone.localtime(w.scheduled_start).date()
        for w in Workout.objects.filter(name="Leg day", team=team)
    )
    assert days == [MONDAY, MONDAY + dt.timedelta(days=14), MONDAY + dt.timedelta(days=21)]


def test_when_every_occurrence_collides_the_series_is_skipped_with_each_reason(
    submit, run_batches, trainer, team, gym
):
    busy = [
        WorkoutFactory(
            team=team,
            facility=gym,
            scheduled_start=at(MONDAY + dt.timedelta(days=7 * n), 10),
            scheduled_end=at(MONDAY + dt.timedelta(days=7 * n), 11),
        )
        for n in range(4)
    ]
    workout = WorkoutFactory(team=team, scheduled_start=None, scheduled_end=None, status="draft")
    report, items = dry_run_then_run(submit, run_batches, trainer, team, [series(workout.pk, gym.pk, "SKIP")])
    assert predicted(report, "s") == items["s"].status == BatchItem.Status.SKIPPED
    assert (
        items["s"].error["details"]["conflict"] == "ALL_PARTS"
        and len(items["s"].error["details"]["parts"]) == 4
    )
    workout.refresh_from_db()
    assert workout.scheduled_start is None and len(busy) == 4


def test_duplicate_skips_only_the_colliding_copy(submit, run_batches, trainer, team, gym):
    original = WorkoutFactory(
        team=team, facility=gym, scheduled_start=at(MONDAY, 10), scheduled_end=at(MONDAY, 11)
    )
    WorkoutExerciseFactory(workout=original)
    AssignmentFactory(workout=original, player=PlayerFactory(team=team))
    WorkoutFactory(team=team, facility=gym, scheduled_start=at(MONDAY + dt.timedelta(days=14), 10))
    report, items = dry_run_then_run(submit, run_batches, trainer, team, [copies(original.pk, "SKIP")])
    parts = report.items["d"].parts
    assert [p["outcome"] for p in parts] == ["created", "skipped", "created"]
    assert report.items["d"].conflicts[0]["details"]["conflict"] == "FACILITY_DOUBLE_BOOKED"
    result = items["d"]
    assert result.status == BatchItem.Status.SUCCEEDED and without_ids(result.result["parts"]) == parts
    assert len(result.result["createdIds"]) == 2 and result.result["skipped"] == 1
    assert Workout.objects.filter(source_workout=original).count() == 2


@pytest.mark.parametrize("strategy", ["SKIP", "FAIL", "ADJUST_TIME", "FIND_ALTERNATIVE", "OVERRIDE"])
def test_the_dry_run_predicts_the_outcome_of_every_type_that_meets_the_calendar(
    submit, run_batches, trainer, team, gym, week_two_taken, strategy
):
    rink = FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23))
    day = MONDAY + dt.timedelta(days=7)
    player = PlayerFactory(team=team)
    busy_player = WorkoutFactory(team=team, scheduled_start=at(day, 15), scheduled_end=at(day, 16))
    AssignmentFactory(workout=busy_player, player=player, load_percent=50)
    to_update = WorkoutFactory(team=team, facility=rink, scheduled_start=at(day, 8), scheduled_end=at(day, 9))
    to_assign = WorkoutFactory(team=team, scheduled_start=at(day, 15, 30), scheduled_end=at(day, 16, 30))
    to_schedule = WorkoutFactory(team=team, scheduled_start=None, scheduled_end=None, status="draft")
    to_copy = WorkoutFactory(
        team=team, facility=gym, scheduled_start=at(MONDAY, 10), scheduled_end=at(MONDAY, 11)
    )
    operations = [
        {
            "id": "c",
            "type": "CREATE",
            "conflictResolution": strategy,
            "data": {
                "workout": {"name": "New", "type": "STRENGTH"},
                "schedule": {
                    "start": at(day, 10).isoformat(),
                    "end": at(day, 11).isoformat(),
                    "facilityId": gym.pk,
                },
            },
        },
        {
            "id": "u",
            "type": "UPDATE",
            "conflictResolution": strategy,
            "data": {
                "workoutId": to_update.pk,
                "updates": {
                    "scheduledStart": at(day, 10, 30).isoformat(),
                    "scheduledEnd": at(day, 11, 30).isoformat(),
                    "facilityId": gym.pk,
                },
            },
        },
        {
            "id": "a",
            "type": "ASSIGN",
            "conflictResolution": strategy,
            "data": {"workoutId": to_assign.pk, "assignments": [{"playerId": player.pk}]},
        },
        series(to_schedule.pk, gym.pk, strategy),
        copies(to_copy.pk, strategy),
    ]
    # One operation per batch: each is predicted against the calendar as it is, as it then runs.
    seen: dict[str, tuple[str, bool]] = {}
    for operation in operations:
        report, items = dry_run_then_run(submit, run_batches, trainer, team, [operation])
        op_id = operation["id"]
        outcome = items[op_id]
        assert predicted(report, op_id) == outcome.status, (
            op_id,
            report.items[op_id].as_dict(),
            outcome.error,
        )
        if report.items[op_id].parts and outcome.status == BatchItem.Status.SUCCEEDED:
            assert without_ids(outcome.result["parts"]) == report.items[op_id].parts, op_id
        warned = {
            w["message"].rsplit(": ", 1)[-1] for w in outcome.warnings if w["code"].startswith("CONFLICT_")
        }
        said = {
            c["outcome"]
            for c in report.items[op_id].conflicts
            if c.get("resolution") == strategy and not c.get("code")
        }
        assert said == warned, (op_id, said, warned)
        seen[op_id] = (outcome.status, bool(report.items[op_id].conflicts))
        Batch.objects.all().delete()
    # The first of each kind to meet the busy gym (CREATE, then the series) met a conflict; later ones
    # meet what earlier operations left (OVERRIDE, for one, frees the gym).
    assert seen["c"][1] and seen["s"][1], seen


def test_the_dry_run_and_the_results_page_list_each_date_with_its_outcome_and_reason(
    trainer_client, submit, run_batches, team, gym, week_two_taken
):
    workout = WorkoutFactory(
        team=team, name="Leg day", scheduled_start=None, scheduled_end=None, status="draft"
    )
    trainer_client.post(
        reverse("workouts:select"), {"team": team.slug, "action": "all", "query": "status=draft"}
    )
    form = {
        "team": team.slug,
        "request_id": "series-1",
        "action": "validate",
        "start": f"{MONDAY.isoformat()}T10:00",
        "end": f"{MONDAY.isoformat()}T11:00",
        "facility": gym.pk,
        "frequency": "weekly",
        "count": 4,
        "opt-max_concurrency": 2,
        "opt-retry_attempts": 1,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "SKIP",
    }
    response = trainer_client.post(
        reverse("batch:operation", args=["schedule"]), form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    week_two = (MONDAY + dt.timedelta(days=7)).strftime("%a %-d %b")
    dry_run = response.content.decode()
    assert dry_run.count('class="parts__item') == 4
    assert f'{week_two}</span> <span class="badge badge--skipped">Skipped</span>' in dry_run
    assert "Main gym is already booked by Busy" in dry_run

    batch = submit([series(workout.pk, gym.pk, "SKIP")])
    run_batches()
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert page.count('class="parts__item') == 4
    assert page.count("parts__item--created") == 2 and page.count("parts__item--moved") == 1
    assert f'{week_two}</span> <span class="badge badge--skipped">Skipped</span>' in page


def test_a_single_occurrence_gets_no_list_of_dates():
    one = [{"n": 0, "date": "2026-12-07", "outcome": "moved", "start": "2026-12-07T10:00:00+01:00"}]
    assert part_rows(one) == []
    assert part_rows(None) == []
    rows = part_rows([*one, {"n": 1, "date": "2026-12-14", "outcome": "skipped", "reason": "gym is booked"}])
    assert [(r["day"], r["label"], r["reason"]) for r in rows] == [
        (dt.date(2026, 12, 7), "Scheduled", ""),
        (dt.date(2026, 12, 14), "Skipped", "Gym is booked"),
    ]
