from __future__ import annotations

import datetime as dt
import json

import pytest

from medical.compliance import (
    BLOCKED,
    BODY_PART,
    CATEGORY,
    COMPLETE_RESTRICTION,
    COMPLIANT,
    CONTACT,
    INTENSITY,
    MAX_ALTERNATIVES,
    MILD_DEFAULT_LOAD_CAP,
    MODIFIED,
    MOVEMENT_PATTERN,
    NO_SAFE_ALTERNATIVE,
    SUPERVISION,
    ComplianceEngine,
    ExerciseSpec,
)
from medical.gate import MedicalGate, planned_workouts
from medical.models import MedicalRestriction
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Exercise

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 1)
Sev = MedicalRestriction.Severity
St = MedicalRestriction.Status
C = Exercise.Category
P = Exercise.Pattern
B = Exercise.BodyPart


@pytest.fixture
def library(db) -> dict[str, Exercise]:
    def ex(name, category, patterns, parts, intensity, contact=False):
        return ExerciseFactory(
            name=name,
            category=category,
            movement_patterns=patterns,
            body_parts=parts,
            intensity=intensity,
            contact=contact,
        )

    return {
        "squat": ex("Back Squat", C.STRENGTH, [P.SQUAT], [B.QUADRICEPS, B.KNEE], 80),
        "bench": ex("Bench Press", C.STRENGTH, [P.PUSH], [B.CHEST, B.SHOULDER], 70),
        "row": ex("Seated Row", C.STRENGTH, [P.PULL], [B.UPPER_BACK], 65),
        "thrust": ex("Hip Thrust", C.STRENGTH, [P.HINGE], [B.HIP], 75),
        "press": ex("Overhead Press", C.STRENGTH, [P.OVERHEAD_PRESS], [B.SHOULDER], 72),
        "box_jump": ex("Box Jump", C.PLYOMETRICS, [P.JUMP], [B.KNEE, B.ANKLE], 85),
        "battle": ex("Board Battle", C.ON_ICE, [P.CONTACT], [B.SHOULDER], 90, contact=True),
        "skate": ex("Edge Work", C.ON_ICE, [P.SKATE], [B.HIP, B.GROIN], 70),
    }


@pytest.fixture
def player(db):
    return PlayerFactory(first_name="Erik", last_name="Karlsson")


def restrict(player, **kwargs) -> MedicalRestriction:
    defaults = {
        "player": player,
        "severity": Sev.MODERATE,
        "status": St.ACTIVE,
        "body_parts": [],
        "effective_date": DAY - dt.timedelta(days=5),
        "expiry_date": DAY + dt.timedelta(days=20),
    }
    return RestrictionFactory(**(defaults | kwargs))


def check(player, exercises, *, on_date=DAY, workout_intensity=None, load_percent=None):
    engine = ComplianceEngine(player_ids=[player.pk], dates=[on_date])
    specs = [ExerciseSpec.from_exercise(e, load_percent=load_percent) for e in exercises]
    return engine.check(
        player_id=player.pk, exercises=specs, on_date=on_date, workout_intensity=workout_intensity
    )


def codes(verdict) -> set[str]:
    return {f.code for f in verdict.findings}


def test_player_without_restrictions_is_compliant(library, player):
    verdict = check(player, [library["squat"], library["battle"]])
    assert verdict.verdict == COMPLIANT
    assert verdict.findings == []
    assert verdict.load_cap is None
    assert "Erik Karlsson" in verdict.summary()


@pytest.mark.parametrize(
    ("severity", "expected", "substituted"),
    [
        (Sev.MILD, MODIFIED, True),
        (Sev.MODERATE, MODIFIED, True),
        (Sev.SEVERE, BLOCKED, False),
        (Sev.COMPLETE, BLOCKED, False),
    ],
)
def test_body_part_violation_outcome_depends_on_severity(library, player, severity, expected, substituted):
    restrict(player, severity=severity, body_parts=[B.KNEE])
    verdict = check(player, [library["squat"], library["row"]])
    assert verdict.verdict == expected
    assert bool(verdict.substitutions) is substituted
    if substituted:
        sub = verdict.substitutions[0]
        assert sub["exerciseId"] == library["squat"].pk
        assert sub["reason"] == BODY_PART
        # Closest intensity to the squat's 80 that is not already in the workout and loads no knee.
        assert sub["replacementName"] == "Hip Thrust"


