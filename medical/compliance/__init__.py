"""The medical compliance engine: players × a workout's exercises × a date → a verdict per player.

Which restrictions count
    A restriction is *in effect* on a date when its status is ``active`` or ``pending`` and
    ``effective_date <= date <= expiry_date`` (no expiry date = open-ended). ``pending`` counts because
    a restriction waiting for medical review was still prescribed by someone who saw the player; we
    err on the side of the player's health until a medic clears it. ``expired`` and ``cleared``
    never count, whatever their dates say.

What an exercise can violate (the finding codes)
    ``BODY_PART``        the exercise loads a restricted body part;
    ``MOVEMENT_PATTERN`` it uses a restricted movement pattern;
    ``CATEGORY``         its category is restricted;
    ``CONTACT``          the restriction says no contact and the exercise is a contact one;
    ``INTENSITY``        its intensity (or its planned load %) is above the restriction's max exertion;
                         a workout intensity above max exertion gives a workout-level finding
                         (``exercise_id`` None).
    Outcome codes: ``COMPLETE_RESTRICTION`` (no training at all), ``NO_SAFE_ALTERNATIVE`` (a
    substitution was required but the library holds no safe exercise of the same category) and
    ``SUPERVISION`` (the player may train only under supervision).

Severity semantics, per offending exercise
    complete  the player is blocked from every workout, whatever its exercises.
    severe    any violation (including intensity) blocks the player.
    moderate  a body part / pattern / category / contact violation is substituted with the best safe
              alternative; with no safe alternative the player is blocked. An intensity violation
              only caps the load at max exertion.
    mild      a body part / pattern / category violation is substituted when a safe alternative exists,
              otherwise the exercise stays with the load capped (at max exertion, or
              ``MILD_DEFAULT_LOAD_CAP``). Contact is never made safe by a lower load, so a contact
              violation is substituted or blocks, as for moderate. Intensity caps the load.
    Several restrictions on one player combine: the strictest outcome wins, load caps take the lowest
    value, and a substitute must be safe against every restriction in effect.
    ``requires_supervision`` on any restriction in effect turns a compliant player into ``modified``.

Safe alternatives
    For each offending exercise: up to ``MAX_ALTERNATIVES`` exercises of the same category, not already
    in the workout, that violate none of the player's restrictions in effect (intensity included),
    closest in intensity first, then by name. An empty list is the "no safe alternative" outcome.
    Each substitution uses a different replacement where the library allows it.

Query cost
    ``ComplianceEngine`` runs one query for the restrictions (all players, all dates), one for player
    names and, only when some exercise offends, one for the exercise library — whatever the number of
    players or exercises. ``medical.gate`` gives it workouts (their exercises, their day).

Layout
    ``verdicts``  the verdict and finding codes, ``ExerciseSpec``, ``Finding``, ``Alternative`` and
                  ``PlayerVerdict`` (with its one-sentence summary);
    ``rules``     the restriction rules: what is in effect, what an exercise violates, what it means;
    ``engine``    ``ComplianceEngine`` (checks and safe alternatives).
    This package re-exports the public names, so callers import from ``medical.compliance``.
"""

from __future__ import annotations

from medical.compliance.engine import ComplianceEngine
from medical.compliance.rules import MAX_ALTERNATIVES, MILD_DEFAULT_LOAD_CAP
from medical.compliance.verdicts import (
    BLOCKED,
    BODY_PART,
    CATEGORY,
    COMPLETE_RESTRICTION,
    COMPLIANT,
    CONTACT,
    INTENSITY,
    MODIFIED,
    MOVEMENT_PATTERN,
    NO_SAFE_ALTERNATIVE,
    SUPERVISION,
    ExerciseSpec,
    PlayerVerdict,
)

__all__ = [
    "BLOCKED",
    "BODY_PART",
    "CATEGORY",
    "COMPLETE_RESTRICTION",
    "COMPLIANT",
    "CONTACT",
    "INTENSITY",
    "MAX_ALTERNATIVES",
    "MILD_DEFAULT_LOAD_CAP",
    "MODIFIED",
    "MOVEMENT_PATTERN",
    "NO_SAFE_ALTERNATIVE",
    "SUPERVISION",
    "ComplianceEngine",
    "ExerciseSpec",
    "PlayerVerdict",
]
