"""The compliance engine: many players × exercise lists × dates → a verdict per player, alternatives included.

`ComplianceEngine` loads the restrictions once and judges each player; a workout's day and exercises
come from its caller (medical.gate, with workouts.calendar.workout_day). Query costs are in the package
docstring.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from medical.compliance.rules import (
    BLOCK,
    CAP,
    MAX_ALTERNATIVES,
    SEVERITY,
    SUBSTITUTE_OR_BLOCK,
    SUBSTITUTE_OR_CAP,
    Restriction,
    restrictions_in_effect_rows,
)
from medical.compliance.verdicts import (
    BLOCKED,
    COMPLETE_RESTRICTION,
    INTENSITY,
    MODIFIED,
    NO_SAFE_ALTERNATIVE,
    SUPERVISION,
    Alternative,
    ExerciseSpec,
    Finding,
    PlayerVerdict,
)
from workouts.models import Exercise, Player


class ComplianceEngine:
    """Check many players against exercise lists on given dates with a constant number of queries."""

    def __init__(self, *, player_ids: Iterable[int], dates: Iterable[dt.date]) -> None:
        self.player_ids = list(dict.fromkeys(player_ids))
        self.dates = sorted(set(dates))
        self._restrictions: dict[int, list[Restriction]] = defaultdict(list)
        for row in restrictions_in_effect_rows(player_ids=self.player_ids, dates=self.dates):
            self._restrictions[row["player_id"]].append(
                Restriction(
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

    def restrictions_for(self, *, player_id: int, on_date: dt.date) -> list[Restriction]:
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
        complete = [r for r in restrictions if r.severity == SEVERITY.COMPLETE]
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
                    if r.outcome(INTENSITY) == BLOCK:
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
                    if outcome in (CAP, SUBSTITUTE_OR_CAP):
                        ex_caps.append(r.cap())
            if worst < 0:
                continue
            alternatives = self.alternatives(ex, restrictions=restrictions, exclude=workout_ids)
            result.alternatives[ex.exercise_id] = alternatives
            if worst == BLOCK:
                blocked = True
            elif worst == CAP:
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
                    if worst == SUBSTITUTE_OR_BLOCK:
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
        self, exercise: ExerciseSpec, *, restrictions: Sequence[Restriction], exclude: set[int] = frozenset()
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
