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
    players or exercises. ``check_workout`` adds one query for the workout's exercises.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from medical.models import MedicalRestriction
from medical.selectors import IN_EFFECT_STATUSES
from workouts.models import Exercise, Player, Workout, WorkoutExercise

COMPLIANT = "compliant"
MODIFIED = "modified"
BLOCKED = "blocked"

COMPLETE_RESTRICTION = "COMPLETE_RESTRICTION"
BODY_PART = "BODY_PART"
MOVEMENT_PATTERN = "MOVEMENT_PATTERN"
CATEGORY = "CATEGORY"
INTENSITY = "INTENSITY"
CONTACT = "CONTACT"
NO_SAFE_ALTERNATIVE = "NO_SAFE_ALTERNATIVE"
SUPERVISION = "SUPERVISION"

MAX_ALTERNATIVES = 3
MILD_DEFAULT_LOAD_CAP = 70

_SEVERITY = MedicalRestriction.Severity
# Per-(exercise, restriction) outcomes, strictest first.
_BLOCK = 3
_SUBSTITUTE_OR_BLOCK = 2
_SUBSTITUTE_OR_CAP = 1
_CAP = 0
_STRUCTURAL = (BODY_PART, MOVEMENT_PATTERN, CATEGORY)


@dataclass(frozen=True)
class ExerciseSpec:
    """What the engine needs to know about one exercise of a workout (or of the library)."""

    exercise_id: int
    name: str
    category: str
    movement_patterns: tuple[str, ...]
    body_parts: tuple[str, ...]
    intensity: int
    contact: bool
    load_percent: int | None = None

    @classmethod
    def from_exercise(cls, exercise: Exercise, load_percent: int | None = None) -> ExerciseSpec:
        return cls(
            exercise_id=exercise.pk,
            name=exercise.name,
            category=exercise.category,
            movement_patterns=tuple(exercise.movement_patterns or ()),
            body_parts=tuple(exercise.body_parts or ()),
            intensity=exercise.intensity,
            contact=exercise.contact,
            load_percent=load_percent,
        )


@dataclass(frozen=True)
class Finding:
    exercise_id: int | None
    exercise_name: str
    restriction_id: int
    restriction_title: str
    severity: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "exerciseId": self.exercise_id,
            "exerciseName": self.exercise_name,
            "restrictionId": self.restriction_id,
            "restrictionTitle": self.restriction_title,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class Alternative:
    exercise_id: int
    name: str
    category: str
    intensity: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "exerciseId": self.exercise_id,
            "name": self.name,
            "category": self.category,
            "intensity": self.intensity,
        }


