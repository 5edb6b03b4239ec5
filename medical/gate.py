"""The medical gate: may these players train in these workouts, as they are or as they will be?

Every path that puts a player on a workout, or changes a workout a player is on, asks here: the batch
executors (through `batch/operations/medical.py`), undo (`batch/operations/revert/`), the admin and
the forms. The rules themselves live in `medical/compliance/`; this module gives them a workout
shape (`PlannedWorkout`: exercises, date, intensity — from a saved workout, from the planned data of
a CREATE that has not run yet, or from a saved workout at a restored time or intensity), judges many
players × many workouts at once, and words a block for people.

Query cost: `MedicalGate` costs what `ComplianceEngine` costs (restrictions, player names, and the
exercise library only when something offends); `planned_workouts` adds two (workouts, their
exercises). Constant, whatever the number of players and workouts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from medical.compliance import BLOCKED, ComplianceEngine, ExerciseSpec, PlayerVerdict
from workouts.calendar import workout_day
from workouts.models import Workout, WorkoutExercise


@dataclass(frozen=True)
class PlannedWorkout:
    """What the gate judges: a workout's exercises, the day it happens and its intensity."""

    exercises: tuple[ExerciseSpec, ...]
    on_date: dt.date
    intensity: int | None
    name: str = ""
    archived: bool = False  # nobody trains in an archived workout: the gate lets it be


def planned_workouts(
    workout_ids: Iterable[int], *, at: Mapping[int, Mapping[str, Any]] | None = None
) -> dict[int, PlannedWorkout]:
    """Return saved workouts as the gate sees them (two queries).

    `at` overrides per workout `scheduled_start` and/or `intensity` (a restored time or intensity).
    """
    ids = set(workout_ids)
    if not ids:
        return {}
    at = at or {}
    specs: dict[int, list[ExerciseSpec]] = {}
    for row in (
        WorkoutExercise.objects.filter(workout_id__in=ids)
        .select_related("exercise")
        .order_by("workout_id", "order", "id")
    ):
        specs.setdefault(row.workout_id, []).append(
            ExerciseSpec.from_exercise(row.exercise, load_percent=row.load_percent)
        )
    out = {}
    for pk, name, start, intensity, archived_at in Workout.objects.filter(pk__in=ids).values_list(
        "pk", "name", "scheduled_start", "intensity", "archived_at"
    ):
        values = at.get(pk, {})
        start = values.get("scheduled_start", start)
        out[pk] = PlannedWorkout(
            exercises=tuple(specs.get(pk, ())),
            on_date=workout_day(start),
            intensity=values.get("intensity", intensity),
            name=name,
            archived=values.get("archived_at", archived_at) is not None,
        )
    return out


class MedicalGate:
    """Verdicts for many players on many workouts, in a constant number of queries."""

    def __init__(self, *, player_ids: Iterable[int], dates: Iterable[dt.date]) -> None:
        self.engine = ComplianceEngine(player_ids=player_ids, dates=dates)

    @classmethod
    def for_pairs(cls, pairs: Sequence[tuple[PlannedWorkout, int]]) -> MedicalGate:
        return cls(player_ids={pid for _, pid in pairs}, dates={w.on_date for w, _ in pairs})

    def restriction_signature(
        self, player_ids: Iterable[int], on_date: dt.date
    ) -> tuple[tuple[int, ...], ...]:
        """Return which restrictions are in effect per player on a day: equal signatures, equal verdicts."""
        return tuple(
            tuple(r.id for r in self.engine.restrictions_for(player_id=pid, on_date=on_date))
            for pid in player_ids
        )

    def judge(self, workout: PlannedWorkout, player_ids: Iterable[int]) -> dict[int, PlayerVerdict]:
        """Return each player's verdict for the workout (no queries beyond the engine's lazy ones)."""
        return {
            pid: self.engine.check(
                player_id=pid,
                exercises=workout.exercises,
                on_date=workout.on_date,
                workout_intensity=workout.intensity,
            )
            for pid in dict.fromkeys(player_ids)
        }


def judge_pairs(
    pairs: Iterable[tuple[Hashable, int]], planned: Mapping[Hashable, PlannedWorkout]
) -> dict[tuple[Hashable, int], PlayerVerdict]:
    """Return the verdict of each (workout key, player id) pair whose workout is in `planned`."""
    known = [(key, pid) for key, pid in pairs if key in planned]
    if not known:
        return {}
    gate = MedicalGate.for_pairs([(planned[key], pid) for key, pid in known])
    return {(key, pid): gate.judge(planned[key], [pid])[pid] for key, pid in known}


def blocked(verdicts: Iterable[PlayerVerdict]) -> list[PlayerVerdict]:
    return [v for v in verdicts if v.verdict == BLOCKED]


@dataclass(frozen=True)
class Block:
    """A refusal in words: what to show, what to do, and the verdicts behind it."""

    message: str
    suggested_action: str
    details: dict[str, Any]


def block_of(verdicts: Sequence[PlayerVerdict]) -> Block:
    """Word a refusal for blocked players: who, why, and the safe alternatives per exercise."""
    alternatives = []
    for verdict in verdicts:
        exercise_names = {f.exercise_id: f.exercise_name for f in verdict.findings if f.exercise_id}
        for exercise_id, alts in verdict.alternatives.items():
            names = ", ".join(a.name for a in alts) or "none in the same category"
            exercise = exercise_names.get(exercise_id, f"exercise {exercise_id}")
            alternatives.append(f"{verdict.player_name}: replace {exercise} with {names}")
    return Block(
        message="; ".join(v.summary() for v in verdicts),
        suggested_action=(
            "Use safe alternatives — " + "; ".join(alternatives)
            if alternatives
            else "Leave these players out, or ask medical staff to review the restriction."
        ),
        details={"blocked": [v.as_dict() for v in verdicts]},
    )


def medical_override_record(
    *,
    actor: Any,
    team: Any,
    verdicts: Sequence[PlayerVerdict],
    workout_id: int,
    channel: str,
    reason: str,
    obj: Any = None,
) -> None:
    """Audit that a medic or staff member put blocked players on a workout anyway."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MEDICAL_OVERRIDE,
        obj=obj,
        object_type="" if obj is not None else "workouts.workout",
        object_id="" if obj is not None else workout_id,
        team=team,
        channel=channel,
        purpose=reason[:200],
        details={
            "workoutId": workout_id,
            "players": [{"id": v.player_id, "name": v.player_name, "summary": v.summary()} for v in verdicts],
        },
    )
