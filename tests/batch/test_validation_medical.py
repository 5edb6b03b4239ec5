"""The dry run judges players on workouts the same request creates (a `$ref`), from the planned data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from batch.validation import batch_validate
from medical.models import MedicalRestriction
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    TemplateExerciseFactory,
    WorkoutTemplateFactory,
)

pytestmark = pytest.mark.django_db


def create(op_id: str, **data) -> dict:
    workout = {"name": "Leg day", "type": "STRENGTH", **data.pop("workout", {})}
    return {"id": op_id, "type": "CREATE", "data": {"workout": workout, **data}}


def assign(op_id: str, ref: str, *player_ids: int) -> dict:
    return {
        "id": op_id,
        "type": "ASSIGN",
        "data": {"workoutId": {"$ref": ref}, "assignments": [{"playerId": p} for p in player_ids]},
        "dependencies": [ref],
    }


def validate(trainer, team, operations: list[dict], blocked_players: str = "fail"):
    raw = {"operations": operations, "options": {"blockedPlayers": blocked_players}}
    return batch_validate(user=trainer, team=team, raw=raw)


@pytest.fixture
def squat(db):
    return ExerciseFactory(name="Back squat", body_parts=["knee"])


def test_create_then_assign_of_a_blocked_player_does_not_dry_run_as_valid(trainer, team, squat):
    hurt, fit = PlayerFactory(team=team, first_name="Pat"), PlayerFactory(team=team)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE, title="Knee sprain")

    report = validate(
        trainer, team, [create("c", exercises=[{"exerciseId": squat.pk}]), assign("a", "c", hurt.pk, fit.pk)]
    )

    assert not report.valid
    errors = report.items["a"].errors
    assert errors[0]["code"] == "MEDICAL_RESTRICTION" and "Pat" in errors[0]["message"]
    verdicts = {m["playerId"]: m["verdict"] for m in report.items["a"].medical}
    assert verdicts == {hurt.pk: "blocked", fit.pk: "compliant"}


def test_the_dry_run_judges_a_ref_in_any_request_order(trainer, team, squat):
    hurt = PlayerFactory(team=team)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE)

    report = validate(
        trainer, team, [assign("a", "c", hurt.pk), create("c", exercises=[{"exerciseId": squat.pk}])]
    )

    assert not report.valid and report.items["a"].errors[0]["code"] == "MEDICAL_RESTRICTION"


def test_a_ref_workout_from_a_template_is_judged_on_the_templates_exercises(trainer, team, squat):
    template = WorkoutTemplateFactory(team=team)
    TemplateExerciseFactory(template=template, exercise=squat)
    hurt = PlayerFactory(team=team)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE)

    report = validate(
        trainer, team, [create("c", templateId=template.pk, workout={}), assign("a", "c", hurt.pk)]
    )

    assert report.items["a"].errors[0]["code"] == "MEDICAL_RESTRICTION"


def test_a_ref_workout_is_judged_on_its_planned_date(trainer, team, squat):
    hurt = PlayerFactory(team=team)
    later = timezone.localdate() + dt.timedelta(days=60)  # past the restriction's expiry
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE)
    start = timezone.make_aware(dt.datetime.combine(later, dt.time(9))).isoformat()

    then = validate(
        trainer,
        team,
        [
            create("c", exercises=[{"exerciseId": squat.pk}], workout={"scheduledStart": start}),
            assign("a", "c", hurt.pk),
        ],
    )
    now = validate(
        trainer, team, [create("c", exercises=[{"exerciseId": squat.pk}]), assign("a", "c", hurt.pk)]
    )

    assert then.valid, then.as_dict()
    assert not now.valid


def test_a_modified_player_on_a_ref_workout_dry_runs_valid_with_the_verdict(trainer, team, squat):
    ExerciseFactory(name="Box step-up light", body_parts=["hip"], movement_patterns=["hinge"])
    player = PlayerFactory(team=team)
    RestrictionFactory(player=player)  # moderate knee: substituted

    report = validate(
        trainer, team, [create("c", exercises=[{"exerciseId": squat.pk}]), assign("a", "c", player.pk)]
    )

    assert report.valid, report.as_dict()
    assert report.items["a"].medical[0]["verdict"] == "modified"


def test_with_blocked_players_excluded_the_dry_run_says_who_will_be_left_out(trainer, team, squat):
    hurt, fit = PlayerFactory(team=team, first_name="Pat", last_name="Hurt"), PlayerFactory(team=team)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE, title="Knee sprain")

    report = validate(
        trainer,
        team,
        [create("c", exercises=[{"exerciseId": squat.pk}]), assign("a", "c", hurt.pk, fit.pk)],
        blocked_players="exclude",
    )

    assert report.valid, report.as_dict()
    warning = next(w for w in report.items["a"].warnings if w["code"] == "PLAYERS_LEFT_OUT")
    assert warning["message"].startswith("1 player will be left out of Leg day")
    assert "Pat Hurt is blocked" in warning["message"] and "Knee sprain" in warning["message"]
    assert warning["players"] == [{"playerId": hurt.pk, "playerName": "Pat Hurt"}]


def test_a_move_or_copy_of_a_workout_the_request_creates_says_its_checks_run_later(trainer, team, squat):
    """The dry run cannot place or judge a SCHEDULE, UPDATE or DUPLICATE of a `$ref` workout: it says so
    on that operation instead of showing it clean, and names the operation that creates it."""
    start = (timezone.now() + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    on_ref = {"workoutId": {"$ref": "c"}}
    report = validate(
        trainer,
        team,
        [
            create("c", exercises=[{"exerciseId": squat.pk}]),
            assign("a", "c", PlayerFactory(team=team).pk),
            {
                "id": "s",
                "type": "SCHEDULE",
                "data": {**on_ref, "start": start.isoformat()},
                "dependencies": ["c"],
            },
            {
                "id": "u",
                "type": "UPDATE",
                "data": {**on_ref, "updates": {"intensity": 90}},
                "dependencies": ["c"],
            },
            {"id": "d", "type": "DUPLICATE", "data": {**on_ref, "count": 2}, "dependencies": ["c"]},
        ],
    )
    assert report.valid
    for op_id in ("s", "u", "d"):
        (warning,) = report.items[op_id].warnings
        assert warning["code"] == "JUDGED_WHEN_RUN" and "'c'" in warning["message"], op_id
    assert not report.items["a"].warnings and not report.items["c"].warnings
