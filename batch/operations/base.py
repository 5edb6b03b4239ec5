"""What every operation executor shares: the chunk context, data checks and the change log.

An executor works a whole chunk at once: `prepare` loads what the chunk needs in a constant number of
queries, `check` decides per item with no queries (raising ItemError), and `apply` writes all items
that passed in bulk. The same prepare/check run in the dry run, so validation and execution agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.utils import timezone

from batch.errors import ErrorCode, ItemError

# Date parsing is the exchange format's (one definition); executors import it from here.
from batch.exchange import parse_date_safe as parse_date_safe
from batch.exchange import parse_dt as parse_dt
from batch.models import Batch, BatchChange, BatchItem
from batch.sql import values_update_versions
from workouts.limits import UPDATABLE_FIELDS
from workouts.rules import NOT_FOUND, Refusal, unknown

# The change log's image of a new workout (CREATE, DUPLICATE, a series' copies): what UPDATE may change.
NEW_WORKOUT_IMAGE = UPDATABLE_FIELDS


@dataclass(frozen=True)
class PendingRef:
    """Stands in the dry run for the id a dependency will produce."""

    op_id: str


@dataclass(slots=True)
class ChangeRow:
    """A change-log row queued in the chunk (a BatchChange as the runner will COPY it): a plain record,
    because a model instance per change (foreign-key descriptors and all) was a large part of a
    chunk's Python time."""

    batch_id: int | None
    item_id: int
    model: str
    object_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    version_after: int | None
    undoable: bool


@dataclass(slots=True)
class ExecutorState:
    """What an executor's `prepare` loads for one group of a chunk, and what its `check` decides.

    Each executor declares its own subclass (a slots dataclass of typed fields) and sets it as
    `ctx.state`; the runner resets `ctx.state` before every prepare, so nothing leaks between groups.
    """


S = TypeVar("S", bound=ExecutorState)