def test_complete_restriction_blocks_even_an_exercise_free_workout(library, player):
    restrict(player, severity=Sev.COMPLETE, title="Concussion", body_parts=[])
    verdict = check(player, [])
    assert verdict.verdict == BLOCKED
    assert codes(verdict) == {COMPLETE_RESTRICTION}
    assert verdict.summary() == "Erik Karlsson is blocked: Concussion (complete) — no training."


@pytest.mark.parametrize(
    ("status", "effective_offset", "expiry_offset", "applies"),
    [
        pytest.param(St.ACTIVE, -5, 20, True, id="active-current"),
        pytest.param(St.ACTIVE, 0, 0, True, id="active-single-day"),
        pytest.param(St.ACTIVE, -5, None, True, id="active-open-ended"),
        pytest.param(St.ACTIVE, -20, -1, False, id="active-but-past-expiry-date"),
        pytest.param(St.ACTIVE, 1, 20, False, id="future"),
        pytest.param(St.PENDING, -5, 20, True, id="pending-counts"),
        pytest.param(St.EXPIRED, -5, 20, False, id="expired-status"),
        pytest.param(St.CLEARED, -5, 20, False, id="cleared"),
    ],
)
def test_only_restrictions_in_effect_on_the_date_count(
    library, player, status, effective_offset, expiry_offset, applies
):
    restrict(
        player,
        severity=Sev.SEVERE,
        status=status,
        body_parts=[B.KNEE],
        effective_date=DAY + dt.timedelta(days=effective_offset),
        expiry_date=None if expiry_offset is None else DAY + dt.timedelta(days=expiry_offset),
    )
    verdict = check(player, [library["squat"]])
    assert verdict.verdict == (BLOCKED if applies else COMPLIANT)


@pytest.mark.parametrize(
    ("restriction", "exercise", "code"),
    [
        ({"body_parts": [B.KNEE]}, "squat", BODY_PART),
        ({"movement_patterns": [P.SQUAT]}, "squat", MOVEMENT_PATTERN),
        ({"exercise_categories": [C.PLYOMETRICS]}, "box_jump", CATEGORY),
        ({"max_exertion": 60}, "bench", INTENSITY),
        ({"no_contact": True}, "battle", CONTACT),
    ],
)
def test_each_kind_of_violation_is_reported_with_its_code(library, player, restriction, exercise, code):
    r = restrict(player, severity=Sev.SEVERE, title="Injury", **restriction)
    verdict = check(player, [library[exercise], library["row"]])
    assert verdict.verdict == BLOCKED
    assert codes(verdict) == {code}
    finding = verdict.findings[0]
    assert finding.exercise_id == library[exercise].pk
    assert finding.exercise_name == library[exercise].name
    assert finding.restriction_id == r.pk
    assert finding.restriction_title == "Injury"
    assert finding.severity == Sev.SEVERE
    assert library[exercise].name in finding.message


@pytest.mark.parametrize(
    ("severity", "expected", "load_cap"),
    [(Sev.MILD, MODIFIED, 65), (Sev.MODERATE, MODIFIED, 65), (Sev.SEVERE, BLOCKED, None)],
)
def test_intensity_above_max_exertion_caps_load_unless_severe(library, player, severity, expected, load_cap):
    restrict(player, severity=severity, max_exertion=65)
    verdict = check(player, [library["bench"], library["row"]])
    assert verdict.verdict == expected
    assert verdict.load_cap == load_cap
    assert verdict.substitutions == []
    assert codes(verdict) == {INTENSITY}


def test_planned_load_above_max_exertion_is_an_intensity_finding(library, player):
    restrict(player, severity=Sev.MILD, max_exertion=70)
    verdict = check(player, [library["row"]], load_percent=90)
    assert codes(verdict) == {INTENSITY}
    assert verdict.load_cap == 70


