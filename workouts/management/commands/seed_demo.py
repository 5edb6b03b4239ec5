"""Seed a believable demo club: two teams, rosters, exercise library, a season of workouts, restrictions.

Safe to re-run: each part is created only when missing, and the random generator is seeded, so a
second run changes nothing. Runs in a few seconds because rows are written with bulk_create.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from medical.models import MedicalRestriction
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Membership,
    Player,
    Team,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)

PASSWORD = "hockeyhub"
SEASON = "2026-27"
WORKOUTS_PER_TEAM = 150
SEED = 2026

C, P, B = Exercise.Category, Exercise.Pattern, Exercise.BodyPart

# name, category, patterns, body parts, intensity, contact, equipment, unilateral
EXERCISES: list[tuple[str, str, list[str], list[str], int, bool, list[str], bool]] = [
    (
        "Back squat",
        C.STRENGTH,
        [P.SQUAT],
        [B.QUADRICEPS, B.KNEE, B.HIP, B.LOWER_BACK],
        85,
        False,
        ["barbell", "rack"],
        False,
    ),
    (
        "Front squat",
        C.STRENGTH,
        [P.SQUAT],
        [B.QUADRICEPS, B.KNEE, B.CORE],
        80,
        False,
        ["barbell", "rack"],
        False,
    ),
    (
        "Trap-bar deadlift",
        C.STRENGTH,
        [P.HINGE],
        [B.HAMSTRING, B.HIP, B.LOWER_BACK],
        85,
        False,
        ["trap bar"],
        False,
    ),
    ("Romanian deadlift", C.STRENGTH, [P.HINGE], [B.HAMSTRING, B.LOWER_BACK], 70, False, ["barbell"], False),
    (
        "Bulgarian split squat",
        C.STRENGTH,
        [P.LUNGE],
        [B.QUADRICEPS, B.KNEE, B.HIP, B.GROIN],
        70,
        False,
        ["dumbbells", "bench"],
        True,
    ),
    (
        "Bench press",
        C.STRENGTH,
        [P.PUSH],
        [B.CHEST, B.SHOULDER, B.ELBOW],
        80,
        False,
        ["barbell", "bench"],
        False,
    ),
    (
        "Weighted pull-up",
        C.STRENGTH,
        [P.PULL],
        [B.UPPER_BACK, B.SHOULDER, B.ELBOW],
        75,
        False,
        ["pull-up bar", "belt"],
        False,
    ),
    (
        "Single-arm dumbbell row",
        C.STRENGTH,
        [P.PULL],
        [B.UPPER_BACK, B.SHOULDER],
        60,
        False,
        ["dumbbell", "bench"],
        True,
    ),
    (
        "Landmine press",
        C.STRENGTH,
        [P.OVERHEAD_PRESS],
        [B.SHOULDER, B.CHEST, B.CORE],
        65,
        False,
        ["barbell", "landmine"],
        True,
    ),
    ("Copenhagen adduction", C.STRENGTH, [P.STATIC], [B.GROIN, B.HIP], 60, False, ["bench"], True),
    (
        "Bike intervals 30/30",
        C.CONDITIONING,
        [P.SPRINT],
        [B.QUADRICEPS, B.HAMSTRING, B.CALF],
        90,
        False,
        ["air bike"],
        False,
    ),
    (
        "Slide board intervals",
        C.CONDITIONING,
        [P.SKATE],
        [B.GROIN, B.HIP, B.QUADRICEPS],
        80,
        False,
        ["slide board"],
        False,
    ),
    (
        "Rowing ergometer 500 m repeats",
        C.CONDITIONING,
        [P.PULL, P.HINGE],
        [B.UPPER_BACK, B.LOWER_BACK, B.QUADRICEPS],
        85,
        False,
        ["rower"],
        False,
    ),
    (
        "Shuttle runs 5-10-5",
        C.CONDITIONING,
        [P.SPRINT],
        [B.ANKLE, B.KNEE, B.HAMSTRING],
        85,
        False,
        ["cones"],
        False,
    ),
    ("Tempo runs", C.CONDITIONING, [P.SPRINT], [B.HAMSTRING, B.CALF, B.ANKLE], 65, False, [], False),
    (
        "Sled push",
        C.CONDITIONING,
        [P.PUSH, P.SPRINT],
        [B.QUADRICEPS, B.CALF, B.SHOULDER],
        90,
        False,
        ["sled"],
        False,
    ),
    ("Ladder quick feet", C.AGILITY, [P.SPRINT], [B.ANKLE, B.CALF], 55, False, ["agility ladder"], False),
    ("Cone T-drill", C.AGILITY, [P.SPRINT, P.LUNGE], [B.ANKLE, B.KNEE, B.GROIN], 70, False, ["cones"], False),
    ("Reactive mirror drill", C.AGILITY, [P.SPRINT], [B.ANKLE, B.KNEE], 65, False, [], False),
    (
        "Lateral bound and stick",
        C.AGILITY,
        [P.JUMP, P.SKATE],
        [B.ANKLE, B.KNEE, B.GROIN],
        70,
        False,
        [],
        True,
    ),
    ("Crossover skip", C.AGILITY, [P.SKATE], [B.HIP, B.ANKLE], 50, False, [], False),
    ("Box jump", C.PLYOMETRICS, [P.JUMP], [B.QUADRICEPS, B.KNEE, B.ANKLE], 75, False, ["plyo box"], False),
    ("Depth jump", C.PLYOMETRICS, [P.JUMP], [B.KNEE, B.ANKLE, B.CALF], 85, False, ["plyo box"], False),
    ("Skater hops", C.PLYOMETRICS, [P.JUMP, P.SKATE], [B.GROIN, B.KNEE, B.ANKLE], 70, False, [], True),
    ("Hurdle hops", C.PLYOMETRICS, [P.JUMP], [B.ANKLE, B.CALF, B.KNEE], 75, False, ["mini hurdles"], False),
    ("Single-leg broad jump", C.PLYOMETRICS, [P.JUMP], [B.KNEE, B.HIP, B.ANKLE], 80, False, [], True),
    (
        "Medicine ball slam",
        C.POWER,
        [P.OVERHEAD_PRESS, P.HINGE],
        [B.SHOULDER, B.CORE],
        75,
        False,
        ["medicine ball"],
        False,
    ),
    (
        "Rotational med-ball throw",
        C.POWER,
        [P.TWIST],
        [B.CORE, B.SHOULDER, B.HIP],
        75,
        False,
        ["medicine ball"],
        False,
    ),
    (
        "Hang power clean",
        C.POWER,
        [P.HINGE, P.JUMP],
        [B.HAMSTRING, B.LOWER_BACK, B.SHOULDER, B.WRIST],
        85,
        False,
        ["barbell"],
        False,
    ),
    (
        "Kettlebell swing",
        C.POWER,
        [P.HINGE],
        [B.HAMSTRING, B.HIP, B.LOWER_BACK],
        70,
        False,
        ["kettlebell"],
        False,
    ),
    (
        "Jump squat",
        C.POWER,
        [P.SQUAT, P.JUMP],
        [B.QUADRICEPS, B.KNEE, B.ANKLE],
        80,
        False,
        ["trap bar"],
        False,
    ),
    (
        "Push press",
        C.POWER,
        [P.OVERHEAD_PRESS],
        [B.SHOULDER, B.ELBOW, B.WRIST],
        80,
        False,
        ["barbell"],
        False,
    ),
    ("Plank", C.CORE, [P.STATIC], [B.CORE], 35, False, [], False),
    ("Pallof press", C.CORE, [P.STATIC, P.TWIST], [B.CORE], 40, False, ["cable"], True),
    ("Dead bug", C.CORE, [P.STATIC], [B.CORE, B.LOWER_BACK], 30, False, [], False),
    ("Suitcase carry", C.CORE, [P.CARRY], [B.CORE, B.WRIST, B.SHOULDER], 55, False, ["kettlebell"], True),
    ("Hanging knee raise", C.CORE, [P.STATIC], [B.CORE, B.SHOULDER], 50, False, ["pull-up bar"], False),
    ("Cable woodchop", C.CORE, [P.TWIST], [B.CORE, B.SHOULDER], 50, False, ["cable"], True),
    ("Hip 90/90 switches", C.MOBILITY, [P.TWIST], [B.HIP, B.GROIN], 20, False, [], False),
    (
        "World's greatest stretch",
        C.MOBILITY,
        [P.LUNGE, P.TWIST],
        [B.HIP, B.HAMSTRING, B.UPPER_BACK],
        25,
        False,
        [],
        True,
    ),
    ("Thoracic rotations", C.MOBILITY, [P.TWIST], [B.UPPER_BACK], 15, False, [], False),
    ("Ankle dorsiflexion rocks", C.MOBILITY, [P.LUNGE], [B.ANKLE, B.CALF], 15, False, [], True),
    ("Shoulder CARs", C.MOBILITY, [P.STATIC], [B.SHOULDER], 15, False, [], True),
    ("Cossack squat", C.MOBILITY, [P.SQUAT, P.LUNGE], [B.GROIN, B.HIP, B.KNEE], 35, False, [], True),
    ("Hamstring PNF stretch", C.FLEXIBILITY, [P.STATIC], [B.HAMSTRING], 15, False, ["strap"], True),
    ("Hip flexor couch stretch", C.FLEXIBILITY, [P.STATIC], [B.HIP, B.QUADRICEPS], 15, False, [], True),
    ("Adductor rock-backs", C.FLEXIBILITY, [P.STATIC], [B.GROIN], 15, False, [], False),
    ("Pec doorway stretch", C.FLEXIBILITY, [P.STATIC], [B.CHEST, B.SHOULDER], 10, False, [], True),
    ("Neck isometrics", C.FLEXIBILITY, [P.STATIC], [B.NECK], 20, False, [], False),
    (
        "Foam rolling",
        C.RECOVERY,
        [],
        [B.QUADRICEPS, B.HAMSTRING, B.CALF, B.UPPER_BACK],
        10,
        False,
        ["foam roller"],
        False,
    ),
    ("Easy spin", C.RECOVERY, [], [B.QUADRICEPS, B.KNEE], 25, False, ["bike"], False),
    ("Pool walk", C.RECOVERY, [], [B.HIP, B.KNEE, B.ANKLE], 15, False, ["pool"], False),
    ("Contrast bath", C.RECOVERY, [], [], 5, False, ["cold tub", "hot tub"], False),
    ("Breathing and down-regulation", C.RECOVERY, [P.STATIC], [], 5, False, [], False),
    (
        "Edge work circuit",
        C.ON_ICE,
        [P.SKATE],
        [B.GROIN, B.HIP, B.ANKLE],
        60,
        False,
        ["skates", "pucks"],
        False,
    ),
    (
        "Blue-line sprints",
        C.ON_ICE,
        [P.SKATE, P.SPRINT],
        [B.GROIN, B.QUADRICEPS, B.HIP],
        90,
        False,
        ["skates"],
        False,
    ),
    (
        "Puck protection battles",
        C.ON_ICE,
        [P.CONTACT, P.SKATE],
        [B.SHOULDER, B.CORE, B.GROIN],
        80,
        True,
        ["skates", "pucks", "stick"],
        False,
    ),
    (
        "Board battle drill",
        C.ON_ICE,
        [P.CONTACT],
        [B.SHOULDER, B.NECK, B.CORE],
        85,
        True,
        ["skates", "pucks"],
        False,
    ),
    (
        "One-timer shooting",
        C.ON_ICE,
        [P.TWIST, P.SKATE],
        [B.WRIST, B.SHOULDER, B.CORE],
        60,
        False,
        ["skates", "pucks", "stick"],
        False,
    ),
    (
        "2-on-1 rushes",
        C.ON_ICE,
        [P.SKATE, P.SPRINT, P.CONTACT],
        [B.GROIN, B.HIP, B.SHOULDER],
        80,
        True,
        ["skates", "pucks", "stick"],
        False,
    ),
    (
        "Goalie butterfly slides",
        C.ON_ICE,
        [P.SKATE],
        [B.GROIN, B.HIP, B.KNEE],
        65,
        False,
        ["goalie gear"],
        False,
    ),
]

FACILITIES = [
    ("Scandinavium main rink", dt.time(6, 0), dt.time(23, 0), 40),
    ("Practice rink B", dt.time(6, 30), dt.time(22, 0), 30),
    ("Performance gym", dt.time(6, 0), dt.time(21, 0), 28),
    ("Recovery centre & pool", dt.time(7, 0), dt.time(20, 0), 16),
]

TEAMS = [("Frölunda Hawks", "hawks"), ("Luleå Lynx", "lynx")]

FIRST_NAMES = [
    "Erik",
    "Lucas",
    "Oscar",
    "William",
    "Elias",
    "Hugo",
    "Axel",
    "Liam",
    "Viktor",
    "Filip",
    "Anton",
    "Gustav",
    "Isak",
    "Jesper",
    "Linus",
    "Marcus",
    "Nils",
    "Rasmus",
    "Simon",
    "Theo",
    "Adam",
    "Albin",
    "Jonathan",
    "Mattias",
    "Oliver",
    "Sebastian",
    "Alexander",
    "Joel",
    "Kasper",
    "Leo",
    "Emil",
    "Mika",
    "Aleksi",
    "Patrik",
    "Tomas",
    "Jakub",
    "Connor",
    "Tyler",
    "Brandon",
    "Noah",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Lindqvist",
    "Lindström",
    "Berglund",
    "Holmberg",
    "Sandström",
    "Forsberg",
    "Lundgren",
    "Ekman",
    "Wallin",
    "Nyström",
    "Sjöberg",
    "Hedlund",
    "Lindholm",
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Novák",
    "Dvořák",
    "MacDonald",
    "Thompson",
    "Fischer",
    "Åberg",
    "Öberg",
    "Strand",
    "Björk",
    "Engström",
    "Dahl",
    "Hägg",
]

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

S, St = MedicalRestriction.Severity, MedicalRestriction.Status
# title, severity, body parts, patterns, categories, max exertion, supervision, no contact, notes,
# then the timing: "active", "expired", "future", "pending" or "cleared".
RESTRICTIONS: list[tuple[str, str, list[str], list[str], list[str], int | None, bool, bool, str, str]] = [
    (
        "Hamstring tightness",
        S.MILD,
        [B.HAMSTRING],
        [P.SPRINT],
        [],
        80,
        False,
        False,
        "Grade 0–1 posterior thigh tightness after sprint session. No palpable defect. "
        "Progress sprint volume.",
        "active",
    ),
    (
        "Lower back stiffness",
        S.MILD,
        [B.LOWER_BACK],
        [P.HINGE],
        [],
        None,
        False,
        False,
        "Non-specific LBP, no radicular signs. Avoid heavy hinging for one week; mobility daily.",
        "expired",
    ),
    (
        "Left knee MCL sprain",
        S.MODERATE,
        [B.KNEE],
        [P.LUNGE, P.SKATE, P.JUMP],
        [C.PLYOMETRICS],
        60,
        False,
        True,
        "Grade II MCL sprain, valgus stress test positive at 30°. MRI: no meniscal involvement. "
        "Brace on ice.",
        "active",
    ),
    (
        "Groin strain (adductor longus)",
        S.MODERATE,
        [B.GROIN, B.HIP],
        [P.SKATE, P.LUNGE],
        [C.AGILITY],
        65,
        False,
        False,
        "Adductor longus strain, pain on squeeze test 6/10. Copenhagen progression per rehab plan.",
        "future",
    ),
    (
        "Right shoulder AC joint sprain",
        S.SEVERE,
        [B.SHOULDER],
        [P.PUSH, P.OVERHEAD_PRESS, P.CONTACT],
        [],
        40,
        True,
        True,
        "Rockwood type II AC separation after board hit. Sling 5 days. No pressing, no contact.",
        "active",
    ),
    (
        "Lateral ankle sprain",
        S.SEVERE,
        [B.ANKLE],
        [P.JUMP, P.SPRINT, P.SKATE],
        [C.PLYOMETRICS, C.ON_ICE],
        30,
        True,
        True,
        "ATFL grade II tear, Ottawa rules negative. Boot for 10 days, then proprioception work.",
        "expired",
    ),
    (
        "Concussion — return-to-play protocol",
        S.COMPLETE,
        [B.HEAD, B.NECK],
        [],
        [],
        0,
        True,
        True,
        "SCAT6 symptom score 18 on day 1. Stage 1 of graded return: symptom-limited activity only.",
        "active",
    ),
    (
        "Wrist fracture (scaphoid)",
        S.COMPLETE,
        [B.WRIST],
        [P.PUSH, P.CONTACT],
        [],
        0,
        True,
        True,
        "Undisplaced scaphoid waist fracture on CT. Cast 6 weeks; review with hand surgeon.",
        "future",
    ),
    (
        "Calf strain",
        S.MILD,
        [B.CALF],
        [P.JUMP, P.SPRINT],
        [],
        70,
        False,
        False,
        "Medial gastrocnemius strain, pain on single-leg calf raise. Cleared after 10 pain-free raises.",
        "cleared",
    ),
    (
        "Hip flexor irritation",
        S.MODERATE,
        [B.HIP],
        [P.SPRINT, P.SKATE],
        [],
        70,
        False,
        False,
        "Iliopsoas irritation, awaiting physio review of imaging.",
        "pending",
    ),
]


class Command(BaseCommand):
    help = "Create a demo club (teams, players, exercises, a season of workouts, restrictions). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        started = timezone.now()
        with transaction.atomic(durable=True):
            users = self._users()
            facilities = self._facilities()
            exercises = self._exercises()
            for index, (name, slug) in enumerate(TEAMS):
                team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "season": SEASON})
                trainer = users["trainer"] if index == 0 else users["trainer2"]
                for user, role in (
                    (trainer, Membership.Role.TRAINER),
                    (users["medic"], Membership.Role.MEDIC),
                ):
                    Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
                players = self._players(team, random.Random(f"{SEED}-{slug}-players"))
                self._workouts(
                    team, trainer, players, facilities, exercises, random.Random(f"{SEED}-{slug}-w")
                )
                self._templates(team, trainer, exercises, random.Random(f"{SEED}-{slug}-t"))
                self._restrictions(team, users["medic"], players, random.Random(f"{SEED}-{slug}-r"))
        elapsed = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Demo club ready in {elapsed:.1f}s: {Team.objects.count()} teams, "
            f"{Player.objects.count()} players, "
            f"{Exercise.objects.count()} exercises, {Workout.objects.count()} workouts, "
            f"{Assignment.objects.count()} assignments, {MedicalRestriction.objects.count()} restrictions."
        )
        self.stdout.write(f"Logins (password '{PASSWORD}'):")
        self.stdout.write("  trainer   — physical trainer, Frölunda Hawks")
        self.stdout.write("  trainer2  — physical trainer, Luleå Lynx")
        self.stdout.write("  medic     — medical staff, both teams")
        self.stdout.write("  admin     — staff superuser (/admin/)")

    def _users(self) -> dict[str, Any]:
        User = get_user_model()  # noqa: N806
        specs = {
            "trainer": {"first_name": "Tove", "last_name": "Lindgren"},
            "trainer2": {"first_name": "Jari", "last_name": "Aho"},
            "medic": {"first_name": "Dr. Sara", "last_name": "Holm"},
            "admin": {"first_name": "Club", "last_name": "Admin", "is_staff": True, "is_superuser": True},
        }
        users = {}
        for username, fields in specs.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={**fields, "email": f"{username}@hockeyhub.example"}
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            users[username] = user
        return users

    def _facilities(self) -> list[Facility]:
        return [
            Facility.objects.get_or_create(
                name=name, defaults={"opens_at": o, "closes_at": c, "capacity": cap}
            )[0]
            for name, o, c, cap in FACILITIES
        ]

    def _exercises(self) -> dict[str, list[Exercise]]:
        Exercise.objects.bulk_create(
            [
                Exercise(
                    name=name,
                    category=category,
                    movement_patterns=patterns,
                    body_parts=parts,
                    intensity=intensity,
                    contact=contact,
                    equipment=equipment,
                    unilateral=unilateral,
                    description=f"{Exercise.Category(category).label} exercise.",
                )
                for name, category, patterns, parts, intensity, contact, equipment, unilateral in EXERCISES
            ],
            ignore_conflicts=True,
        )
        by_category: dict[str, list[Exercise]] = {}
        for exercise in Exercise.objects.filter(name__in=[row[0] for row in EXERCISES]).order_by("name"):
            by_category.setdefault(exercise.category, []).append(exercise)
        return by_category

    def _players(self, team: Team, rng: random.Random) -> list[Player]:
        if not team.players.exists():
            positions = (
                [Player.Position.GOALIE] * 3 + [Player.Position.DEFENCE] * 8 + [Player.Position.FORWARD] * 14
            )
            names: set[tuple[str, str]] = set()
            while len(names) < len(positions):
                names.add((rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)))
            numbers = rng.sample(range(1, 99), len(positions))
            Player.objects.bulk_create(
                Player(
                    team=team,
                    first_name=first,
                    last_name=last,
                    jersey_number=number,
                    position=position,
                    daily_load_limit=rng.choice([150, 180, 200, 200, 220]),
                )
                for (first, last), number, position in zip(sorted(names), numbers, positions, strict=True)
            )
        return list(team.players.order_by("jersey_number"))

    def _workouts(
        self,
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

    def _templates(
        self, team: Team, trainer: Any, exercises: dict[str, list[Exercise]], rng: random.Random
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

    def _restrictions(self, team: Team, medic: Any, players: list[Player], rng: random.Random) -> None:
        if MedicalRestriction.objects.filter(player__team=team).exists():
            return
        today = timezone.localdate()
        patients = rng.sample(players, len(RESTRICTIONS))
        restrictions = []
        unavailable = []
        for player, spec in zip(patients, RESTRICTIONS, strict=True):
            title, severity, parts, patterns, categories, exertion, supervision, no_contact, notes, timing = (
                spec
            )
            if timing == "expired":
                effective, expiry, status = (
                    today - dt.timedelta(days=40),
                    today - dt.timedelta(days=10),
                    St.EXPIRED,
                )
            elif timing == "future":
                effective, expiry, status = (
                    today + dt.timedelta(days=3),
                    today + dt.timedelta(days=24),
                    St.ACTIVE,
                )
            elif timing == "cleared":
                effective, expiry, status = (
                    today - dt.timedelta(days=20),
                    today - dt.timedelta(days=5),
                    St.CLEARED,
                )
            elif timing == "pending":
                effective, expiry, status = today, None, St.PENDING
            else:
                effective = today - dt.timedelta(days=rng.randint(2, 8))
                expiry, status = today + dt.timedelta(days=rng.randint(7, 28)), St.ACTIVE
                if severity in (S.SEVERE, S.COMPLETE):
                    unavailable.append(player.pk)
            restrictions.append(
                MedicalRestriction(
                    player=player,
                    title=title,
                    severity=severity,
                    status=status,
                    body_parts=parts,
                    movement_patterns=patterns,
                    exercise_categories=categories,
                    max_exertion=exertion,
                    requires_supervision=supervision,
                    no_contact=no_contact,
                    effective_date=effective,
                    expiry_date=expiry,
                    clinical_notes=notes,
                    prescribed_by=medic,
                )
            )
        MedicalRestriction.objects.bulk_create(restrictions)
        Player.objects.filter(pk__in=unavailable).update(availability=Player.Availability.INJURED)
