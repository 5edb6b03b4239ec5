"""Running a chunk's items: dependencies first, then each type's group in bulk, item by item on failure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from batch.errors import ErrorCode, ItemError
from batch.models import BatchItem
from batch.operations import executor_for
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


class Rewind(Exception):
    """Raised inside a savepoint to roll back a bulk run that had a failure (stopOnError)."""


def run_until_failure(items: list[BatchItem], ctx: Context, outcomes: dict[int, Outcome]) -> None:
    """Run the items (in item order) so that nothing after the first failing item commits.

    The fast path is the usual bulk run per type, in one savepoint; only when an item failed is that
    savepoint rolled back and the items run again one by one, each in its own savepoint, up to the
    first failure. The items after it end SKIPPED / STOPPED_ON_ERROR without having been applied.
    """
    mark = len(ctx.changes)
    try:
        with transaction.atomic():
            by_type: dict[str, list[BatchItem]] = {}
            for item in items:
                by_type.setdefault(item.type, []).append(item)
            for op_type, group in by_type.items():
                run_group(executor_for(op_type), group, ctx, outcomes)
            if any(outcomes[item.pk].status == BatchItem.Status.FAILED for item in items):
                raise Rewind
        return
    except Rewind:
        pass
    del ctx.changes[mark:]
    for item in items:
        outcomes.pop(item.pk, None)
        ctx.notes.pop(item.op_id, None)
    for index, item in enumerate(items):
        apply_one(executor_for(item.type), item, ctx, outcomes)
        if outcomes[item.pk].status == BatchItem.Status.FAILED:
            error = stopped_after(item, ctx.options)
            for rest in items[index + 1 :]:
                outcomes[rest.pk] = Outcome(status=BatchItem.Status.SKIPPED, error=error)
            return


def stopped_after(failed: BatchItem, options: dict[str, Any]) -> dict[str, Any]:
    """The error of an item that did not run because `failed`, before it, failed under a stop option."""
    option = "rollbackOnError" if options.get("rollback_on_error") else "stopOnError"
    return ItemError(
        code=ErrorCode.STOPPED_ON_ERROR,
        message=f"not run: operation {failed.op_id!r} failed before it and {option} is on",
        details={"failedOperation": failed.op_id},
        recoverable=True,
        suggested_action=f"Fix {failed.op_id!r} and retry it, then resume the batch to run the rest.",
    ).as_dict()


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