@dataclass
class Context:
    team: Any
    user: Any
    options: dict[str, Any]
    dry_run: bool
    batch: Batch | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    changes: list[ChangeRow] = field(default_factory=list)
    # The current group's state: set by the executor's `prepare`, reset (None) by the runner.
    state: ExecutorState | None = None
    # Items whose OVERRIDE found a workout changed since the calendar read it (op id -> details): kept
    # across groups, so the one-item re-run after the bulk fails exactly those (calendar.apply_overrides).
    stale: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per dry run: warnings and medical verdicts gathered per op id, shown to the user.
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per dry run, shared by its slices: the workouts earlier operations will create, by op id, as the
    # medical gate sees them (medical.gate.PlannedWorkout), so a later `$ref` to one is judged too.
    planned: dict[str, Any] = field(default_factory=dict)
    # The op ids a later operation depends on: the only plans a `$ref` can read (None: keep every plan).
    plan_for: frozenset[str] | None = None
    _compliance: Any = None

    def keeps_plan(self, op_id: str) -> bool:
        """Whether a dry run keeps what this operation plans in `planned`."""
        return self.dry_run and (self.plan_for is None or op_id in self.plan_for)

    def state_as(self, kind: type[S]) -> S:
        """Return the group's state, which `prepare` set as a `kind`."""
        state = self.state
        if not isinstance(state, kind):
            raise TypeError(
                f"the chunk's state is {type(state).__name__}, not {kind.__name__}: prepare first"
            )
        return state

    @property
    def medical_check(self) -> bool:
        return bool(self.options.get("medical_compliance_check", True))

    def medical_check_for(self, item: BatchItem) -> bool:
        """The operation's own checkMedicalCompliance when given, else the batch option."""
        own = item.data.get("checkMedicalCompliance") if isinstance(item.data, dict) else None
        return self.medical_check if own is None else bool(own)

    def leaves_blocked_out(self, item: BatchItem) -> bool:
        """Whether players the medical gate blocks are left out (else the whole item fails): the
        operation's own blockedPlayers when given, else the batch option (default "exclude")."""
        own = item.data.get("blockedPlayers") if isinstance(item.data, dict) else None
        return (own or self.options.get("blocked_players") or "exclude") == "exclude"

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
        self._queue(
            item,
            model=obj._meta.label_lower,
            object_id=object_id if object_id is not None else obj.pk,
            action=action,
            before=before,
            after=after,
            version_after=getattr(obj, "version", None),
            undoable=undoable,
        )

    def log_inserted(
        self,
        item: BatchItem,
        *,
        model: type[models.Model],
        row: dict[str, Any],
        image: Sequence[str],
        action: str,
    ) -> None:
        """Queue the change of a row inserted as a plain dict (batch.sql.insert_rows): as `log_change`
        with `after` the row's image of those fields."""
        self._queue(
            item,
            model=model._meta.label_lower,
            object_id=row["id"],
            action=action,
            before=None,
            after=row_image(model, row, image),
            version_after=row.get("version"),
            undoable=True,
        )

    def _queue(self, item: BatchItem, **change: Any) -> None:
        if self.dry_run:
            return
        self.changes.append(
            ChangeRow(batch_id=self.batch.pk if self.batch is not None else None, item_id=item.pk, **change)
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


def change_fields(
    ctx: Context, item: BatchItem, obj: models.Model, values: dict[str, Any], fields: Sequence[str]
) -> None:
    """Set `values` (by attname) on the object, bump its version and queue the change UPDATED with the
    named fields' before and after; `write_rows` writes it."""
    before = snapshot(obj, fields)
    for attname, value in values.items():
        setattr(obj, attname, value)
    obj.version += 1
    ctx.log_change(
        item, obj=obj, action=BatchChange.Action.UPDATED, before=before, after=snapshot(obj, fields)
    )


def write_rows(
    ctx: Context, model: type[models.Model], objs: Iterable[models.Model], fields: Sequence[str]
) -> None:
    """Write the objects' fields, version and `updated_at` (now) in one UPDATE, each object once; the
    queued changes take the versions the rows really have after it."""
    columns = (*fields, "version", "updated_at")
    names = attnames(model, columns)
    rows = []
    for obj in objs:
        obj.updated_at = ctx.now
        rows.append({"pk": obj.pk, **{c: getattr(obj, a) for c, a in zip(columns, names, strict=True)}})
    if rows:
        ctx.settle_versions(model, values_update_versions(model, rows, list(columns)))


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
    for attname in attnames(type(obj), tuple(fields)):
        value = getattr(obj, attname)
        image[attname] = value if value is None or type(value) in PLAIN else jsonable(value)
    return image


def row_image(model: type[models.Model], row: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """`snapshot` of a row held as a dict {attname: value}."""
    image: dict[str, Any] = {}
    for attname in attnames(model, tuple(fields)):
        value = row[attname]
        image[attname] = value if value is None or type(value) in PLAIN else jsonable(value)
    return image


PLAIN = frozenset({int, str, bool, float})


@cache
def attnames(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(model._meta.get_field(name).attname for name in fields)


def not_found(what: str, ident: Any, *, field_name: str) -> ItemError:
    return refused(unknown(what, ident), field_name=field_name)


def invalid(
    message: str, *, field_name: str, suggestion: str = "Correct the value and run again."
) -> ItemError:
    return ItemError(
        code=ErrorCode.VALIDATION, message=message, details={"field": field_name}, suggested_action=suggestion
    )


def refused(refusal: Refusal, *, field_name: str, **details: Any) -> ItemError:
    """Turn a rulebook refusal (`workouts.rules`) into the item's error: NOT_FOUND (the id in
    `details.id`) for a row the team does not have, else VALIDATION with `details.rule` naming the
    rule, as every path that asks it does."""
    if refusal.code == NOT_FOUND:
        return ItemError(
            code=ErrorCode.NOT_FOUND,
            message=refusal.message,
            details={"field": field_name, "id": refusal.ident},
            suggested_action=refusal.suggestion,
        )
    if refusal.code:
        details["rule"] = refusal.code
    return ItemError(
        code=ErrorCode.VALIDATION,
        message=refusal.message,
        details={"field": field_name, **details},
        suggested_action=refusal.suggestion,
    )


class Executor:
    """Base for an operation type. Subclasses set `type` and implement the three steps.

    The type's data (fields, limits, single-operation rules) is declared in batch.exchange.DATA_MODELS
    and checked when the request is parsed; executors read the normalised camelCase dict.
    """

    type: ClassVar[str]
    # Rows written per operation, for the estimate.
    rows_per_op: ClassVar[int] = 1
    undoable: ClassVar[bool] = True

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
