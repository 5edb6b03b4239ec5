"""What one revert does (`Step`), decided in check and written in apply, and the CONFLICT it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem
from batch.operations.base import jsonable
from medical.compliance import PlayerVerdict

Key = tuple[str, int]  # (model label, object id): one object an undo touches


@dataclass(slots=True)
class Undo:
    """What one REVERT item undoes: the logged change, the object it touched (its key, and its image in
    the chunk, None when gone) and whether the item forces it."""

    item: BatchItem
    change: BatchChange
    key: Key
    obj: models.Model | None
    force: bool


def to_python(model: type[models.Model], attname: str, value: Any) -> Any:
    """A change-log image value back as the field's Python value."""
    if value is None:
        return None
    return model._meta.get_field(attname).to_python(value)


@dataclass
class Step:
    """What one revert does, decided in check and written in apply."""

    kind: str  # "delete", "insert", "update"
    key: Key
    change: BatchChange
    obj: models.Model
    version: int | None
    fields: list[str] = field(default_factory=list)
    forced: bool = False
    # Blocked players a medic or staff member put back anyway (audited in apply): (workout id, verdicts).
    medical_override: tuple[int, list[PlayerVerdict]] | None = None


def has_version(model: type[models.Model]) -> bool:
    return any(f.name == "version" for f in model._meta.concrete_fields)


def differing(obj: models.Model, image: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Return {attname: {expected, current}} for every field of `image` the object no longer has."""
    out = {}
    model = type(obj)
    for attname, expected in (image or {}).items():
        current = getattr(obj, attname, None)
        if to_python(model, attname, expected) != current:
            out[attname] = {"expected": expected, "current": jsonable(current)}
    return out


def conflict(
    change: BatchChange, message: str, *, expected: int | None, current: int | None, **details: Any
) -> ItemError:
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=message,
        details={
            "changeId": change.pk,
            "model": change.model,
            "objectId": change.object_id,
            "action": change.action,
            "expectedVersion": expected,
            "currentVersion": current,
            "conflict": "VERSION",
            **details,
        },
        recoverable=True,
        suggested_action="Review the object's current state; undo again with force to overwrite it.",
        status=BatchItem.Status.CONFLICT,
    )