def test_workout_intensity_above_max_exertion_is_a_workout_level_finding(library, player):
    restrict(player, severity=Sev.MODERATE, max_exertion=70)
    verdict = check(player, [library["row"]], workout_intensity=85)
    assert verdict.verdict == MODIFIED
    assert verdict.load_cap == 70
    assert [(f.exercise_id, f.code) for f in verdict.findings] == [(None, INTENSITY)]


@pytest.mark.parametrize(
    ("severity", "expected", "load_cap"),
    [
        pytest.param(Sev.MILD, MODIFIED, MILD_DEFAULT_LOAD_CAP, id="mild-keeps-exercise-with-cap"),
        pytest.param(Sev.MODERATE, BLOCKED, None, id="moderate-blocks"),
        pytest.param(Sev.SEVERE, BLOCKED, None, id="severe-blocks"),
    ],
)
def test_no_safe_alternative_is_a_clear_outcome(library, player, severity, expected, load_cap):
    # Every plyometric exercise is restricted, so no same-category substitute can exist.
    restrict(player, severity=severity, exercise_categories=[C.PLYOMETRICS])
    verdict = check(player, [library["box_jump"]])
    assert verdict.verdict == expected
    assert verdict.load_cap == load_cap
    assert verdict.alternatives == {library["box_jump"].pk: []}
    assert verdict.substitutions == []
    if severity != Sev.SEVERE:
        assert NO_SAFE_ALTERNATIVE in codes(verdict)
        assert "no safe alternative" in verdict.summary() or verdict.verdict == MODIFIED


@pytest.mark.parametrize(
    ("with_safe_on_ice", "expected"),
    [(True, MODIFIED), (False, BLOCKED)],
)
def test_mild_contact_violation_is_substituted_or_blocks(library, player, with_safe_on_ice, expected):
    if not with_safe_on_ice:
        library["skate"].delete()
    restrict(player, severity=Sev.MILD, no_contact=True)
    verdict = check(player, [library["battle"]])
    assert verdict.verdict == expected
    assert verdict.load_cap is None


def test_alternatives_are_same_category_safe_at_most_three_closest_intensity_first(library, player):
    for i, intensity in enumerate([30, 79, 81, 90, 55]):
        ExerciseFactory(
            name=f"Safe strength {i}",
            category=C.STRENGTH,
            movement_patterns=[P.CARRY],
            body_parts=[B.CORE],
            intensity=intensity,
        )
    ExerciseFactory(name="Knee-heavy lunge", category=C.STRENGTH, body_parts=[B.KNEE], intensity=80)
    ExerciseFactory(name="Over the cap", category=C.STRENGTH, body_parts=[B.CORE], intensity=95)
    ExerciseFactory(name="Wrong category", category=C.CORE, body_parts=[B.CORE], intensity=80)
    restrict(player, severity=Sev.SEVERE, body_parts=[B.KNEE], max_exertion=92)
    verdict = check(player, [library["squat"]])

    alternatives = verdict.alternatives[library["squat"].pk]
    assert len(alternatives) == MAX_ALTERNATIVES
    assert [a.name for a in alternatives] == ["Safe strength 1", "Safe strength 2", "Hip Thrust"]
    assert {a.category for a in alternatives} == {C.STRENGTH}
    assert library["squat"].pk not in {a.exercise_id for a in alternatives}


def test_alternatives_respect_every_restriction_of_the_player(library, player):
    restrict(player, severity=Sev.MODERATE, body_parts=[B.KNEE])
    restrict(player, severity=Sev.MILD, body_parts=[B.HIP], title="Hip flexor")
    restrict(player, severity=Sev.MILD, movement_patterns=[P.PULL], title="Elbow")
    verdict = check(player, [library["squat"]])
    # Hip Thrust (hip) and Seated Row (pull) are out; the closest safe one left is the overhead press.
    assert [a.name for a in verdict.alternatives[library["squat"].pk]] == ["Overhead Press", "Bench Press"]
    assert verdict.substitutions[0]["replacementName"] == "Overhead Press"


def test_two_offending_exercises_get_different_replacements(library, player):
    restrict(player, severity=Sev.MODERATE, body_parts=[B.SHOULDER])
    verdict = check(player, [library["bench"], library["press"]])
    replacements = [s["replacementName"] for s in verdict.substitutions]
    assert len(replacements) == 2
    assert len(set(replacements)) == 2


