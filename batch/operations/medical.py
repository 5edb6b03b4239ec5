"""Medical gating shared by every operation that puts players on a workout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context


def compliance_engine(ctx: Context, *, player_ids: Iterable[int], dates: Iterable[dt.date]) -> Any:
    """Build the chunk's compliance engine once (one query for all players and dates)."""
    from medical.compliance import ComplianceEngine

    engine = ComplianceEngine(player_ids=set(player_ids), dates=set(dates))
    ctx.cache["compliance"] = engine
    return engine


def gate_players(
    item: BatchItem,
    ctx: Context,
    *,
    player_ids: Sequence[int],
    exercises: Sequence[Any],
    on_date: dt.date,
    intensity: int | None,
) -> dict[int, Any]:
    """Return each player's verdict; raise MEDICAL_RESTRICTION if any is blocked and the check is on."""
    engine = ctx.cache.get("compliance")
    if engine is None or not player_ids:
        return {}
    verdicts = {
        pid: engine.check(player_id=pid, exercises=exercises, on_date=on_date, workout_intensity=intensity)
        for pid in player_ids
    }
    for verdict in verdicts.values():
        ctx.note(item, "medical", verdict.as_dict())
    blocked = [v for v in verdicts.values() if v.verdict == "blocked"]
    if blocked and ctx.medical_check_for(item):
        alternatives = []
        for verdict in blocked:
            exercise_names = {f.exercise_id: f.exercise_name for f in verdict.findings if f.exercise_id}
            for exercise_id, alts in verdict.alternatives.items():
                names = ", ".join(a.name for a in alts) or "none in the same category"
                exercise = exercise_names.get(exercise_id, f"exercise {exercise_id}")
                alternatives.append(f"{verdict.player_name}: replace {exercise} with {names}")
        raise ItemError(
            code=ErrorCode.MEDICAL,
            message="; ".join(v.summary() for v in blocked),
            details={"blocked": [v.as_dict() for v in blocked]},
            recoverable=False,
            suggested_action=(
                "Use safe alternatives — " + "; ".join(alternatives)
                if alternatives
                else "Leave these players out, or ask medical staff to review the restriction."
            ),
        )
    return verdicts
