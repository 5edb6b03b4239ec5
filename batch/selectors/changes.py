"""What a change does to a workout's fields, before → after: planned (the dry run) or logged (results).

Both read as the force-undo preview does (`field_label`, `show_value`), and the three pages render
them with one template, `batch/_diff.html`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from batch.exchange.data import UPDATABLE
from batch.models import BatchChange, OperationType
from batch.selectors.force_undo import field_label, show_value
from batch.selectors.names import WORKOUT_MODEL
from workouts.models import Facility, Workout

FieldChange = tuple[str, Any, Any]  # (field, before, after), as people read them
_SKIP = {"version", "updated_at"}


def _facilities(ids: Iterable[Any]) -> dict[int, str]:
    wanted = {i for i in ids if isinstance(i, int)}
    return dict(Facility.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}


def _shown(attname: str, value: Any, facilities: dict[int, str]) -> Any:
    if attname == "facility_id" and value is not None:
        return facilities.get(value, value)
    return show_value(value)


def planned_changes(*, team_id: int, operations: Iterable[Any]) -> dict[str, tuple[FieldChange, ...]]:
    """Return, per UPDATE operation (by id), each field it changes: the workout's value now and the
    value after the run. Two queries whatever the number of operations (workouts, facility names)."""
    updates = {
        op.id: op.data
        for op in operations
        if op.type == OperationType.UPDATE and isinstance(op.data.get("workoutId"), int)
    }
    if not updates:
        return {}
    attnames = {key: Workout._meta.get_field(name).attname for key, name in UPDATABLE.items()}
    wanted = {a for data in updates.values() for k in data.get("updates", {}) if (a := attnames.get(k))}
    rows = {
        row["pk"]: row
        for row in Workout.objects.filter(
            team_id=team_id, pk__in={d["workoutId"] for d in updates.values()}
        ).values("pk", *wanted)
    }
    facilities = _facilities(
        [r.get("facility_id") for r in rows.values()]
        + [d.get("updates", {}).get("facilityId") for d in updates.values()]
    )
    out: dict[str, tuple[FieldChange, ...]] = {}
    for op_id, data in updates.items():
        row = rows.get(data["workoutId"])
        if row is None:
            continue
        fields = []
        for key, value in data.get("updates", {}).items():
            attname = attnames.get(key)
            if attname is None:
                continue
            before = _shown(attname, row.get(attname), facilities)
            after = _shown(attname, value, facilities)
            if str(before) != str(after):
                fields.append((field_label(attname), before, after))
        out[op_id] = tuple(fields)
    return out


def logged_changes(*, item_ids: Iterable[int]) -> dict[int, tuple[FieldChange, ...]]:
    """Return, per item, the workout fields its logged updates changed, before → after (one query, plus
    one for facility names when a facility changed)."""
    changes = list(
        BatchChange.objects.filter(
            item_id__in=list(item_ids), model=WORKOUT_MODEL, action=BatchChange.Action.UPDATED
        )
        .order_by("pk")
        .values_list("item_id", "before", "after")
    )
    facilities = _facilities(
        v
        for _, before, after in changes
        for v in ((before or {}).get("facility_id"), (after or {}).get("facility_id"))
    )
    out: dict[int, list[FieldChange]] = {}
    for item_id, before, after in changes:
        before, after = before or {}, after or {}
        fields = out.setdefault(item_id, [])
        for attname in dict.fromkeys([*before, *after]):
            if attname in _SKIP:
                continue
            old, new = (
                _shown(attname, before.get(attname), facilities),
                _shown(attname, after.get(attname), facilities),
            )
            if str(old) != str(new):
                fields.append((field_label(attname), old, new))
    return {k: tuple(v) for k, v in out.items()}