def test_supervision_alone_makes_the_player_modified(library, player):
    restrict(player, severity=Sev.MILD, body_parts=[B.WRIST], requires_supervision=True)
    verdict = check(player, [library["squat"]])
    assert verdict.verdict == MODIFIED
    assert verdict.requires_supervision is True
    assert codes(verdict) == {SUPERVISION}


def test_strictest_restriction_wins(library, player):
    restrict(player, severity=Sev.MILD, body_parts=[B.KNEE], max_exertion=60)
    restrict(player, severity=Sev.SEVERE, movement_patterns=[P.PUSH], title="Shoulder")
    verdict = check(player, [library["squat"], library["bench"]])
    assert verdict.verdict == BLOCKED
    assert "Shoulder (severe) rules out Bench Press" in verdict.summary()


def test_as_dict_is_json_safe_camel_case_and_summary_names_the_case(library, player):
    restrict(player, title="Left knee sprain", severity=Sev.MODERATE, body_parts=[B.KNEE])
    verdict = check(player, [library["squat"]])
    data = json.loads(json.dumps(verdict.as_dict()))
    assert data["verdict"] == MODIFIED
    assert data["playerId"] == player.pk
    assert set(data) >= {"findings", "substitutions", "loadCap", "requiresSupervision", "alternatives"}
    assert data["findings"][0]["restrictionTitle"] == "Left knee sprain"
    assert str(library["squat"].pk) in data["alternatives"]
    summary = verdict.summary()
    assert "Erik Karlsson" in summary
    assert "Left knee sprain" in summary
    assert "Back Squat" in summary
    assert "clinical" not in json.dumps(data).lower()


def test_engine_answers_for_each_date_it_was_loaded_for(library, player):
    restrict(
        player,
        severity=Sev.SEVERE,
        body_parts=[B.KNEE],
        effective_date=DAY,
        expiry_date=DAY + dt.timedelta(days=2),
    )
    dates = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=3)]
    engine = ComplianceEngine(player_ids=[player.pk], dates=dates)
    spec = [ExerciseSpec.from_exercise(library["squat"])]
    verdicts = [engine.check(player_id=player.pk, exercises=spec, on_date=d).verdict for d in dates]
    assert verdicts == [COMPLIANT, BLOCKED, COMPLIANT]


def test_the_gate_judges_a_workout_for_50_players_and_20_exercises_in_constant_queries(
    library, django_assert_max_num_queries
):
    workout = WorkoutFactory(intensity=70)
    for i in range(20):
        exercise = ExerciseFactory(
            name=f"Workout exercise {i}",
            category=[C.STRENGTH, C.CONDITIONING][i % 2],
            body_parts=[[B.KNEE], [B.SHOULDER], [B.CORE], [B.HIP]][i % 4],
            intensity=50 + i,
        )
        WorkoutExerciseFactory(workout=workout, exercise=exercise, load_percent=60 + i)
    players = PlayerFactory.create_batch(50, team=workout.team)
    severities = [Sev.MILD, Sev.MODERATE, Sev.SEVERE, Sev.COMPLETE]
    for i, p in enumerate(players[:40]):
        restrict(
            p,
            effective_date=dt.date.today() - dt.timedelta(days=1),
            expiry_date=None,
            severity=severities[i % 4],
            body_parts=[[B.KNEE], [B.SHOULDER]][i % 2],
            max_exertion=60 if i % 3 == 0 else None,
            requires_supervision=i % 5 == 0,
        )
    ids = [p.pk for p in players]
    with django_assert_max_num_queries(5):  # the workout and its exercises; the engine's three
        planned = planned_workouts([workout.pk])[workout.pk]
        verdicts = MedicalGate(player_ids=ids, dates=[planned.on_date]).judge(planned, ids)
    assert len(verdicts) == 50
    assert {v.verdict for v in verdicts.values()} == {COMPLIANT, MODIFIED, BLOCKED}
    assert all(v.player_name != f"Player {v.player_id}" for v in verdicts.values())
