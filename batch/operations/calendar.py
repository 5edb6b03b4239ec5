"""Conflict strategies over the team calendar (`workouts/calendar.py`), for the batch executors.

The calendar says what conflicts; this applies the item's strategy (`conflictResolution`, per
operation or per batch), notes what it did for the dry run and the item's warnings, and writes what
OVERRIDE took from other workouts, logged for undo.

Strategies
    SKIP              the item ends SKIPPED, code CONFLICT, the conflicts in `details.conflicts`;
    FAIL              the item fails, code CONFLICT;
                      (busy time from an imported calendar: code BUSY_TIME, the event named first;
                      OVERRIDE never lifts it, ADJUST_TIME and FIND_ALTERNATIVE move around it)
    OVERRIDE          a player's conflicting assignment is removed (logged UNASSIGNED with its full row),
                      a same-team workout holding the facility loses the facility (logged UPDATED; the
                      row is locked at apply and must still be at the version the calendar read, else
                      the item fails with CONFLICT); a load-limit excess is accepted with a warning.
                      What `Calendar.can_override` refuses fails with CONFLICT;
    ADJUST_TIME       the next free slot the same local day within facility hours (later first, then
                      earlier), else CONFLICT. A load-limit excess cannot be fixed the same day;
    FIND_ALTERNATIVE  another facility free at the same time, else the first free day (same time, any
                      facility) within `LOOKAHEAD_DAYS`, else CONFLICT.
    A series (SCHEDULE with recurrence) and DUPLICATE's copies are resolved part by part (`place_part`):
    under SKIP only the part that cannot be placed is dropped, and the item reports each part.
    ADJUST_TIME and FIND_ALTERNATIVE move a workout, so they apply only to operations that place one
    (CREATE, SCHEDULE, DUPLICATE, UPDATE of time or facility); for ASSIGN they end like FAIL, saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem
from batch.operations.base import Context, change_fields, snapshot, write_rows
from batch.operations.state import WorkoutState
from workouts.calendar import (
    BUSY,
    FACILITY,
    LOAD,
    LOOKAHEAD_DAYS,
    PLAYER,
    Booking,
    Calendar,
    Conflict,
    Slot,
    local_day,
)
from workouts.models import Assignment, Workout

MOVING_STRATEGIES = ("ADJUST_TIME", "FIND_ALTERNATIVE")

ASSIGNMENT_IMAGE = (
    "workout",
    "player",
    "role",
    "load_percent",
    "status",
    "medical_verdict",
    "modifications",
    "version",
)


# --- the strategies ------------------------------------------------------------------------------------


def conflict_error(
    item: BatchItem, ctx: Context, conflicts: Sequence[Conflict], *, reason: str = ""
) -> ItemError:
    strategy = ctx.strategy_for(item)
    # Busy time (a game, another system's booking) has a code of its own and is named first.
    conflicts = sorted(conflicts, key=lambda c: c.kind != BUSY)
    first = conflicts[0]
    message = "; ".join(c.message for c in conflicts)
    if reason:
        message = f"{message} ({reason})"
    return ItemError(
        code=ErrorCode.BUSY_TIME if first.kind == BUSY else ErrorCode.CONFLICT,
        message=message,
        details={
            "conflict": first.kind,
            "conflicts": [c.as_dict() for c in conflicts],
            "strategy": strategy,
        },
        recoverable=True,
        suggested_action=(
            "Pick another time or facility, or run with conflictResolution ADJUST_TIME, "
            "FIND_ALTERNATIVE or OVERRIDE."
        ),
        status="SKIPPED" if strategy == "SKIP" else "FAILED",
    )


def resolve(item: BatchItem, ctx: Context, calendar: Calendar, slot: Slot, *, movable: bool) -> Slot:
    """Apply the item's conflict strategy to the slot; book and return where it ends up.

    Raises ItemError (CONFLICT; SKIPPED under SKIP) when the strategy cannot place it. Resolved
    conflicts are noted for the dry run and kept as item warnings when the batch runs.
    """
    conflicts = calendar.conflicts(slot)
    if not conflicts:
        return _book(calendar, slot)
    strategy = ctx.strategy_for(item)
    if strategy in ("SKIP", "FAIL"):
        raise conflict_error(item, ctx, conflicts)
    if strategy in MOVING_STRATEGIES and not movable:
        raise conflict_error(
            item, ctx, conflicts, reason=f"{strategy} cannot move a workout for an assignment"
        )
    if strategy == "OVERRIDE":
        state = ctx.state_as(WorkoutState)
        stuck = [c for c in conflicts if not calendar.can_override(c, changing=state.workouts)]
        if stuck:
            raise conflict_error(item, ctx, stuck, reason="OVERRIDE cannot lift this")
        overrides = state.overrides
        for conflict in conflicts:
            booking = conflict.booking
            if conflict.kind == PLAYER and booking is not None:
                overrides.unassign.append((item, booking.assignments.pop(conflict.player_id)))
                booking.loads.pop(conflict.player_id, None)
                outcome = f"the player is taken off workout {booking.workout_id}"
            elif conflict.kind == FACILITY and booking is not None:
                overrides.clear_facility.append((item, booking, booking.facility_id))
                booking.facility_id = None
                outcome = f"workout {booking.workout_id} gives up the facility"
            else:
                outcome = "accepted above the daily load limit"
            _record(item, ctx, conflict, strategy, outcome)
        return _book(calendar, slot)
    moved = (
        calendar.next_free_same_day(slot)
        if strategy == "ADJUST_TIME" and not any(c.kind == LOAD for c in conflicts)
        else calendar.alternative(slot)
        if strategy == "FIND_ALTERNATIVE"
        else None
    )
    if moved is None:
        reason = (
            "no free slot the same day within the facility's hours"
            if strategy == "ADJUST_TIME"
            else f"no free facility or day within {LOOKAHEAD_DAYS} days"
        )
        raise conflict_error(item, ctx, conflicts, reason=reason)
    outcome = f"moved to {moved.describe(calendar.facilities)}"
    for conflict in conflicts:
        _record(item, ctx, conflict, strategy, outcome)
    return _book(calendar, moved)


def place_part(
    item: BatchItem,
    ctx: Context,
    calendar: Calendar,
    slot: Slot,
    *,
    n: int,
    parts: int,
    created: str = "created",
) -> Slot | None:
    """Place part n of an item's `parts` — an occurrence of a series, a copy — and note what became of it.

    Under SKIP a part that cannot be placed is dropped alone (noted "skipped" with the reason) and None
    is returned; any other strategy that cannot place it raises for the whole item, as `resolve` does.
    The notes (`parts`) are what the dry run shows and what the item's result reports. A lone part is
    the item itself: it is resolved as the item (`resolve`), with no part noted.
    """
    if parts == 1:
        return resolve(item, ctx, calendar, slot, movable=True)
    day = local_day(slot.start).isoformat()
    try:
        placed = resolve(item, ctx, calendar, slot, movable=True)
    except ItemError as error:
        if error.status != BatchItem.Status.SKIPPED:
            raise
        ctx.note(
            item,
            "conflicts",
            {**error.as_dict(), "resolution": ctx.strategy_for(item), "outcome": error.status},
        )
        ctx.note(item, "parts", {"n": n, "date": day, "outcome": "skipped", "reason": error.message})
        return None
    ctx.note(
        item,
        "parts",
        {
            "n": n,
            "date": local_day(placed.start).isoformat(),
            "outcome": created,
            "start": placed.start.isoformat(),
            "facilityId": placed.facility_id,
        },
    )
    return placed


def all_parts_skipped(item: BatchItem, ctx: Context, what: str) -> ItemError:
    """The item's error when every part was skipped: SKIPPED, CONFLICT, each part's reason listed."""
    parts = ctx.notes.get(item.op_id, {}).get("parts", [])
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=f"every {what} conflicts: " + "; ".join(f"{p['date']}: {p['reason']}" for p in parts),
        details={"conflict": "ALL_PARTS", "parts": parts, "strategy": ctx.strategy_for(item)},
        recoverable=True,
        suggested_action="Pick other dates or another facility, or run with another conflict strategy.",
        status=BatchItem.Status.SKIPPED,
    )


def note_skipped_parts(item: BatchItem, ctx: Context, what: str) -> None:
    """Warn, naming each dropped part and why, when some parts of an item were skipped."""
    skipped = [p for p in ctx.notes.get(item.op_id, {}).get("parts", []) if p["outcome"] == "skipped"]
    if skipped:
        ctx.warn(
            item,
            f"{len(skipped)} {what}{'s' if len(skipped) != 1 else ''} skipped: "
            + "; ".join(f"{p['date']}: {p['reason']}" for p in skipped),
            code="PARTS_SKIPPED",
        )


def parts_result(item: BatchItem, ctx: Context, ids: list[int]) -> list[dict[str, Any]]:
    """Return the item's parts with the id of the workout each placed part moved or created, in order."""
    ids = list(ids)
    parts = []
    for part in ctx.notes.get(item.op_id, {}).get("parts", []):
        placed = part["outcome"] != "skipped"
        parts.append({**part, "workoutId": ids.pop(0)} if placed and ids else dict(part))
    return parts


