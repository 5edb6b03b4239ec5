"""Running a chunk's items: dependencies first, then each type's group in bulk, item by item on failure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations.base import Context
from batch.request import resolve_refs
from batch.runner.failures import error_reference, internal_error, is_transient

log = logging.getLogger("batch")


@dataclass
class Outcome:
    status: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] | None = None


def resolve_dependencies(items: list[BatchItem], outcomes: dict[int, Outcome]) -> list[BatchItem]:
    """Skip items whose dependencies did not succeed; fill $refs of the rest. One query."""
    dep_ids = {d for item in items for d in item.depends_on}
    deps = {}
    if dep_ids:
        deps = {d.pk: d for d in BatchItem.objects.filter(pk__in=dep_ids).only("op_id", "status", "result")}
    ready = []
    for item in items:
        failed = [deps[d] for d in item.depends_on if deps[d].status != BatchItem.Status.SUCCEEDED]
        if failed:
            first = failed[0]
            outcomes[item.pk] = Outcome(
                status=BatchItem.Status.SKIPPED,
                error=ItemError(
                    code=ErrorCode.DEPENDENCY_FAILED,
                    message=f"dependency {first.op_id!r} ended {first.status}",
                    details={"dependencies": {d.op_id: d.status for d in failed}},
                    recoverable=True,
                    suggested_action=f"Fix {first.op_id!r} first, then retry the failed items.",
                ).as_dict(),
            )
            continue
        if item.depends_on:
            results = {deps[d].op_id: (deps[d].result or {}).get("id") for d in item.depends_on}
            item.data = resolve_refs(item.data, results)
        ready.append(item)
    return ready


def run_group(executor: Any, group: list[BatchItem], ctx: Context, outcomes: dict[int, Outcome]) -> None:
    """prepare → check each → apply the passing ones in bulk, in one savepoint.

    If that fails for any reason but a transient database fault (a refused row, or a bug that raises),
    the group falls back to one savepoint per item, so one bad item spares its neighbours.
    """
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            ctx.state = None
            executor.prepare(group, ctx)
            passing = [item for item in group if check_item(executor, item, ctx, outcomes)]
            results = executor.apply(passing, ctx) if passing else {}
    except Exception as exc:
        if isinstance(exc, DatabaseError) and is_transient(exc):
            raise
        log.info(
            "bulk run of %s %s items failed (%s: %s); falling back to one savepoint each",
            len(group),
            executor.type,
            type(exc).__name__,
            exc,
        )
        del ctx.changes[mark:]
        for item in group:
            outcomes.pop(item.pk, None)
            ctx.notes.pop(item.op_id, None)
        for item in group:
            apply_one(executor, item, ctx, outcomes)
        return
    for item in passing:
        outcomes[item.pk] = Outcome(status=BatchItem.Status.SUCCEEDED, result=results.get(item.op_id))


def check_item(executor: Any, item: BatchItem, ctx: Context, outcomes: dict[int, Outcome]) -> bool:
    try:
        executor.check(item, ctx)
    except ItemError as error:
        outcomes[item.pk] = Outcome(status=error.status, error=error.as_dict())
        return False
    return True


def apply_one(executor: Any, item: BatchItem, ctx: Context, outcomes: dict[int, Outcome]) -> None:
    """Re-run one item from scratch in its own savepoint; whatever it raises ends only this item."""
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            ctx.state = None
            executor.prepare([item], ctx)
            executor.check(item, ctx)
            result = executor.apply([item], ctx)
    except ItemError as error:
        del ctx.changes[mark:]
        outcomes[item.pk] = Outcome(status=error.status, error=error.as_dict())
    except DatabaseError as exc:
        if is_transient(exc):
            raise
        del ctx.changes[mark:]
        outcomes[item.pk] = Outcome(
            status=BatchItem.Status.FAILED,
            error=ItemError(
                code=ErrorCode.VALIDATION if isinstance(exc, IntegrityError) else ErrorCode.INTERNAL,
                message=f"the database refused the change: {str(exc).splitlines()[0]}",
                suggested_action="Check the operation's data against the current state of the workout.",
            ).as_dict(),
        )
    except Exception as exc:  # noqa: BLE001 - an executor bug fails this item, not the runner
        del ctx.changes[mark:]
        ref = error_reference()
        log.exception(
            "batch %s item %s (%s): internal error [ref %s]",
            getattr(ctx.batch, "pk", None),
            item.op_id,
            executor.type,
            ref,
        )
        outcomes[item.pk] = Outcome(status=BatchItem.Status.FAILED, error=internal_error(exc, ref))
    else:
        outcomes[item.pk] = Outcome(status=BatchItem.Status.SUCCEEDED, result=result.get(item.op_id))
