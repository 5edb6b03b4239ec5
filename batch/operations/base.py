"""What every operation executor shares: the chunk context, data checks and the change log.

An executor works a whole chunk at once: `prepare` loads what the chunk needs in a constant number of
queries, `check` decides per item with no queries (raising ItemError), and `apply` writes all items
that passed in bulk. The same prepare/check run in the dry run, so validation and execution agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChange, BatchItem


@dataclass(frozen=True)
class PendingRef:
    """Stands in the dry run for the id a dependency will produce."""

    op_id: str


@dataclass
class Context:
    team: Any
    user: Any
    options: dict[str, Any]
    dry_run: bool
    batch: Batch | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    changes: list[BatchChange] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    # Per dry run: warnings and medical verdicts gathered per op id, shown to the user.
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _compliance: Any = None

    @property
    def medical_check(self) -> bool:
        return bool(self.options.get("medical_compliance_check", True))

    def strategy_for(self, item: BatchItem) -> str:
        return item.conflict_resolution or self.options.get("conflict_resolution", "SKIP")

    def note(self, item: BatchItem, key: str, value: Any) -> None:
        self.notes.setdefault(item.op_id, {}).setdefault(key, []).append(value)

    def warn(self, item: BatchItem, message: str, code: str = "WARNING") -> None:
        self.note(item, "warnings", {"code": code, "message": message})

    def log_change(
        self,
        item: BatchItem,
        *,
        obj: models.Model,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        undoable: bool = True,
        object_id: int | None = None,
    ) -> None:
        """Queue a change-log row; the runner writes them in the chunk's transaction."""
        if self.dry_run:
            return
        self.changes.append(
            BatchChange(
                batch=self.batch,
                item=item,
                model=obj._meta.label_lower,
                object_id=object_id if object_id is not None else obj.pk,
                action=action,
                before=before,
                after=after,
                version_after=getattr(obj, "version", None),
                undoable=undoable,
            )
        )

    def settle_versions(self, model: type[models.Model], versions: dict[int, int]) -> None:
        """Make each object's latest queued change record the version its row really has after the write
        (the database's version trigger has the last word; see workouts/migrations/0002)."""
        label = model._meta.label_lower
        pending = dict(versions)
        for change in reversed(self.changes):
            if not pending:
                break
            if change.model == label and change.object_id in pending:
                change.version_after = pending.pop(change.object_id)


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return a JSON-safe image of the named fields (foreign keys by id, as `<name>_id`)."""
    image: dict[str, Any] = {}
    for name in fields:
        model_field = obj._meta.get_field(name)
        attname = model_field.attname
        image[attname] = jsonable(getattr(obj, attname))
    return image


# --- data checks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """One field of an operation's data: its kind and limits."""

    kind: str  # str, int, bool, datetime, date, time, id, ids, list, dict
    required: bool = False
    choices: Sequence[str] | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    item: F | None = None  # for list
    fields: dict[str, F] | None = None  # for dict


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$ref"} or isinstance(value, PendingRef)


