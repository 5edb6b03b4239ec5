"""The medical gate for undo: REVERT re-checks whatever puts a player back on a workout.

A re-created assignment, a restored assignment, and a workout restored to an earlier time or
intensity are judged as things are now (medical/gate.py): a blocked player ends the item CONFLICT
with MEDICAL_RESTRICTION unless `force` comes from a medic or staff member (audited when written); a
modified player goes back with today's cap and substitutions. `prepare_gate` costs five queries at
most per chunk, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from batch.errors import ErrorCode
from batch.models import BatchChange, BatchItem
from batch.operations.base import Context, ExecutorState
from batch.operations.medical import medical_error
from batch.operations.revert.steps import Key, Step, Undo, to_python
from medical.compliance import BLOCKED, MODIFIED, PlayerVerdict
from medical.gate import MedicalGate, PlannedWorkout, planned_workouts
from medical.roles import is_medic_or_staff
from workouts.calendar import workout_day
from workouts.rules import assignment_medical_fields

A = BatchChange.Action
ASSIGNMENT = "workouts.assignment"
TEMPLATE = "workouts.workouttemplate"
WORKOUT = "workouts.workout"
# Restoring these on a workout asks something new of the players on it: the gate re-checks them.
GATED_WORKOUT_FIELDS = frozenset({"scheduled_start", "intensity"})


def model_for(label: str) -> type[models.Model]:
    return apps.get_model(label)


@dataclass(slots=True)
class RevertState(ExecutorState):
    """A chunk of reverts: what revert/loading.py loads, what the gate needs, the steps check decides."""

    changes: dict[int, BatchChange] = field(default_factory=dict)
    # The live objects (locked), None once gone; check changes them as each revert passes.
    objects: dict[Key, models.Model | None] = field(default_factory=dict)
    # The version this undo last wrote (or will write) for an object: what its next revert expects.
    chain: dict[Key, int | None] = field(default_factory=dict)
    # UNASSIGNED: (workout, player) pairs taken, and the workouts (their state) and players that exist.
    pairs: dict[tuple[int, int], models.Model] = field(default_factory=dict)
    workouts: dict[int, models.Model] = field(default_factory=dict)
    players: set[int] = field(default_factory=set)
    used_templates: set[int] = field(default_factory=set)
    steps: dict[str, Step] = field(default_factory=dict)
    # The medical gate's (prepare_gate): None when nothing puts a player back on a workout.
    gate: MedicalGate | None = None
    planned: dict[int, PlannedWorkout] = field(default_factory=dict)
    roster: dict[int, set[int]] = field(default_factory=dict)
    may_override: bool = False


class RevertGate:
    """The REVERT executor's medical checks (a mixin over the chunk's RevertState)."""

    def prepare_gate(self, state: RevertState, ctx: Context) -> None:
        """Load what the medical gate needs for this chunk's reverts: five queries at most."""
        changes = list(state.changes.values())
        recreate = [c for c in changes if c.action == A.UNASSIGNED]
        restored_workouts = [
            c
            for c in changes
            if c.model == WORKOUT
            and c.action in (A.UPDATED, A.ARCHIVED, A.RESTORED)
            and GATED_WORKOUT_FIELDS & set(c.before or {})
        ]
        restored_assignments = [
            obj
            for c in changes
            if c.model == ASSIGNMENT
            and c.action == A.UPDATED
            and (obj := state.objects.get((c.model, c.object_id))) is not None
        ]
        workout_ids = {(c.before or {}).get("workout_id") for c in recreate} - {None}
        workout_ids |= {c.object_id for c in restored_workouts} | {a.workout_id for a in restored_assignments}
        if not workout_ids:
            return
        planned = state.planned = planned_workouts(workout_ids)
        roster = state.roster
        if restored_workouts:
            assignment = model_for(ASSIGNMENT)
            for workout_id, player_id in assignment.objects.filter(
                workout_id__in={c.object_id for c in restored_workouts}
            ).values_list("workout_id", "player_id"):
                roster.setdefault(workout_id, set()).add(player_id)
        player_ids = {pid for pids in roster.values() for pid in pids}
        player_ids |= {(c.before or {}).get("player_id") for c in recreate} - {None}
        player_ids |= {a.player_id for a in restored_assignments}
        dates = {w.on_date for w in planned.values()}
        for change in restored_workouts:
            start = to_python(
                model_for(WORKOUT), "scheduled_start", (change.before or {}).get("scheduled_start")
            )
            dates.add(workout_day(start))
        state.gate = MedicalGate(player_ids=player_ids, dates=dates)
        state.may_override = is_medic_or_staff(user=ctx.user, team=ctx.team)

    def workout_now(self, workout_id: int, ctx: Context) -> PlannedWorkout | None:
        """The workout as the gate should judge it at this point of the chunk (restores included)."""
        state = ctx.state_as(RevertState)
        planned = state.planned.get(workout_id)
        obj = state.objects.get((WORKOUT, workout_id))
        if planned is None or obj is None:
            return planned
        return PlannedWorkout(
            planned.exercises,
            workout_day(obj.scheduled_start),
            obj.intensity,
            planned.name,
            archived=obj.archived_at is not None,
        )

    def gate(
        self,
        item: BatchItem,
        change: BatchChange,
        ctx: Context,
        workout_id: int,
        player_ids: list[int],
        *,
        force: bool,
    ) -> tuple[dict[int, PlayerVerdict], tuple[int, list[PlayerVerdict]] | None]:
        """Judge the players on the workout as it is now (`workout_now`); raise CONFLICT /
        MEDICAL_RESTRICTION for a block nobody may override."""
        workout = self.workout_now(workout_id, ctx)
        state = ctx.state_as(RevertState)
        gate = state.gate
        if gate is None or workout is None or workout.archived or not player_ids:
            return {}, None
        verdicts = gate.judge(workout, player_ids)
        refused = [v for v in verdicts.values() if v.verdict == BLOCKED]
        if not refused:
            return verdicts, None
        if force and state.may_override:
            names = ", ".join(v.player_name for v in refused)
            ctx.warn(
                item,
                f"{names} blocked medically on {workout.name or f'workout {workout_id}'}; put back anyway "
                "(forced by medical staff, audited)",
                code=ErrorCode.MEDICAL,
            )
            return verdicts, (workout_id, refused)
        error = medical_error(refused, status=BatchItem.Status.CONFLICT)
        error.details.update(
            {
                "changeId": change.pk,
                "model": change.model,
                "objectId": change.object_id,
                "action": change.action,
                "conflict": "MEDICAL",
                "workoutId": workout_id,
            }
        )
        error.suggested_action = (
            ("Force does not override a medical block: " if force else "")
            + "leave it undone, or ask a medic or staff member to undo again with force (audited). "
            + error.suggested_action
        )
        raise error

    # --- check: decide, on the in-memory image ------------------------------------------------------

    def gate_restore(
        self, undo: Undo, obj: models.Model, ctx: Context, names: list[str]
    ) -> tuple[int, list[PlayerVerdict]] | None:
        """Re-check a restored workout's players, or a restored assignment's player, as of now."""
        item, change, force = undo.item, undo.change, undo.force
        if undo.key[0] == WORKOUT and GATED_WORKOUT_FIELDS & set(change.before or {}):
            roster = sorted(ctx.state_as(RevertState).roster.get(obj.pk, ()))
            _, override = self.gate(item, change, ctx, obj.pk, roster, force=force)
            return override
        if undo.key[0] == ASSIGNMENT and change.action == A.UPDATED:
            verdicts, override = self.gate(item, change, ctx, obj.workout_id, [obj.player_id], force=force)
            self.apply_verdict(obj, verdicts.get(obj.player_id), names)
            return override
        return None

    def apply_verdict(self, obj: models.Model, verdict: PlayerVerdict | None, names: list[str]) -> None:
        """Put today's cap and substitutions on an assignment going back (the old ones may be stale)."""
        if verdict is None or verdict.verdict not in (MODIFIED, BLOCKED):
            return
        load, fields = assignment_medical_fields(verdict, obj.load_percent)
        for attname, value in {"load_percent": load, **fields}.items():
            setattr(obj, attname, value)
            if attname not in names:
                names.append(attname)
