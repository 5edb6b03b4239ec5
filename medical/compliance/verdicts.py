"""The compliance engine's vocabulary: verdicts, finding codes, exercise specs, findings and verdicts.

`PlayerVerdict.summary` turns a verdict into the one sentence the admin, the forms and the batch
results show. Pure data: no queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workouts.models import Exercise

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