def check_fields(data: Any, spec: dict[str, F], prefix: str = "data") -> list[tuple[str, str]]:
    """Return (field path, message) for every way `data` breaks `spec`; unknown keys included."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return [(prefix, "must be an object")]
    for key in data:
        if key not in spec:
            problems.append((f"{prefix}.{key}", f"unknown field; allowed: {', '.join(spec)}"))
    for key, rule in spec.items():
        path = f"{prefix}.{key}"
        if key not in data or data[key] is None:
            if rule.required:
                problems.append((path, "is required"))
            continue
        problems.extend(_check_value(data[key], rule, path))
    return problems


def _check_value(value: Any, rule: F, path: str) -> list[tuple[str, str]]:
    kind = rule.kind
    if kind == "str":
        if not isinstance(value, str):
            return [(path, "must be a string")]
        if rule.required and not value.strip():
            return [(path, "must not be empty")]
        if rule.max_length and len(value) > rule.max_length:
            return [(path, f"must be at most {rule.max_length} characters")]
        if rule.choices and value not in rule.choices:
            return [(path, f"must be one of {', '.join(rule.choices)}")]
    elif kind in ("int", "id"):
        if kind == "id" and _is_ref(value):
            return []
        if not isinstance(value, int) or isinstance(value, bool):
            return [(path, "must be an integer" if kind == "int" else "must be an id (integer) or a $ref")]
        low = 1 if kind == "id" and rule.min is None else rule.min
        if low is not None and value < low:
            return [(path, f"must be >= {low}")]
        if rule.max is not None and value > rule.max:
            return [(path, f"must be <= {rule.max}")]
    elif kind == "ids":
        if not isinstance(value, list) or not value:
            return [(path, "must be a non-empty list of ids")]
        out: list[tuple[str, str]] = []
        for i, v in enumerate(value):
            out.extend(_check_value(v, F("id"), f"{path}[{i}]"))
        return out
    elif kind == "bool":
        if not isinstance(value, bool):
            return [(path, "must be true or false")]
    elif kind == "datetime":
        if not isinstance(value, str) or parse_dt(value) is None:
            return [(path, "must be an ISO 8601 date-time, e.g. 2026-12-01T09:00:00+01:00")]
    elif kind == "date":
        if not isinstance(value, str) or parse_date_safe(value) is None:
            return [(path, "must be an ISO date, e.g. 2026-12-01")]
    elif kind == "list":
        if not isinstance(value, list):
            return [(path, "must be a list")]
        if rule.max is not None and len(value) > rule.max:
            return [(path, f"must have at most {rule.max} entries")]
        out = []
        for i, v in enumerate(value):
            if rule.item is not None:
                out.extend(_check_value(v, rule.item, f"{path}[{i}]"))
        return out
    elif kind == "dict":
        if rule.fields is not None:
            return check_fields(value, rule.fields, path)
        if not isinstance(value, dict):
            return [(path, "must be an object")]
    return []


def parse_dt(value: str) -> dt.datetime | None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        day = parse_date_safe(value)
        if day is None:
            return None
        parsed = dt.datetime.combine(day, dt.time(0, 0))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_date_safe(value: str) -> dt.date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def not_found(what: str, ident: Any, *, field_name: str) -> ItemError:
    return ItemError(
        code=ErrorCode.NOT_FOUND,
        message=f"{what} {ident} does not exist in this team",
        details={"field": field_name, "id": ident},
        suggested_action=f"Check the {what.lower()} id, or pick one from your team's list.",
    )


def invalid(
    message: str, *, field_name: str, suggestion: str = "Correct the value and run again."
) -> ItemError:
    return ItemError(
        code=ErrorCode.VALIDATION, message=message, details={"field": field_name}, suggested_action=suggestion
    )


class Executor:
    """Base for an operation type. Subclasses set `type`, `fields` and implement the three steps."""

    type: ClassVar[str]
    fields: ClassVar[dict[str, F]] = {}
    # Rows written per operation, for the estimate.
    rows_per_op: ClassVar[int] = 1
    undoable: ClassVar[bool] = True

    def validate_data(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        return check_fields(data, self.fields)

    def estimate_rows(self, data: dict[str, Any]) -> int:
        return self.rows_per_op

    def is_undoable(self, data: dict[str, Any]) -> bool:
        return self.undoable

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        """Load everything the chunk needs, in a constant number of queries."""

    def check(self, item: BatchItem, ctx: Context) -> None:
        """Raise ItemError if the item cannot be applied; no queries (use what prepare loaded)."""

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        """Write the items (all passed check); return each item's result by op_id."""
        raise NotImplementedError


REGISTRY: dict[str, Executor] = {}


def register(executor_class: type[Executor]) -> type[Executor]:
    REGISTRY[executor_class.type] = executor_class()
    return executor_class


def executor_for(op_type: str) -> Executor:
    return REGISTRY[op_type]
