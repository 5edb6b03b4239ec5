"""ASSIGN: put players on a workout (or replace its roster with `removeExisting`), medically gated.

Each listed player goes through the compliance engine for the workout's exercises on its date: a
blocked player fails the item with MEDICAL_RESTRICTION (unless a medic turned the check off, then the
assignment carries the verdict "blocked"); a modified one is assigned with the capped load and the
substitutions recorded on the assignment. A player already on the workout is updated (version + 1).
On a scheduled workout the calendar checks double bookings and daily load limits.

Query cost per chunk: workouts (locked), their assignments, players, their exercises, restrictions
(+ names, + library when something offends), facilities, the calendar's workouts and assignments; the
writes are one INSERT, one UPDATE and one DELETE at most, plus OVERRIDE's two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import (
    Context,
    Executor,
    PendingRef,
    refused,
    register,
)
from batch.operations.calendar import (
    ASSIGNMENT_IMAGE,
    apply_overrides,
    remove_assignments,
    resolve,
    update_assignments,
)
from batch.operations.loading import chunk_workouts, load_parts, workout_of
from batch.operations.medical import gate_players, left_out, left_out_result, load_gate
from batch.operations.state import WorkoutState
from batch.sql import insert_rows
from medical.gate import PlannedWorkout
from workouts.calendar import Calendar, Slot, local_day, workout_day
from workouts.limits import DEFAULT_LOAD_PERCENT
from workouts.models import Assignment, Player, Workout
from workouts.plans import players_listed
from workouts.rules import Refusal, assign_refusal, assignment_medical_fields

UPDATED_FIELDS = ("role", "load_percent", "medical_verdict", "modifications")


@dataclass(slots=True)
class AssignPlan:
    """What an ASSIGN writes on its workout: new rows, (assignment, new values) pairs, removals."""

    workout: Workout
    creates: list[dict[str, Any]]
    updates: list[tuple[Assignment, dict[str, Any]]]
    removals: list[Assignment]


@dataclass(slots=True)
class AssignState(WorkoutState):
    # The workouts' current assignments, by workout and player.
    existing: dict[int, dict[int, Assignment]] = field(default_factory=dict)
    # The players the items name (the team's only).
    players: dict[int, Player] = field(default_factory=dict)
    # Dry run: the workouts earlier CREATEs of the request will make, by op id (`$ref`s).
    planned: dict[str, PlannedWorkout] = field(default_factory=dict)
    calendar: Calendar | None = None
    plans: dict[str, AssignPlan] = field(default_factory=dict)


def pending_refs(items: Sequence[BatchItem]) -> list[PendingRef]:
    return [i.data["workoutId"] for i in items if isinstance(i.data.get("workoutId"), PendingRef)]


@register
class AssignExecutor(Executor):
    type = OperationType.ASSIGN

    def estimate_rows(self, data: dict[str, Any]) -> int:
        return max(1, len(data.get("assignments") or []))

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        workouts = chunk_workouts(items, ctx)
        existing: dict[int, dict[int, Assignment]] = {}
        if workouts:
            for row in Assignment.objects.filter(workout_id__in=workouts).order_by("id"):
                existing.setdefault(row.workout_id, {})[row.player_id] = row
        player_ids = {
            e["playerId"]
            for i in items
            for e in i.data.get("assignments") or []
            if isinstance(e.get("playerId"), int)
        }
        players = Player.objects.filter(team=ctx.team, pk__in=player_ids).in_bulk() if player_ids else {}
        # Dry run: workouts an earlier CREATE of the request will make are judged from its plan.
        planned = {
            ref.op_id: ctx.planned[ref.op_id] for ref in pending_refs(items) if ref.op_id in ctx.planned
        }
        gate = load_gate(
            player_ids=player_ids,
            dates={workout_day(w.scheduled_start, now=ctx.now) for w in workouts.values()}
            | {p.on_date for p in planned.values()},
        )
        days = {local_day(w.scheduled_start) for w in workouts.values() if w.scheduled_start}
        ctx.state = AssignState(
            workouts=workouts,
            parts=load_parts(workouts, with_assignments=False),
            gate=gate,
            existing=existing,
            players=players,
            planned=planned,
            calendar=Calendar.load(team=ctx.team, days=days, players=players),
        )

    def check(self, item: BatchItem, ctx: Context) -> None:
        data = item.data
        state = ctx.state_as(AssignState)
        entries = players_listed(data.get("assignments") or (), state.players)
        if isinstance(entries, Refusal):
            raise refused(entries, field_name=entries.field)
        seen = {player.pk for player, _ in entries}
        workout = workout_of(item, ctx, state.workouts)
        if workout is None:
            planned = state.planned.get(getattr(data["workoutId"], "op_id", None))
            if planned is not None:
                gate_players(
                    item,
                    ctx,
                    player_ids=[p.pk for p, _ in entries],
                    exercises=planned.exercises,
                    on_date=planned.on_date,
                    intensity=planned.intensity,
                    name=planned.name,
                )
            return
        refusal = assign_refusal(workout)
        if refusal is not None:
            raise refused(refusal, field_name="data.workoutId", workoutId=workout.pk)
        verdicts = gate_players(
            item,
            ctx,
            player_ids=[p.pk for p, _ in entries],
            exercises=state.parts.specs.get(workout.pk, []),
            on_date=workout_day(workout.scheduled_start, now=ctx.now),
            intensity=workout.intensity,
            name=workout.name,
        )
        # blockedPlayers "exclude": a blocked player is neither added nor changed (one already on the
        # workout stays as it is, and removeExisting does not take them off either).
        out = left_out(item, ctx, verdicts)
        entries = [(player, entry) for player, entry in entries if player.pk not in out]
        existing = state.existing.get(workout.pk, {})
        creates, updates, removals = [], [], []
        loads: dict[int, int] = {}
        for player, entry in entries:
            load, medical = assignment_medical_fields(
                verdicts.get(player.pk), entry.get("loadPercent", DEFAULT_LOAD_PERCENT)
            )
            values = {"role": entry.get("role", Assignment.Role.PARTICIPANT), "load_percent": load, **medical}
            loads[player.pk] = load
            if player.pk in existing:
                updates.append((existing[player.pk], values))
            else:  # a plain row (batch.sql.insert_rows): cheaper than a model instance per player
                creates.append({"workout_id": workout.pk, "player_id": player.pk, **values})
        if data.get("removeExisting"):
            removals = [a for pid, a in existing.items() if pid not in seen]
        calendar = state.calendar
        assert calendar is not None  # prepare always loads it
        booking = calendar.booking_of(workout.pk)
        if booking is not None and loads:
            for assignment in removals:
                booking.loads.pop(assignment.player_id, None)
            slot = Slot(
                start=booking.start,
                end=booking.end,
                facility_id=booking.facility_id,
                loads=loads,
                key=booking.key,
                workout_id=workout.pk,
                check_facility=False,
            )
            resolve(item, ctx, calendar, slot, movable=False)
            booking.loads.update(loads)
        state.plans[item.op_id] = AssignPlan(workout, creates, updates, removals)

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        apply_overrides(items, ctx)
        creates: list[tuple[BatchItem, dict[str, Any]]] = []
        updates: list[tuple[BatchItem, Assignment, dict[str, Any]]] = []
        removals: list[tuple[BatchItem, Assignment]] = []
        results: dict[str, dict[str, Any]] = {}
        plans = ctx.state_as(AssignState).plans
        for item in items:
            plan = plans[item.op_id]
            workout, new, changed, removed = plan.workout, plan.creates, plan.updates, plan.removals
            creates.extend((item, a) for a in new)
            removals.extend((item, a) for a in removed)
            updates.extend((item, assignment, values) for assignment, values in changed)
            results[item.op_id] = {
                "id": workout.pk,
                "workoutId": workout.pk,
                "assigned": [row["player_id"] for row in new],
                "updated": [a.player_id for a, _ in changed],
                "removed": [a.player_id for a in removed],
                "medical": {str(row["player_id"]): row["medical_verdict"] for row in new}
                | {str(a.player_id): v["medical_verdict"] for a, v in changed},
                "leftOut": left_out_result(item, ctx),
            }
        update_assignments(ctx, updates, UPDATED_FIELDS)
        if removals:
            remove_assignments(ctx, removals)
        if creates:
            insert_rows(Assignment, [row for _, row in creates])
            for item, row in creates:
                ctx.log_inserted(
                    item,
                    model=Assignment,
                    row=row,
                    image=ASSIGNMENT_IMAGE,
                    action=BatchChange.Action.ASSIGNED,
                )
        return results
