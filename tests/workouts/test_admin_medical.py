"""The admin asks the medical gate: a blocked player is refused with a form error unless staff give a
reason (audited); the verdict and modifications are computed, never typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db
ADD = reverse("admin:workouts_assignment_add")


@pytest.fixture
def workout(team):
    workout = WorkoutFactory(team=team, name="Leg day", intensity=80)
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name="Back squat", body_parts=["knee"]))
    return workout


@pytest.fixture
def blocked_player(team):
    player = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(player=player, severity=MedicalRestriction.Severity.COMPLETE, title="Concussion")
    return player


def assignment_data(workout: Workout, player: Any, **extra: Any) -> dict[str, Any]:
    return {
        "workout": workout.pk,
        "player": player.pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
        **extra,
    }


def form_errors(response: Any) -> str:
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def test_adding_a_blocked_player_is_refused_with_a_form_error(staff_client, workout, blocked_player):
    response = staff_client.post(ADD, assignment_data(workout, blocked_player))

    assert response.status_code == 200
    errors = form_errors(response)
    assert "Pat Hurt is blocked" in errors and "Concussion" in errors and "override reason" in errors
    assert not Assignment.objects.exists()


def test_staff_may_assign_a_blocked_player_with_a_reason_and_it_is_audited(
    staff_client, staff, workout, blocked_player
):
    data = assignment_data(
        workout, blocked_player, medical_override_reason="Cleared by the team doctor today"
    )
    response = staff_client.post(ADD, data)

    assert response.status_code == 302, form_errors(response)
    assignment = Assignment.objects.get()
    assert assignment.medical_verdict == Assignment.Verdict.BLOCKED
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEDICAL_OVERRIDE)
    assert (event.actor, event.channel, event.purpose) == (staff, "admin", "Cleared by the team doctor today")
    assert event.object_id == str(assignment.pk) and event.details["players"][0]["id"] == blocked_player.pk


def test_the_verdict_is_computed_whatever_is_posted(staff_client, team, workout):
    player = PlayerFactory(team=team)
    response = staff_client.post(ADD, assignment_data(workout, player, medical_verdict="blocked"))

    assert response.status_code == 302, form_errors(response)
    assert Assignment.objects.get().medical_verdict == Assignment.Verdict.COMPLIANT
    page = staff_client.get(reverse("admin:workouts_assignment_change", args=[Assignment.objects.get().pk]))
    assert 'name="medical_verdict"' not in page.content.decode()


def test_a_load_above_the_medical_cap_is_refused(staff_client, team, workout):
    player = PlayerFactory(team=team)
    RestrictionFactory(player=player, body_parts=[], max_exertion=70)  # moderate: the load is capped

    response = staff_client.post(ADD, assignment_data(workout, player, load_percent=90))
    assert response.status_code == 200 and "At most 70%" in form_errors(response)

    response = staff_client.post(ADD, assignment_data(workout, player, load_percent=70))
    assert response.status_code == 302, form_errors(response)
    assert Assignment.objects.get().medical_verdict == Assignment.Verdict.MODIFIED


def test_changing_an_assignment_to_a_blocked_player_is_refused(staff_client, team, workout, blocked_player):
    assignment = AssignmentFactory(workout=workout, player=PlayerFactory(team=team))
    url = reverse("admin:workouts_assignment_change", args=[assignment.pk])

    response = staff_client.post(url, assignment_data(workout, blocked_player))

    assert response.status_code == 200 and "Pat Hurt is blocked" in form_errors(response)
    assert Assignment.objects.get().player_id != blocked_player.pk


def test_editing_only_the_status_of_an_assignment_of_a_player_restricted_since_is_allowed(
    staff_client, workout, blocked_player
):
    assignment = AssignmentFactory(workout=workout, player=blocked_player)
    url = reverse("admin:workouts_assignment_change", args=[assignment.pk])

    response = staff_client.post(url, assignment_data(workout, blocked_player, status="excused"))

    assert response.status_code == 302, form_errors(response)


def workout_form(
    workout: Workout, inline_rows: list[dict[str, Any]], initial: int = 0, **changes: Any
) -> dict:
    start, end = workout.scheduled_start, workout.scheduled_end
    data = {
        "team": workout.team_id,
        "name": workout.name,
        "type": workout.type,
        "status": workout.status,
        "scheduled_start_0": start.strftime("%Y-%m-%d"),
        "scheduled_start_1": start.strftime("%H:%M:%S"),
        "scheduled_end_0": end.strftime("%Y-%m-%d"),
        "scheduled_end_1": end.strftime("%H:%M:%S"),
        "notes": workout.notes,
        "intensity": workout.intensity,
        "workout_exercises-TOTAL_FORMS": 0,
        "workout_exercises-INITIAL_FORMS": 0,
        "assignments-TOTAL_FORMS": len(inline_rows),
        "assignments-INITIAL_FORMS": initial,
        **changes,
    }
    for index, row in enumerate(inline_rows):
        data.update({f"assignments-{index}-{key}": value for key, value in row.items()})
    return data


def inline_errors(response: Any) -> str:
    formsets = response.context["inline_admin_formsets"]
    return " ".join(str(e) for f in formsets for form in f.formset.forms for e in form.non_field_errors())


def test_the_workout_inline_refuses_a_blocked_player_and_takes_a_reason(
    staff_client, workout, blocked_player
):
    url = reverse("admin:workouts_workout_change", args=[workout.pk])
    row = {"player": blocked_player.pk, "role": "participant", "load_percent": 100, "status": "assigned"}

    refused = staff_client.post(url, workout_form(workout, [row]))
    assert refused.status_code == 200 and "Pat Hurt is blocked" in inline_errors(refused)
    assert not Assignment.objects.exists()

    allowed = staff_client.post(
        url, workout_form(workout, [{**row, "medical_override_reason": "Doctor's call"}])
    )
    assert allowed.status_code == 302, inline_errors(allowed)
    assert Assignment.objects.get().medical_verdict == Assignment.Verdict.BLOCKED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEDICAL_OVERRIDE, channel="admin").count() == 1


def test_moving_a_workout_in_the_admin_onto_a_day_its_player_is_blocked_is_refused(
    staff_client, team, workout
):
    player = PlayerFactory(team=team, first_name="Sam", last_name="Later")
    assignment = AssignmentFactory(workout=workout, player=player)
    day = timezone.localdate() + dt.timedelta(days=10)
    RestrictionFactory(
        player=player, severity=MedicalRestriction.Severity.COMPLETE, effective_date=day, expiry_date=day
    )
    url = reverse("admin:workouts_workout_change", args=[workout.pk])
    row = {
        "id": assignment.pk,
        "workout": workout.pk,
        "player": player.pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
    }
    moved = {
        "scheduled_start_0": day.isoformat(),
        "scheduled_end_0": day.isoformat(),
    }

    response = staff_client.post(url, workout_form(workout, [row], initial=1, **moved))

    assert response.status_code == 200 and "Sam Later is blocked" in inline_errors(response)
    assert timezone.localdate(Workout.objects.get(pk=workout.pk).scheduled_start) != day


def test_adding_an_exercise_a_player_on_the_workout_may_not_do_is_refused(staff_client, team):
    workout = WorkoutFactory(team=team, name="Upper body", intensity=50)
    player = PlayerFactory(team=team, first_name="Kim", last_name="Knee")
    assignment = AssignmentFactory(workout=workout, player=player)
    RestrictionFactory(player=player, severity=MedicalRestriction.Severity.SEVERE, title="ACL tear")
    squat = ExerciseFactory(name="Back squat", body_parts=["knee"])
    row = {
        "id": assignment.pk,
        "workout": workout.pk,
        "player": player.pk,
        "role": "participant",
        "load_percent": 100,
        "status": "assigned",
    }
    data = workout_form(workout, [row], initial=1)
    data.update(
        {
            "workout_exercises-TOTAL_FORMS": 1,
            "workout_exercises-0-exercise": squat.pk,
            "workout_exercises-0-order": 0,
            "workout_exercises-0-sets": 3,
            "workout_exercises-0-rest_seconds": 60,
        }
    )
    url = reverse("admin:workouts_workout_change", args=[workout.pk])

    response = staff_client.post(url, data)

    assert response.status_code == 200 and "Kim Knee is blocked" in inline_errors(response)
    assert not workout.workout_exercises.exists()

    data["assignments-0-medical_override_reason"] = "Physio supervises the squats"
    response = staff_client.post(url, data)

    assert response.status_code == 302, inline_errors(response)
    assert workout.workout_exercises.count() == 1
    assignment.refresh_from_db()
    assert assignment.medical_verdict == Assignment.Verdict.BLOCKED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEDICAL_OVERRIDE, channel="admin").exists()
