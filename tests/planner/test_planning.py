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
    other = "A" if unplaced.name == "B" else "B"
    # Both windows stand in the way, each named for its session.
    assert unplaced.explanation.count("its own window (WED)") == 1
    assert f"“{other}”'s window (WED)" in unplaced.explanation


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


def test_planning_costs_the_same_queries_for_a_bigger_week(
    trainer, team, gym, rink, squad, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PlayerFactory

    small = problem(team, [session("A", [gym], squad[:2])])
    with CaptureQueriesContext(connection) as baseline:
        plan_week(user=trainer, raw=small)
    more = squad + [PlayerFactory(team=team) for _ in range(16)]
    for p in more[:6]:
        RestrictionFactory(
            player=p,
            severity=MedicalRestriction.Severity.COMPLETE,
            effective_date=MONDAY,
            expiry_date=MONDAY + dt.timedelta(days=1),
        )
    for day in range(3):
        w = WorkoutFactory(
            team=team,
            facility=rink,
            scheduled_start=at(MONDAY + dt.timedelta(days=day), dt.time(9)),
            scheduled_end=at(MONDAY + dt.timedelta(days=day), dt.time(10)),
        )
        AssignmentFactory(workout=w, player=more[day])
    big = problem(team, [session(f"S{i}", [gym, rink], more) for i in range(8)])
    # The medical gate reads names and restrictions once it has something to judge: a few more, not per row.
    with django_assert_max_num_queries(len(baseline.captured_queries) + 4):
        result = plan_week(user=trainer, raw=big)
    assert result.feasible


def test_an_existing_workout_is_placed_once_with_its_own_players(trainer, team, gym, squad):
    workout = WorkoutFactory(team=team, facility=gym)
    twice = [
        {**session("A", [gym], []), "workoutId": workout.pk},
        {**session("B", [gym], []), "workoutId": workout.pk},
    ]
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw=problem(team, twice))
    assert (
        f"sessions[1].workoutId: workout {workout.pk} is named by more than one session"
        in info.value.messages
    )
    with_players = [{**session("A", [gym], squad), "workoutId": workout.pk}]
    with pytest.raises(PlannerProblemError) as info:
        plan_week(user=trainer, raw=problem(team, with_players))
    assert info.value.messages[0].startswith("sessions[0].playerIds: leave it out")


def test_the_same_problem_gives_the_same_request(trainer, team, gym, rink, squad):
    raw = problem(
        team,
        [session(f"S{i}", [gym, rink], squad[i % 2 :], intensity=40 + 10 * i) for i in range(5)],
        rules={"restHoursAfterHighIntensity": 12},
    )
    assert plan_week(user=trainer, raw=raw).request == plan_week(user=trainer, raw=raw).request
