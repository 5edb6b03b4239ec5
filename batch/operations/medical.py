"""The batch side of the medical gate (medical/gate.py): one gate per chunk, a block as an item error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context
from medical.compliance import ExerciseSpec, PlayerVerdict
from medical.gate import MedicalGate, PlannedWorkout, block_of, blocked


def compliance_engine(ctx: Context, *, player_ids: Iterable[int], dates: Iterable[dt.date]) -> MedicalGate:
    """Build the chunk's medical gate once (one query for all players and dates)."""
    gate = MedicalGate(player_ids=set(player_ids), dates=set(dates))
    ctx.cache["compliance"] = gate
    return gate


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
) -> dict[int, PlayerVerdict]:
    """Return each player's verdict; raise MEDICAL_RESTRICTION if any is blocked and the check is on."""
    gate: MedicalGate | None = ctx.cache.get("compliance")
    if gate is None or not player_ids:
        return {}
    verdicts = gate.judge(PlannedWorkout(tuple(exercises), on_date, intensity), player_ids)
    for verdict in verdicts.values():
        ctx.note(item, "medical", verdict.as_dict())
    refused = blocked(verdicts.values())
    if refused and ctx.medical_check_for(item):
        raise medical_error(refused)
    return verdicts
