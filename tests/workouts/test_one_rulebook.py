"""Every path asks the same workout rules and gets the same answer: the batch executors (dry run and
run), the admin (workout, assignment, the workout's inlines) and undo.

One test per rule and path, for the four places they used to disagree: moving a workout that is history
(UPDATE moved it, SCHEDULE refused), a scheduled workout without a start (CREATE took it, UPDATE refused
it), the day of an unscheduled workout late in the evening (UTC in ASSIGN, the club's day elsewhere),
and the admin and undo, which asked no workout rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchItem
from batch.undo import batch_undo
from batch.validation import batch_validate
from medical.gate import planned_workouts
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    FacilityFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.calendar import workout_day
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db
CLUB = ZoneInfo("Europe/Stockholm")
DAY = timezone.localdate() + dt.timedelta(days=7)
HISTORY = [Workout.Status.COMPLETED, Workout.Status.CANCELLED]


def at(hour: int, day: dt.date = DAY) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def error_of(report: Any, op_id: str) -> dict[str, Any]:
    errors = report.items[op_id].errors
    assert errors, f"{op_id} passed"
    return errors[0]


# --- 1. a workout in history is not moved: SCHEDULE and UPDATE ask one rule ------------------------------


def move(op_id: str, workout: Workout, **updates: Any) -> dict:
    return {"id": op_id, "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": updates}}


@pytest.mark.parametrize("status", HISTORY)
def test_update_refuses_to_move_a_workout_in_history_like_schedule(trainer, team, status):
    workout = WorkoutFactory(team=team, status=status)
    raw = {
        "operations": [
            move("update", workout, scheduledStart=at(10).isoformat()),
            {
                "id": "schedule",
                "type": "SCHEDULE",
                "data": {"workoutId": workout.pk, "start": at(10).isoformat()},
            },
        ]
    }

    report = batch_validate(user=trainer, team=team, raw=raw)

    update, schedule = error_of(report, "update"), error_of(report, "schedule")
    assert (
        update["message"]
        == schedule["message"]
        == f"workout {workout.pk} is {status} and cannot be scheduled or moved"
    )
    assert update["details"]["rule"] == schedule["details"]["rule"] == "MOVE_HISTORY"


def test_update_run_leaves_a_completed_workout_where_it_was(submit, run_batches, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.COMPLETED)
    start = workout.scheduled_start

    batch = submit([move("m", workout, facilityId=FacilityFactory().pk)], validateBeforeExecute=False)
    run_batches()

    assert item(batch, "m").status == BatchItem.Status.FAILED
    assert item(batch, "m").error["details"]["rule"] == "MOVE_HISTORY"
    workout.refresh_from_db()
    assert (workout.scheduled_start, workout.facility_id) == (start, None)


def test_update_may_still_rename_a_completed_workout(trainer, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.COMPLETED)
    raw = {"operations": [move("rename", workout, name="Leg day (done)", notes="went well")]}

    report = batch_validate(user=trainer, team=team, raw=raw)

    assert report.items["rename"].errors == ()


# --- 2. a scheduled workout has a start: CREATE and UPDATE ask one rule ----------------------------------


def test_create_refuses_a_scheduled_workout_without_a_start_like_update(trainer, team):
    draft = WorkoutFactory(team=team, status=Workout.Status.DRAFT, scheduled_start=None)
    raw = {
        "operations": [
            {"id": "create", "type": "CREATE", "data": {"workout": {"name": "Legs", "status": "scheduled"}}},
            move("update", draft, status="scheduled"),
        ]
    }

    report = batch_validate(user=trainer, team=team, raw=raw)

    create, update = error_of(report, "create"), error_of(report, "update")
    assert create["message"] == update["message"] == "a scheduled workout needs a start"
    assert create["details"]["rule"] == update["details"]["rule"] == "SCHEDULED_WITHOUT_START"
    assert create["details"]["field"] == "data.workout.status"


def test_create_run_writes_no_scheduled_workout_without_a_start(submit, run_batches, team):
    create = {"id": "c", "type": "CREATE", "data": {"workout": {"name": "Legs", "status": "scheduled"}}}

    batch = submit([create], validateBeforeExecute=False)
    run_batches()

    assert item(batch, "c").status == BatchItem.Status.FAILED
    assert not Workout.objects.filter(name="Legs").exists()


def test_create_without_a_start_is_still_a_draft(trainer, team):
    raw = {"operations": [{"id": "c", "type": "CREATE", "data": {"workout": {"name": "Legs"}}}]}

    assert batch_validate(user=trainer, team=team, raw=raw).items["c"].errors == ()


def test_create_and_assign_refuse_a_player_listed_twice_alike(trainer, team):
    player, workout = PlayerFactory(team=team, first_name="Kim", last_name="Twice"), WorkoutFactory(team=team)
    twice = [{"playerId": player.pk}, {"playerId": player.pk}]
    raw = {
        "operations": [
            {"id": "create", "type": "CREATE", "data": {"workout": {"name": "Legs"}, "assignments": twice}},
            {"id": "assign", "type": "ASSIGN", "data": {"workoutId": workout.pk, "assignments": twice}},
        ]
    }

    report = batch_validate(user=trainer, team=team, raw=raw)

    create, assign = error_of(report, "create"), error_of(report, "assign")
    assert create["message"] == assign["message"] == "player Kim Twice is listed twice"
    assert create["details"] == assign["details"] == {"field": "data.assignments[1]", "rule": "LISTED_TWICE"}


# --- 3. the day of a workout is the club's, on every path ----------------------------------------------

# At 00:30 club time it is still the day before in UTC (23:30 or 22:30): the UTC date is a day behind
# the club's. At 23:30 club time (22:30 or 21:30 UTC) both agree: a control. The suite's clock is pinned
# (tests/conftest.py); these travel to the instant they need.
AT_NIGHT = [
    pytest.param("00:30", marks=pytest.mark.clock("2026-11-19T00:30:00"), id="00:30"),
    pytest.param("23:30", marks=pytest.mark.clock("2026-11-18T23:30:00"), id="23:30"),
]


@pytest.fixture(params=AT_NIGHT)
def club_day(request) -> dt.date:
    """The club's day at the instant the test's clock is pinned to (checked: 00:30 or 23:30 there)."""
    now = dt.datetime.now(tz=CLUB)
    assert f"{now:%H:%M}" == request.param
    return now.date()


@pytest.fixture
def unscheduled(team):
    workout = WorkoutFactory(team=team, name="Leg day", status=Workout.Status.DRAFT, scheduled_start=None)
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name="Back squat", body_parts=["knee"]))
    return workout


@pytest.fixture
def hurt_from_today(team, club_day):
    """A player completely restricted from today (the club's day) on."""
    player = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(
        player=player,
        severity=MedicalRestriction.Severity.COMPLETE,
        effective_date=club_day,
        expiry_date=club_day + dt.timedelta(days=30),
    )
    return player


def test_the_day_of_an_unscheduled_workout_is_the_clubs_day(club_day, unscheduled):
    assert workout_day(None) == club_day
    assert planned_workouts([unscheduled.pk])[unscheduled.pk].on_date == club_day


def test_assign_judges_an_unscheduled_workout_on_the_clubs_day(trainer, team, unscheduled, hurt_from_today):
    assign = {"workoutId": unscheduled.pk, "assignments": [{"playerId": hurt_from_today.pk}]}
    operation = {"id": "a", "type": "ASSIGN", "data": assign}
    raw = {"operations": [operation], "options": {"blockedPlayers": "fail"}}

    report = batch_validate(user=trainer, team=team, raw=raw)

    assert error_of(report, "a")["code"] == "MEDICAL_RESTRICTION"


def test_the_assignment_admin_judges_an_unscheduled_workout_on_the_clubs_day(
    staff_client, unscheduled, hurt_from_today
):
    data = {
        "workout": unscheduled.pk,
        "player": hurt_from_today.pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
    }

    response = staff_client.post(reverse("admin:workouts_assignment_add"), data)

    assert response.status_code == 200 and "Pat Hurt is blocked" in form_errors(response)
    assert not Assignment.objects.exists()


# --- 4. the admin and undo ask the workout and calendar rules ---------------------------------------------


def form_errors(response: Any) -> str:
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def workout_post(team: Any, **fields: Any) -> dict[str, Any]:
    data = {
        "team": team.pk,
        "name": "Leg day",
        "type": Workout.Type.STRENGTH,
        "status": Workout.Status.SCHEDULED,
        "scheduled_start_0": "",
        "scheduled_start_1": "",
        "scheduled_end_0": "",
        "scheduled_end_1": "",
        "notes": "",
        "intensity": 60,
        "workout_exercises-TOTAL_FORMS": 0,
        "workout_exercises-INITIAL_FORMS": 0,
        "assignments-TOTAL_FORMS": 0,
        "assignments-INITIAL_FORMS": 0,
    }
    for name in ("scheduled_start", "scheduled_end"):
        value = fields.pop(name, None)
        if value is not None:
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"
    data.update(fields)
    return data


def workout_post_of(workout: Workout, **fields: Any) -> dict[str, Any]:
    values = {
        "name": workout.name,
        "status": workout.status,
        "scheduled_start": workout.scheduled_start,
        "scheduled_end": workout.scheduled_end,
        "facility": workout.facility_id or "",
        "intensity": workout.intensity,
        **fields,
    }
    return workout_post(workout.team, **values)


def test_the_workout_admin_refuses_a_scheduled_workout_without_a_start(staff_client, team):
    response = staff_client.post(reverse("admin:workouts_workout_add"), workout_post(team))

    assert response.status_code == 200 and "a scheduled workout needs a start" in form_errors(response)
    assert not Workout.objects.exists()


def test_the_workout_admin_refuses_an_end_before_the_start(staff_client, team):
    data = workout_post(team, scheduled_start=at(10), scheduled_end=at(9))

    response = staff_client.post(reverse("admin:workouts_workout_add"), data)

    assert response.status_code == 200 and "the end must be after the start" in form_errors(response)


@pytest.mark.parametrize("status", HISTORY)
def test_the_workout_admin_refuses_to_move_a_workout_in_history(staff_client, team, status):
    workout = WorkoutFactory(team=team, status=status, scheduled_start=at(9))
    url = reverse("admin:workouts_workout_change", args=[workout.pk])

    moved = staff_client.post(url, workout_post_of(workout, scheduled_start=at(12), scheduled_end=at(13)))
    renamed = staff_client.post(url, workout_post_of(workout, name="Leg day (done)"))

    assert moved.status_code == 200 and "cannot be scheduled or moved" in form_errors(moved)
    assert renamed.status_code == 302, form_errors(renamed)
    workout.refresh_from_db()
    assert (workout.name, workout.scheduled_start) == ("Leg day (done)", at(9))


def test_the_workout_admin_refuses_a_booked_facility_and_its_closed_hours(staff_client, team):
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    WorkoutFactory(team=team, name="Power", facility=gym, scheduled_start=at(10))
    add = reverse("admin:workouts_workout_add")

    booked = staff_client.post(
        add, workout_post(team, scheduled_start=at(10), scheduled_end=at(11), facility=gym.pk)
    )
    late = staff_client.post(
        add, workout_post(team, scheduled_start=at(21), scheduled_end=at(22), facility=gym.pk)
    )
    free = staff_client.post(
        add, workout_post(team, scheduled_start=at(12), scheduled_end=at(13), facility=gym.pk)
    )

    assert booked.status_code == 200 and "Main gym is already booked by Power" in form_errors(booked)
    assert late.status_code == 200 and "outside its hours" in form_errors(late)
    assert free.status_code == 302, form_errors(free)


def test_the_workout_admin_refuses_to_double_book_a_player(staff_client, team):
    player = PlayerFactory(team=team, first_name="Sam", last_name="Busy")
    AssignmentFactory(player=player, workout=WorkoutFactory(team=team, name="Power", scheduled_start=at(10)))
    workout = WorkoutFactory(team=team, scheduled_start=at(12))
    assignment = AssignmentFactory(player=player, workout=workout)
    data = workout_post_of(workout, scheduled_start=at(10), scheduled_end=at(11))
    row = {"id": assignment.pk, "workout": workout.pk, "player": player.pk, "role": "participant"}
    data.update(
        {f"assignments-0-{k}": v for k, v in {**row, "load_percent": 100, "status": "assigned"}.items()}
    )
    data.update({"assignments-TOTAL_FORMS": 1, "assignments-INITIAL_FORMS": 1})

    response = staff_client.post(reverse("admin:workouts_workout_change", args=[workout.pk]), data)

    assert response.status_code == 200 and "Sam Busy is already booked on Power" in form_errors(response)


def test_the_assignment_admin_refuses_a_cancelled_workout(staff_client, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.CANCELLED)
    data = {
        "workout": workout.pk,
        "player": PlayerFactory(team=team).pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
    }

    response = staff_client.post(reverse("admin:workouts_assignment_add"), data)

    assert response.status_code == 200 and "players cannot be assigned to it" in form_errors(response)
    assert not Assignment.objects.exists()


def test_the_workout_inline_refuses_players_on_a_cancelled_workout(staff_client, team):
    workout = WorkoutFactory(team=team, status=Workout.Status.CANCELLED)
    data = workout_post_of(workout)
    row = {
        "player": PlayerFactory(team=team).pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
    }
    data.update({f"assignments-0-{k}": v for k, v in row.items()})
    data["assignments-TOTAL_FORMS"] = 1

    response = staff_client.post(reverse("admin:workouts_workout_change", args=[workout.pk]), data)

    assert response.status_code == 200
    errors = [str(e) for f in response.context["inline_admin_formsets"] for e in f.formset.non_form_errors()]
    errors += [
        str(e)
        for f in response.context["inline_admin_formsets"]
        for x in f.formset.forms
        for e in x.non_field_errors()
    ]
    assert any("players cannot be assigned to it" in e for e in errors), errors
    assert not Assignment.objects.exists()


def test_undo_does_not_put_a_player_back_on_a_workout_cancelled_since(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team)
    removed, other = PlayerFactory(team=team), PlayerFactory(team=team)
    AssignmentFactory(workout=workout, player=removed)
    swap = {"workoutId": workout.pk, "removeExisting": True, "assignments": [{"playerId": other.pk}]}
    batch = submit([{"id": "swap", "type": "ASSIGN", "data": swap}])
    run_batches()
    Workout.objects.filter(pk=workout.pk).update(status=Workout.Status.CANCELLED)

    undo = batch_undo(batch_id=batch.pk, user=trainer, force=True)
    run_batches()

    refused = [i.error for i in BatchItem.objects.filter(batch=undo) if i.error]
    assert any("players cannot be assigned to it" in e["message"] for e in refused), refused
    assert not Assignment.objects.filter(workout=workout, player=removed).exists()


def test_a_forced_undo_does_not_move_a_workout_completed_since(submit, run_batches, trainer, team):
    workout = WorkoutFactory(team=team, scheduled_start=at(9))
    batch = submit([move("m", workout, scheduledStart=at(12).isoformat(), scheduledEnd=at(13).isoformat())])
    run_batches()
    Workout.objects.filter(pk=workout.pk).update(status=Workout.Status.COMPLETED)

    undo = batch_undo(batch_id=batch.pk, user=trainer, force=True)
    run_batches()

    [refused] = [i.error for i in BatchItem.objects.filter(batch=undo) if i.error]
    assert refused["details"]["rule"] == "MOVE_HISTORY", refused
    workout.refresh_from_db()
    assert workout.scheduled_start == at(12)