def _record(item: BatchItem, ctx: Context, conflict: Conflict, strategy: str, outcome: str) -> None:
    ctx.note(item, "conflicts", {**conflict.as_dict(), "resolution": strategy, "outcome": outcome})
    if not ctx.dry_run:
        ctx.warn(item, f"{conflict.message} — {strategy}: {outcome}", code=f"CONFLICT_{conflict.kind}")


def _book(calendar: Calendar, slot: Slot) -> Slot:
    if slot.check_facility:
        calendar.book_slot(slot)
    return slot


def stale_override_error(item: BatchItem, ctx: Context, details: dict[str, Any]) -> ItemError:
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=(
            f"workout {details['workoutId']} changed while this batch ran (version "
            f"{details['expectedVersion']} → {details['currentVersion']}); OVERRIDE does not take its "
            "facility over a change it has not seen"
        ),
        details={"conflict": "VERSION", "strategy": ctx.strategy_for(item), **details},
        recoverable=True,
        suggested_action="Retry the failed items to decide again on the workout's current state.",
        status="FAILED",
    )


def lock_overridden(clear: list[tuple[BatchItem, Booking, int]]) -> dict[int, tuple[int, int | None]]:
    """Lock the workouts OVERRIDE takes a facility from; return their version and facility. One query."""
    ids = {booking.workout_id for _, booking, _ in clear}
    rows = (
        Workout.objects.filter(pk__in=ids)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "version", "facility_id")
    )
    return {pk: (version, facility_id) for pk, version, facility_id in rows}