@dataclass
class PlayerVerdict:
    player_id: int
    player_name: str
    verdict: str = COMPLIANT
    findings: list[Finding] = field(default_factory=list)
    substitutions: list[dict[str, Any]] = field(default_factory=list)
    load_cap: int | None = None
    requires_supervision: bool = False
    alternatives: dict[int, list[Alternative]] = field(default_factory=dict)

    @property
    def is_blocked(self) -> bool:
        return self.verdict == BLOCKED

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-safe, camelCase form (alternatives keyed by the exercise id as a string)."""
        return {
            "playerId": self.player_id,
            "playerName": self.player_name,
            "verdict": self.verdict,
            "findings": [f.as_dict() for f in self.findings],
            "substitutions": [dict(s) for s in self.substitutions],
            "loadCap": self.load_cap,
            "requiresSupervision": self.requires_supervision,
            "alternatives": {str(k): [a.as_dict() for a in v] for k, v in self.alternatives.items()},
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """Return one sentence naming the player, the restrictions and the exercises concerned."""
        name = self.player_name
        if self.verdict == COMPLIANT:
            return f"{name} is clear to train: no medical restriction applies."
        complete = [f for f in self.findings if f.code == COMPLETE_RESTRICTION]
        if complete:
            titles = _join(f"{f.restriction_title} ({f.severity})" for f in complete)
            return f"{name} is blocked: {titles} — no training."
        if self.verdict == BLOCKED:
            blocking = [f for f in self.findings if f.code not in (SUPERVISION,)]
            parts = _group_by_restriction(blocking)
            no_alt = sorted({f.exercise_name for f in self.findings if f.code == NO_SAFE_ALTERNATIVE})
            tail = f"; no safe alternative for {_join(no_alt)}" if no_alt else ""
            return f"{name} is blocked: {parts}{tail}."
        bits: list[str] = []
        if self.substitutions:
            bits.append(
                _join(f"{s['exerciseName']} replaced by {s['replacementName']}" for s in self.substitutions)
            )
        if self.load_cap is not None:
            bits.append(f"load capped at {self.load_cap}%")
        if self.requires_supervision:
            bits.append("supervision required")
        restrictions = _join(sorted({f"{f.restriction_title} ({f.severity})" for f in self.findings}))
        return f"{name} may train with modifications for {restrictions}: {'; '.join(bits)}."


def _join(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _group_by_restriction(findings: Sequence[Finding]) -> str:
    by_restriction: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in findings:
        if f.code == NO_SAFE_ALTERNATIVE:
            continue
        names = by_restriction[(f.restriction_title, f.severity)]
        label = f.exercise_name or "the workout"
        if label not in names:
            names.append(label)
    return "; ".join(
        f"{title} ({sev}) rules out {_join(names)}" for (title, sev), names in by_restriction.items()
    )


@dataclass(frozen=True)
class _Restriction:
    id: int
    player_id: int
    title: str
    severity: str
    body_parts: frozenset[str]
    movement_patterns: frozenset[str]
    categories: frozenset[str]
    max_exertion: int | None
    no_contact: bool
    requires_supervision: bool
    effective_date: dt.date
    expiry_date: dt.date | None

    def in_effect(self, on_date: dt.date) -> bool:
        return self.effective_date <= on_date and (self.expiry_date is None or on_date <= self.expiry_date)

    def violations(self, ex: ExerciseSpec) -> list[tuple[str, str]]:
        """Return (code, message) for every way the exercise breaks this restriction."""
        out: list[tuple[str, str]] = []
        if parts := sorted(self.body_parts.intersection(ex.body_parts)):
            out.append((BODY_PART, f"{ex.name} loads restricted body part {', '.join(parts)}"))
        if patterns := sorted(self.movement_patterns.intersection(ex.movement_patterns)):
            out.append((MOVEMENT_PATTERN, f"{ex.name} uses restricted movement {', '.join(patterns)}"))
        if ex.category in self.categories:
            out.append((CATEGORY, f"{ex.name} is in restricted category {ex.category}"))
        if self.no_contact and (ex.contact or Exercise.Pattern.CONTACT in ex.movement_patterns):
            out.append((CONTACT, f"{ex.name} involves contact"))
        limit = self.max_exertion
        if limit is not None:
            if ex.intensity > limit:
                out.append((INTENSITY, f"{ex.name} intensity {ex.intensity}% is above max exertion {limit}%"))
            elif ex.load_percent is not None and ex.load_percent > limit:
                out.append((INTENSITY, f"{ex.name} load {ex.load_percent}% is above max exertion {limit}%"))
        return out

    def outcome(self, code: str) -> int:
        """Return what a violation with this code means under this restriction's severity."""
        if self.severity in (_SEVERITY.SEVERE, _SEVERITY.COMPLETE):
            return _BLOCK
        if code == INTENSITY:
            return _CAP
        if code == CONTACT or self.severity == _SEVERITY.MODERATE:
            return _SUBSTITUTE_OR_BLOCK
        return _SUBSTITUTE_OR_CAP

    def cap(self) -> int:
        if self.max_exertion is not None:
            return self.max_exertion
        return MILD_DEFAULT_LOAD_CAP


def restrictions_in_effect_rows(
    *, player_ids: Iterable[int], dates: Iterable[dt.date]
) -> list[dict[str, Any]]:
    """Return restriction rows in effect on any of the dates for these players (one query, no notes)."""
    dates = sorted(set(dates))
    player_ids = list(set(player_ids))
    if not dates or not player_ids:
        return []
    qs = MedicalRestriction.objects.filter(
        player_id__in=player_ids,
        status__in=IN_EFFECT_STATUSES,
        effective_date__lte=dates[-1],
    ).exclude(expiry_date__lt=dates[0])
    return list(
        qs.order_by("player_id", "id").values(
            "id",
            "player_id",
            "title",
            "severity",
            "body_parts",
            "movement_patterns",
            "exercise_categories",
            "max_exertion",
            "no_contact",
            "requires_supervision",
            "effective_date",
            "expiry_date",
        )
    )


