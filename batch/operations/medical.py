"""The batch side of the medical gate (medical/gate.py): one gate per chunk, a block as an item error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context
from batch.operations.calendar import remove_assignments, update_assignments
from batch.operations.state import WorkoutState
from medical.compliance import BLOCKED, ExerciseSpec, PlayerVerdict
from medical.gate import MedicalGate, PlannedWorkout, block_of, blocked
from workouts.rules import assignment_medical_fields

PLAYERS_LEFT_OUT = "PLAYERS_LEFT_OUT"
REFIT_FIELDS = ("load_percent", "medical_verdict", "modifications")


def load_gate(*, player_ids: Iterable[int], dates: Iterable[dt.date]) -> MedicalGate | None:
    """Build the chunk's medical gate once (one query for all players and dates); None without players."""
    players = set(player_ids)
    return MedicalGate(player_ids=players, dates=set(dates)) if players else None


def medical_error(verdicts: Sequence[PlayerVerdict], **overrides: Any) -> ItemError:
    """MEDICAL_RESTRICTION for blocked players, naming safe alternatives."""
    block = block_of(verdicts)
    return ItemError(
        code=ErrorCode.MEDICAL,
        message=block.message,
        details=block.details,
        recoverable=False,
        suggested_action=block.suggested_action,
        **overrides,
    )


def gate_players(
    item: BatchItem,
    ctx: Context,
    *,
    player_ids: Sequence[int],
    exercises: Sequence[ExerciseSpec],
    on_date: dt.date,
    intensity: int | None,
    name: str = "",
    days: Sequence[dt.date] = (),
) -> dict[int, PlayerVerdict]:
    """Return each player's verdict. Blocked players with the check on: MEDICAL_RESTRICTION when the item
    says blockedPlayers "fail", else a warning naming them (callers leave `left_out` players out)."""
    gate = ctx.state_as(WorkoutState).gate
    if gate is None or not player_ids:
        return {}
    verdicts = gate.judge(PlannedWorkout(tuple(exercises), on_date, intensity), player_ids)
    if ctx.dry_run:  # the dry run shows every verdict; a run keeps only what it writes
        for verdict in verdicts.values():
            ctx.note(item, "medical", verdict.as_dict())
    refused = blocked(verdicts.values())
    if refused and ctx.medical_check_for(item):
        if not ctx.leaves_blocked_out(item):
            raise medical_error(refused)
        warn_left_out(item, ctx, refused, days=days or [on_date], name=name)
    return verdicts


def left_out(item: BatchItem, ctx: Context, verdicts: dict[int, PlayerVerdict]) -> set[int]:
    """Return the players this item leaves out: blocked, with the check on (else it would have failed)."""
    if not ctx.medical_check_for(item):
        return set()
    return {pid for pid, verdict in verdicts.items() if verdict.verdict == BLOCKED}


def warn_left_out(
    item: BatchItem, ctx: Context, refused: Sequence[PlayerVerdict], *, days: Sequence[dt.date], name: str
) -> None:
    """Name each player left out and why; the dry run says what will happen, the run what did."""
    count = len(refused)
    who = "player" if count == 1 else "players"
    verb = "will be left out" if ctx.dry_run else "left out"
    where = f" of {name}" if name else ""
    block = block_of(refused)
    ctx.note(
        item,
        "warnings",
        {
            "code": PLAYERS_LEFT_OUT,
            "message": f"{count} {who} {verb}{where} on {', '.join(d.isoformat() for d in days)} (medical): "
            + block.message,
            "suggestedAction": block.suggested_action,
            "players": [{"playerId": v.player_id, "playerName": v.player_name} for v in refused],
            "dates": [d.isoformat() for d in days],
        },
    )
    ctx.state_as(WorkoutState).left_out.setdefault(item.op_id, {}).update(
        {v.player_id: v.player_name for v in refused}
    )


def left_out_result(item: BatchItem, ctx: Context) -> list[dict[str, Any]]:
    """The players an item left out, for its result: [{playerId, playerName}]."""
    names = ctx.state_as(WorkoutState).left_out.get(item.op_id, {})
    return [{"playerId": pid, "playerName": name} for pid, name in names.items()]


def refit(item: BatchItem, ctx: Context, workout: Any, verdicts: dict[int, PlayerVerdict]) -> None:
    """Plan today's cap and substitutions for the players a move or an intensity change keeps on a
    workout (their recorded verdict was for the old day or intensity); `write_take_offs` writes them."""
    state = ctx.state_as(WorkoutState)
    planned = state.refits.setdefault(item.op_id, [])
    for assignment in state.parts.assignments.get(workout.pk, []):
        verdict = verdicts.get(assignment.player_id)
        if verdict is None or verdict.verdict == BLOCKED:
            continue
        load, fields = assignment_medical_fields(verdict, assignment.load_percent)
        values = {"load_percent": load, **fields}
        if any(getattr(assignment, name) != value for name, value in values.items()):
            planned.append((assignment, values))


def take_off(item: BatchItem, ctx: Context, workout: Any, player_ids: set[int]) -> None:
    """Plan to take players off a workout this item moves onto a day they are blocked (or intensifies).

    The chunk's copies of the workout's assignments and loads forget them at once, so later items
    and the calendar see the workout without them; `write_take_offs` deletes and logs them.
    """
    if not player_ids:
        return
    state = ctx.state_as(WorkoutState)
    rows = state.parts.assignments.get(workout.pk, [])
    gone = [a for a in rows if a.player_id in player_ids]
    rows[:] = [a for a in rows if a.player_id not in player_ids]
    loads = state.loads.get(workout.pk)
    if loads is not None:
        for pid in player_ids:
            loads.pop(pid, None)
    state.take_offs.setdefault(item.op_id, []).extend(gone)


def settle(item: BatchItem, ctx: Context, workout: Any, verdicts: dict[int, PlayerVerdict]) -> None:
    """Plan what the verdicts mean for the players a workout keeps: those left out come off it
    (`take_off`), the others get the verdict's cap and substitutions (`refit`)."""
    take_off(item, ctx, workout, left_out(item, ctx, verdicts))
    refit(item, ctx, workout, verdicts)


def regate(
    item: BatchItem, ctx: Context, workout: Any, *, on_date: dt.date, intensity: int | None
) -> dict[int, PlayerVerdict]:
    """Judge a workout's players again (it moves, intensifies or comes back from the archive) and
    `settle` them; blockedPlayers "fail" fails the item instead. Return the verdicts."""
    parts = ctx.state_as(WorkoutState).parts
    verdicts = gate_players(
        item,
        ctx,
        player_ids=[a.player_id for a in parts.assignments.get(workout.pk, [])],
        exercises=parts.specs.get(workout.pk, []),
        on_date=on_date,
        intensity=intensity,
        name=workout.name,
    )
    settle(item, ctx, workout, verdicts)
    return verdicts


def write_take_offs(items: Sequence[BatchItem], ctx: Context) -> None:
    """Delete the assignments `take_off` planned, logged UNASSIGNED with their rows so undo restores them.

    Call before logging the items' own changes: undo runs newest first, so it moves the workout back
    before it re-creates (and re-judges) these assignments.
    """
    state = ctx.state_as(WorkoutState)
    pairs = [(item, a) for item in items for a in state.take_offs.get(item.op_id, [])]
    if pairs:
        remove_assignments(ctx, pairs)
    refits = state.refits
    update_assignments(
        ctx, [(item, a, values) for item in items for a, values in refits.get(item.op_id, [])], REFIT_FIELDS
    )