def update_assignments(
    ctx: Context, changes: Sequence[tuple[BatchItem, Assignment, dict[str, Any]]], fields: Sequence[str]
) -> None:
    """Change assignments in one statement, logging each UPDATED with the fields' before and after.

    An assignment changed by two items is written once, in its final state; each change is logged
    with its own version, and the last one with the version the row really has.
    """
    changed: dict[int, Assignment] = {}
    for item, assignment, values in changes:
        change_fields(ctx, item, assignment, values, fields)
        changed[assignment.pk] = assignment
    write_rows(ctx, Assignment, changed.values(), fields)


def remove_assignments(ctx: Context, removals: list[tuple[Any, Assignment]]) -> None:
    """Delete (item, assignment) pairs in one statement, logging each as UNASSIGNED with its full row."""
    for item, assignment in removals:
        ctx.log_change(
            item,
            obj=assignment,
            action=BatchChange.Action.UNASSIGNED,
            before=snapshot(assignment, ASSIGNMENT_IMAGE),
        )
    Assignment.objects.filter(pk__in=[a.pk for _, a in removals]).delete()


def stale_overrides(clear: list[tuple[BatchItem, Booking, int]]) -> dict[str, dict[str, Any]]:
    """Lock the workouts OVERRIDE takes a facility from; return, by op id, those changed since the
    calendar read them (what changed, for the item's CONFLICT). One query."""
    current = lock_overridden(clear)
    stale = {}
    for item, booking, facility_id in clear:
        now = current.get(booking.workout_id)
        if now != (booking.version, facility_id):
            stale[item.op_id] = {
                "workoutId": booking.workout_id,
                "expectedVersion": booking.version,
                "currentVersion": now[0] if now else None,
            }
    return stale


def apply_overrides(items: Sequence[BatchItem], ctx: Context) -> None:
    """Write what OVERRIDE took from other workouts for these items: at most three statements.

    Call first in `apply`, before any write. A workout losing its facility lies outside the chunk's
    locked set: it is locked here and must still be at the version (and facility) the calendar read.
    If not, the items concerned are kept in `ctx.stale` and the first fails with CONFLICT; in a bulk
    apply that abandons the bulk, and in the runner's one-item re-runs each kept item fails alone
    while the others are decided afresh.
    """
    for item in items:
        if item.op_id in ctx.stale:
            raise stale_override_error(item, ctx, ctx.stale[item.op_id])
    overrides = ctx.state_as(WorkoutState).overrides
    wanted = {item.op_id for item in items}
    unassign = [(i, a) for i, a in overrides.unassign if i.op_id in wanted]
    clear = [(i, b, f) for i, b, f in overrides.clear_facility if i.op_id in wanted]
    if clear and (stale := stale_overrides(clear)):
        ctx.stale.update(stale)
        first = next(item for item in items if item.op_id in stale)
        raise stale_override_error(first, ctx, stale[first.op_id])
    if unassign:
        remove_assignments(ctx, unassign)
    if clear:
        cleared: dict[int, Workout] = {}
        for item, booking, facility_id in clear:
            workout = Workout(pk=booking.workout_id, facility_id=None, version=booking.version + 1)
            booking.version += 1
            ctx.log_change(
                item,
                obj=workout,
                action=BatchChange.Action.UPDATED,
                before={"facility_id": facility_id},
                after={"facility_id": None},
            )
            cleared[workout.pk] = workout
        write_rows(ctx, Workout, cleared.values(), ["facility"])
