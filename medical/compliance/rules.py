"""The restriction rules: which restrictions are in effect, what an exercise violates, what it means.

`Restriction` is one restriction row as the engine sees it; `violations` and `outcome` carry the
severity semantics described in the package docstring. `restrictions_in_effect_rows` is the one
query for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from medical.compliance.verdicts import (
    BODY_PART,
    CATEGORY,
    CONTACT,
    INTENSITY,
    MOVEMENT_PATTERN,
    ExerciseSpec,
)
from medical.models import RULE_FIELDS, MedicalRestriction
from medical.selectors import IN_EFFECT_STATUSES
from workouts.models import Exercise

MAX_ALTERNATIVES = 3
MILD_DEFAULT_LOAD_CAP = 70

SEVERITY = MedicalRestriction.Severity
# Per-(exercise, restriction) outcomes, strictest first.
BLOCK = 3
SUBSTITUTE_OR_BLOCK = 2
SUBSTITUTE_OR_CAP = 1
CAP = 0


@dataclass(frozen=True)
class Restriction:
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
        if self.severity in (SEVERITY.SEVERE, SEVERITY.COMPLETE):
            return BLOCK
        if code == INTENSITY:
            return CAP
        if code == CONTACT or self.severity == SEVERITY.MODERATE:
            return SUBSTITUTE_OR_BLOCK
        return SUBSTITUTE_OR_CAP

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
    return list(qs.order_by("player_id", "id").values("id", "player_id", "title", *RULE_FIELDS))
