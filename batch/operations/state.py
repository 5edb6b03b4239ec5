"""The chunk state the workout executors share with the shared steps (loading, medical, calendar).

Each workout executor's state (`CreateState`, `UpdateState`, …) extends `WorkoutState` with what it
loads itself; the shared steps read and write only the fields declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from batch.models import BatchItem
from batch.operations.base import ExecutorState

if TYPE_CHECKING:
    from medical.compliance import ExerciseSpec
    from medical.gate import MedicalGate
    from workouts.calendar import Booking
    from workouts.models import Assignment, Player, Workout, WorkoutExercise


@dataclass(slots=True)
class Parts:
    """The chunk's workouts' exercises (rows and compliance specs) and assignments (with players)."""

    exercises: dict[int, list[WorkoutExercise]] = field(default_factory=dict)
    specs: dict[int, list[ExerciseSpec]] = field(default_factory=dict)
    assignments: dict[int, list[Assignment]] = field(default_factory=dict)
    players: dict[int, Player] = field(default_factory=dict)


@dataclass(slots=True)
class Overrides:
    """What OVERRIDE takes away from others, written by `apply_overrides` in the item's apply."""

    unassign: list[tuple[BatchItem, Assignment]] = field(default_factory=list)
    clear_facility: list[tuple[BatchItem, Booking, int]] = field(default_factory=list)


@dataclass(slots=True)
class WorkoutChange:
    """A change check made to the chunk's copy of a workout: the changed fields' images, the version."""

    workout: Workout
    before: dict[str, Any]
    after: dict[str, Any]
    version: int


@dataclass(slots=True)
class WorkoutState(ExecutorState):
    """What every workout executor's chunk holds for the shared steps."""

    # The team's workouts the items name (locked when running), by id.
    workouts: dict[int, Workout] = field(default_factory=dict)
    parts: Parts = field(default_factory=Parts)
    # The chunk's medical gate (medical.py: `load_gate`); None when no player is concerned.
    gate: MedicalGate | None = None
    # Each workout's players' loads as the calendar books them (UPDATE), forgotten by `take_off`.
    loads: dict[int, dict[int, int]] = field(default_factory=dict)
    # Per op id: players left out (id -> name), assignments to take off, assignments to refit.
    left_out: dict[str, dict[int, str]] = field(default_factory=dict)
    take_offs: dict[str, list[Assignment]] = field(default_factory=dict)
    refits: dict[str, list[tuple[Assignment, dict[str, Any]]]] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=Overrides)
