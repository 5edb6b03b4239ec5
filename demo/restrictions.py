"""The demo club's medical restrictions: one per listed case, active, expired, future, pending or cleared."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from medical.models import MedicalRestriction
from workouts.models import Exercise, Player, Team

C, P, B = Exercise.Category, Exercise.Pattern, Exercise.BodyPart
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


def seed_restrictions(team: Team, medic: Any, players: list[Player], rng: random.Random) -> None:
    if MedicalRestriction.objects.filter(player__team=team).exists():
        return
    today = timezone.localdate()
    patients = rng.sample(players, len(RESTRICTIONS))
    restrictions = []
    unavailable = []
    for player, spec in zip(patients, RESTRICTIONS, strict=True):
        title, severity, parts, patterns, categories, exertion, supervision, no_contact, notes, timing = spec
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
