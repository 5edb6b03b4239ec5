"""The demo club's season: half a year of workouts per team (with exercises and assignments) and templates."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Player,
    Team,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)

WORKOUTS_PER_TEAM = 150

C = Exercise.Category

# type: (names, categories to draw exercises from, facility index, intensity range, minutes)
WORKOUT_KINDS: dict[str, tuple[list[str], list[str], int, tuple[int, int], tuple[int, ...]]] = {
    Workout.Type.STRENGTH: (
        ["Lower-body strength", "Upper-body strength", "Max strength block", "Strength maintenance"],
        [C.STRENGTH, C.CORE],
        2,
        (65, 90),
        (60, 75, 90),
    ),
    Workout.Type.CONDITIONING: (
        ["Bike intervals", "Aerobic base", "Repeated sprint ability", "Game-day conditioning"],
        [C.CONDITIONING, C.CORE],
        2,
        (60, 90),
        (45, 60),
    ),
    Workout.Type.HYBRID: (
        ["Strength + conditioning", "Full-body circuit", "Pre-season combine prep"],
        [C.STRENGTH, C.CONDITIONING, C.CORE],
        2,
        (60, 85),
        (60, 75),
    ),
    Workout.Type.AGILITY: (
        ["Change of direction", "Footwork & reaction", "Agility ladder session"],
        [C.AGILITY, C.PLYOMETRICS],
        2,
        (55, 80),
        (45, 60),
    ),
    Workout.Type.FLEXIBILITY: (
        ["Mobility flow", "Hip & groin care"],
        [C.FLEXIBILITY, C.MOBILITY],
        2,
        (15, 35),
        (30, 45),
    ),
    Workout.Type.RECOVERY: (
        ["Post-game recovery", "Regeneration day", "Pool & flush"],
        [C.RECOVERY, C.FLEXIBILITY],
        3,
        (10, 30),
        (30, 45),
    ),
    Workout.Type.REHABILITATION: (
        ["Return-to-play progression", "Rehab group"],
        [C.MOBILITY, C.CORE, C.RECOVERY],
        3,
        (20, 50),
        (45, 60),
    ),
    Workout.Type.POWER: (
        ["Explosive power", "Contrast training", "Olympic lift technique"],
        [C.POWER, C.PLYOMETRICS],
        2,
        (70, 90),
        (60, 75),
    ),
    Workout.Type.ON_ICE: (
        ["Team practice", "Skills & skating", "Special teams practice", "Morning skate"],
        [C.ON_ICE],
        0,
        (55, 90),
        (45, 60, 75, 90),
    ),
}
TYPE_WEIGHTS = {
    Workout.Type.STRENGTH: 5,
    Workout.Type.CONDITIONING: 4,
    Workout.Type.HYBRID: 2,
    Workout.Type.AGILITY: 2,
    Workout.Type.FLEXIBILITY: 2,
    Workout.Type.RECOVERY: 3,
    Workout.Type.REHABILITATION: 1,
    Workout.Type.POWER: 3,
    Workout.Type.ON_ICE: 6,
}


def seed_workouts(
    team: Team,
    trainer: Any,
    players: list[Player],
    facilities: list[Facility],
    exercises: dict[str, list[Exercise]],
    rng: random.Random,
) -> None:
    if team.workouts.exists():
        return
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=180)
    types, weights = zip(*TYPE_WEIGHTS.items(), strict=True)
    workouts: list[Workout] = []
    plans: list[tuple[list[Exercise], int]] = []
    for index in range(WORKOUTS_PER_TEAM):
        day = first_day + dt.timedelta(days=index * 2 + rng.randint(0, 1))
        kind = rng.choices(types, weights)[0]
        names, categories, facility_index, (low, high), minutes = WORKOUT_KINDS[kind]
        facility = (
            facilities[1]
            if kind == Workout.Type.ON_ICE and rng.random() < 0.4
            else facilities[facility_index]
        )
        start = dt.datetime.combine(
            day, dt.time(rng.choice([7, 8, 9, 10, 11, 14, 15, 16]), rng.choice([0, 30])), tzinfo=tz
        )
        end = start + dt.timedelta(minutes=rng.choice(minutes))
        if day < today:
            status = Workout.Status.CANCELLED if rng.random() < 0.04 else Workout.Status.COMPLETED
        else:
            status = Workout.Status.DRAFT if rng.random() < 0.25 else Workout.Status.SCHEDULED
        draft_unscheduled = status == Workout.Status.DRAFT and rng.random() < 0.4
        workouts.append(
            Workout(
                team=team,
                name=f"{rng.choice(names)} — {day:%b %-d}",
                type=kind,
                status=status,
                scheduled_start=None if draft_unscheduled else start,
                scheduled_end=None if draft_unscheduled else end,
                facility=None if draft_unscheduled else facility,
                intensity=rng.randint(low, high),
                notes=rng.choice(
                    ["", "", "Bring heart-rate monitors.", "Video session afterwards.", "Pre-game."]
                ),
                created_by=trainer,
            )
        )
        pool = [exercise for category in categories for exercise in exercises.get(category, [])]
        plans.append((rng.sample(pool, min(len(pool), rng.randint(4, 7))), len(players)))
    Workout.objects.bulk_create(workouts)

    rows: list[WorkoutExercise] = []
    assignments: list[Assignment] = []
    for workout, (picked, _) in zip(workouts, plans, strict=True):
        for order, exercise in enumerate(picked):
            timed = exercise.category in (C.CONDITIONING, C.RECOVERY, C.FLEXIBILITY, C.MOBILITY, C.ON_ICE)
            rows.append(
                WorkoutExercise(
                    workout=workout,
                    exercise=exercise,
                    order=order,
                    sets=rng.randint(2, 5),
                    reps=None if timed else rng.choice([3, 5, 6, 8, 10, 12]),
                    duration_seconds=rng.choice([30, 45, 60, 120, 300]) if timed else None,
                    load_percent=rng.choice([60, 70, 75, 80, 85])
                    if exercise.category == C.STRENGTH
                    else None,
                    rest_seconds=rng.choice([30, 60, 90, 120]),
                )
            )
        if workout.status == Workout.Status.DRAFT:
            continue
        skaters = [p for p in players if p.position != Player.Position.GOALIE]
        group = (
            players
            if workout.type == Workout.Type.ON_ICE
            else rng.sample(skaters, rng.randint(10, len(skaters)))
        )
        for player in group:
            status = Assignment.Status.ASSIGNED
            if workout.status == Workout.Status.COMPLETED:
                status = rng.choices(
                    [Assignment.Status.COMPLETED, Assignment.Status.MISSED, Assignment.Status.EXCUSED],
                    [90, 4, 6],
                )[0]
            assignments.append(
                Assignment(
                    workout=workout,
                    player=player,
                    load_percent=rng.choice([80, 90, 100, 100, 100]),
                    status=status,
                    medical_verdict=Assignment.Verdict.COMPLIANT
                    if workout.status == Workout.Status.COMPLETED
                    else Assignment.Verdict.UNCHECKED,
                )
            )
    WorkoutExercise.objects.bulk_create(rows)
    Assignment.objects.bulk_create(assignments)


def seed_templates(
    team: Team, trainer: Any, exercises: dict[str, list[Exercise]], rng: random.Random
) -> None:
    if team.templates.exists():
        return
    specs = [
        (
            "Pre-season strength A",
            Workout.Type.STRENGTH,
            [C.STRENGTH, C.CORE],
            80,
            75,
            ["pre-season", "strength"],
        ),
        (
            "In-season maintenance",
            Workout.Type.HYBRID,
            [C.STRENGTH, C.CONDITIONING],
            65,
            60,
            ["in-season"],
        ),
        ("Post-game recovery", Workout.Type.RECOVERY, [C.RECOVERY, C.FLEXIBILITY], 20, 40, ["recovery"]),
        ("Speed & power", Workout.Type.POWER, [C.POWER, C.PLYOMETRICS], 85, 60, ["power", "speed"]),
    ]
    for name, category, categories, intensity, minutes, tags in specs:
        template = WorkoutTemplate.objects.create(
            team=team,
            name=name,
            category=category,
            description=f"{name} — standard session for {team.name}.",
            tags=tags,
            visibility=WorkoutTemplate.Visibility.TEAM,
            intensity=intensity,
            duration_minutes=minutes,
            created_by=trainer,
        )
        pool = [exercise for c in categories for exercise in exercises.get(c, [])]
        TemplateExercise.objects.bulk_create(
            TemplateExercise(
                template=template, exercise=exercise, order=order, sets=rng.randint(2, 4), reps=8
            )
            for order, exercise in enumerate(rng.sample(pool, min(5, len(pool))))
        )
