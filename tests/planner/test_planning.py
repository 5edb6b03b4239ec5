from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from batch.request import parse_request
from medical.models import MedicalRestriction
from planner.planning import plan_week
from planner.problem import PlannerProblemError
from tests.factories import AssignmentFactory, RestrictionFactory, WorkoutFactory
from tests.planner.conftest import MONDAY, problem, session
from workouts.calendar import at


def test_plan_places_every_session_as_a_valid_create_request(trainer, team, gym, rink, squad):
    raw = problem(
        team,
        [
            session("Strength", [gym], squad, intensity=85, days=["MON", "TUE"]),
            session("Skating", [rink], squad, earliest="16:00", latest="18:00"),
            session("Recovery", [gym, rink], squad[:2], intensity=30),
        ],
    )
    result = plan_week(user=trainer, raw=raw)
    assert result.feasible
    ops = result.request["operations"]
    assert [op["type"] for op in ops] == ["CREATE"] * 3
    assert parse_request(result.request)[1] == []
    strength = result.sessions[0]
    assert timezone.localtime(strength.start).strftime("%a") in {"Mon", "Tue"}
    skating = result.sessions[1]
    assert at(timezone.localtime(skating.start).date(), dt.time(16)) <= skating.start
    assert skating.end <= at(timezone.localtime(skating.start).date(), dt.time(18))
    assert ops[0]["data"]["assignments"] == [{"playerId": p.pk, "loadPercent": 100} for p in squad]


def test_existing_workouts_hold_their_facility_and_players(trainer, team, gym, squad):
    # The gym is free only 20:00-21:00 on Monday, the only day allowed.
    WorkoutFactory(
        team=team,
        facility=gym,
        scheduled_start=at(MONDAY, dt.time(7)),
        scheduled_end=at(MONDAY, dt.time(20)),
    )
    raw = problem(team, [session("Late lift", [gym], squad, days=["MON"])])
    result = plan_week(user=trainer, raw=raw)
    assert result.feasible
    assert timezone.localtime(result.sessions[0].start).time() == dt.time(20)


def test_a_blocked_player_is_left_out_and_named(trainer, team, gym, squad):
    RestrictionFactory(
        player=squad[0],
        severity=MedicalRestriction.Severity.COMPLETE,
        effective_date=MONDAY - dt.timedelta(days=5),
        expiry_date=MONDAY + dt.timedelta(days=30),
    )
    result = plan_week(user=trainer, raw=problem(team, [session("Lift", [gym], squad)]))
    assert result.feasible
    outcome = result.sessions[0]
    assert squad[0].pk not in outcome.player_ids
    assert [b["playerId"] for b in outcome.blocked_players] == [squad[0].pk]
    op = result.request["operations"][0]
    assert squad[0].pk not in [a["playerId"] for a in op["data"]["assignments"]]
    assert op["metadata"]["blockedPlayers"][0]["playerId"] == squad[0].pk
    assert parse_request(result.request)[1] == []


def test_an_impossible_session_names_its_obstacles(trainer, team, gym, squad):
    WorkoutFactory(
        team=team,
        facility=gym,
        name="Booked",
        scheduled_start=at(MONDAY, dt.time(7)),
        scheduled_end=at(MONDAY, dt.time(20, 30)),
    )
    raw = problem(team, [session("Two hours", [gym], squad, durationMinutes=120, days=["MON"])])
    result = plan_week(user=trainer, raw=raw)
    assert not result.feasible
    text = result.sessions[0].explanation
    assert "Two hours" in text
    assert "Gym is taken by Booked" in text
    assert "own window (MON)" in text
    assert "Gym is open only 07:00–21:00" in text


def test_load_limit_and_competing_sessions_are_named(trainer, team, gym, rink, squad):
    player = squad[0]
    player.daily_load_limit = 100
    player.save()
    raw = problem(
        team,
        [
            session("A", [gym], [player], days=["WED"]),
            session("B", [rink], [player], days=["WED"]),
        ],
    )
    result = plan_week(user=trainer, raw=raw)
    assert not result.feasible
    unplaced = next(s for s in result.sessions if not s.placed)
    assert f"the daily load limit of 100% of {player.name}" in unplaced.explanation
    assert "the time taken by" in unplaced.explanation


def test_unknown_ids_and_bad_fields_are_problems(trainer, team, other_team, gym, squad):
    from tests.factories import PlayerFactory

    stranger = PlayerFactory(team=other_team)
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw=problem(team, [session("X", [gym], [stranger])]))
    assert f"sessions[0].playerIds: {stranger.pk} is not a player of {team.name}" in info.value.messages
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw={**problem(team, []), "to": "2030-01-01"})
    assert any("sessions" in m for m in info.value.messages)
    bad = problem(team, [session("X", [gym], squad, earliest="25:00", days=["MOON"])])
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw=bad)
    text = " ".join(info.value.messages)
    assert "sessions[0].earliest" in text and "sessions[0].days[0]" in text
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw=problem(other_team, [session("X", [gym], squad)]))
    assert "team" in info.value.messages[0]


def test_an_existing_workout_stays_unless_it_must_move(trainer, team, gym, squad):
    start = at(MONDAY, dt.time(9))
    workout = WorkoutFactory(
        team=team, facility=gym, scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1)
    )
    for p in squad:
        AssignmentFactory(workout=workout, player=p)
    raw = problem(team, [{**session("Kept", [gym], []), "workoutId": workout.pk}])
    result = plan_week(user=trainer, raw=raw)
    assert result.feasible and result.sessions[0].moved is False
    assert result.request["operations"] == []
    raw = problem(team, [{**session("Moved", [gym], [], days=["TUE"]), "workoutId": workout.pk}])
    result = plan_week(user=trainer, raw=raw)
    assert result.sessions[0].moved is True
    (op,) = result.request["operations"]
    assert op["type"] == "SCHEDULE" and op["data"]["workoutId"] == workout.pk
    assert timezone.localtime(result.sessions[0].start).time() == dt.time(9)