class ComplianceEngine:
    """Check many players against exercise lists on given dates with a constant number of queries."""

    def __init__(self, *, player_ids: Iterable[int], dates: Iterable[dt.date]) -> None:
        self.player_ids = list(dict.fromkeys(player_ids))
        self.dates = sorted(set(dates))
        self._restrictions: dict[int, list[_Restriction]] = defaultdict(list)
        for row in restrictions_in_effect_rows(player_ids=self.player_ids, dates=self.dates):
            self._restrictions[row["player_id"]].append(
                _Restriction(
                    id=row["id"],
                    player_id=row["player_id"],
                    title=row["title"],
                    severity=row["severity"],
                    body_parts=frozenset(row["body_parts"] or ()),
                    movement_patterns=frozenset(row["movement_patterns"] or ()),
                    categories=frozenset(row["exercise_categories"] or ()),
                    max_exertion=row["max_exertion"],
                    no_contact=row["no_contact"],
                    requires_supervision=row["requires_supervision"],
                    effective_date=row["effective_date"],
                    expiry_date=row["expiry_date"],
                )
            )
        self._names: dict[int, str] | None = None
        self._library: dict[str, list[ExerciseSpec]] | None = None

    # -- lazily loaded, once -------------------------------------------------------------------------

    def player_name(self, player_id: int) -> str:
        if self._names is None:
            rows = Player.objects.filter(pk__in=self.player_ids).values_list("pk", "first_name", "last_name")
            self._names = {pk: f"{first} {last}" for pk, first, last in rows}
        return self._names.get(player_id, f"Player {player_id}")

    def library(self) -> dict[str, list[ExerciseSpec]]:
        """Return the exercise library grouped by category (one query, on first use)."""
        if self._library is None:
            grouped: dict[str, list[ExerciseSpec]] = defaultdict(list)
            for ex in Exercise.objects.order_by("name").only(
                "id", "name", "category", "movement_patterns", "body_parts", "intensity", "contact"
            ):
                grouped[ex.category].append(ExerciseSpec.from_exercise(ex))
            self._library = dict(grouped)
        return self._library

    # -- the check -----------------------------------------------------------------------------------

    def restrictions_for(self, *, player_id: int, on_date: dt.date) -> list[_Restriction]:
        return [r for r in self._restrictions.get(player_id, ()) if r.in_effect(on_date)]

    def check(
        self,
        *,
        player_id: int,
        exercises: Sequence[ExerciseSpec],
        on_date: dt.date,
        workout_intensity: int | None = None,
    ) -> PlayerVerdict:
        """Return the player's verdict for these exercises on this date."""
        result = PlayerVerdict(player_id=player_id, player_name=self.player_name(player_id))
        restrictions = self.restrictions_for(player_id=player_id, on_date=on_date)
        if not restrictions:
            return result

        blocked = False
        caps: list[int] = []
        complete = [r for r in restrictions if r.severity == _SEVERITY.COMPLETE]
        for r in complete:
            result.findings.append(
                Finding(None, "", r.id, r.title, r.severity, COMPLETE_RESTRICTION, "No training of any kind.")
            )
        if complete:
            result.verdict = BLOCKED
            result.requires_supervision = any(r.requires_supervision for r in restrictions)
            return result

        if workout_intensity is not None:
            for r in restrictions:
                if r.max_exertion is not None and workout_intensity > r.max_exertion:
                    msg = f"Workout intensity {workout_intensity}% is above max exertion {r.max_exertion}%"
                    result.findings.append(Finding(None, "", r.id, r.title, r.severity, INTENSITY, msg))
                    if r.outcome(INTENSITY) == _BLOCK:
                        blocked = True
                    else:
                        caps.append(r.cap())

        workout_ids = {ex.exercise_id for ex in exercises}
        used_replacements: set[int] = set()
        for ex in exercises:
            worst = -1
            ex_caps: list[int] = []
            for r in restrictions:
                for code, message in r.violations(ex):
                    result.findings.append(
                        Finding(ex.exercise_id, ex.name, r.id, r.title, r.severity, code, message)
                    )
                    outcome = r.outcome(code)
                    worst = max(worst, outcome)
                    if outcome in (_CAP, _SUBSTITUTE_OR_CAP):
                        ex_caps.append(r.cap())
            if worst < 0:
                continue
            alternatives = self.alternatives(ex, restrictions=restrictions, exclude=workout_ids)
            result.alternatives[ex.exercise_id] = alternatives
            if worst == _BLOCK:
                blocked = True
            elif worst == _CAP:
                caps.extend(ex_caps)
            else:
                replacement = next(
                    (a for a in alternatives if a.exercise_id not in used_replacements),
                    alternatives[0] if alternatives else None,
                )
                if replacement is not None:
                    used_replacements.add(replacement.exercise_id)
                    reasons = sorted({f.code for f in result.findings if f.exercise_id == ex.exercise_id})
                    result.substitutions.append(
                        {
                            "exerciseId": ex.exercise_id,
                            "exerciseName": ex.name,
                            "replacementId": replacement.exercise_id,
                            "replacementName": replacement.name,
                            "reason": ", ".join(reasons),
                        }
                    )
                else:
                    first = next(f for f in result.findings if f.exercise_id == ex.exercise_id)
                    result.findings.append(
                        Finding(
                            ex.exercise_id,
                            ex.name,
                            first.restriction_id,
                            first.restriction_title,
                            first.severity,
                            NO_SAFE_ALTERNATIVE,
                            f"No safe {ex.category} alternative to {ex.name} in the exercise library",
                        )
                    )
                    if worst == _SUBSTITUTE_OR_BLOCK:
                        blocked = True
                    else:
                        caps.extend(ex_caps)

        supervised = [r for r in restrictions if r.requires_supervision]
        for r in supervised:
            result.findings.append(
                Finding(None, "", r.id, r.title, r.severity, SUPERVISION, "Train only under supervision.")
            )
        result.requires_supervision = bool(supervised)
        result.load_cap = min(caps) if caps else None
        if blocked:
            result.verdict = BLOCKED
        elif result.substitutions or result.load_cap is not None or result.requires_supervision:
            result.verdict = MODIFIED
        return result

    def alternatives(
        self, exercise: ExerciseSpec, *, restrictions: Sequence[_Restriction], exclude: set[int] = frozenset()
    ) -> list[Alternative]:
        """Return up to MAX_ALTERNATIVES safe exercises of the same category, closest intensity first."""
        safe = [
            c
            for c in self.library().get(exercise.category, ())
            if c.exercise_id != exercise.exercise_id
            and c.exercise_id not in exclude
            and not any(r.violations(c) for r in restrictions)
        ]
        safe.sort(key=lambda c: (abs(c.intensity - exercise.intensity), c.name))
        return [Alternative(c.exercise_id, c.name, c.category, c.intensity) for c in safe[:MAX_ALTERNATIVES]]


def workout_date(workout: Workout) -> dt.date:
    """Return the local date a workout happens on (today when it is not scheduled)."""
    if workout.scheduled_start is None:
        return timezone.localdate()
    return timezone.localdate(workout.scheduled_start)


def workout_exercise_specs(workout: Workout) -> list[ExerciseSpec]:
    """Return the workout's exercises in order, as specs (one query)."""
    rows = WorkoutExercise.objects.filter(workout=workout).select_related("exercise").order_by("order", "id")
    return [ExerciseSpec.from_exercise(we.exercise, load_percent=we.load_percent) for we in rows]


def check_workout(
    *, workout: Workout, player_ids: Iterable[int], on_date: dt.date | None = None
) -> dict[int, PlayerVerdict]:
    """Return a verdict per player for one workout (at most four queries, whatever the sizes)."""
    player_ids = list(dict.fromkeys(player_ids))
    on_date = on_date or workout_date(workout)
    engine = ComplianceEngine(player_ids=player_ids, dates=[on_date])
    specs = workout_exercise_specs(workout)
    intensity = workout.intensity
    return {
        pid: engine.check(player_id=pid, exercises=specs, on_date=on_date, workout_intensity=intensity)
        for pid in player_ids
    }
