"""Undo, rollback-on-error, retry-failed and purge: one mechanism built on the change log.

An undo is a batch (kind "undo", undo_of=original) of REVERT items, one per logged change, newest
change first, run by the same engine one chunk at a time in order. Rollback-on-error is an undo the
engine starts itself when a batch with rollbackOnError ends with a failure. Retry-failed is a new
batch (kind "retry", retry_of=original) of the items that failed or never ran because of a failure.

Decisions:
- The original becomes UNDONE when its undo ends with every revertible change reverted. If some
  changes ended CONFLICT (the object was edited since) or FAILED, the original keeps its status and
  `error["undo"]` records the partial undo; `batch_undo(..., force=True)` then starts a new undo of just
  those changes, overwriting the edits. Permanent deletes are reported as SKIPPED items with code
  NOT_UNDOABLE and do not block UNDONE.
- A rolled-back batch ends ROLLED_BACK whatever its undo found; conflicts are recorded in
  `error["rollback"]`.
- Undo bumps the version of what it restores (so stale editors see the change) and re-created
  assignments keep their old id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchChunk, BatchItem, OperationType
from batch.quotas import QuotaExceeded, quota_refusal_record
from batch.request import BatchRequest, Operation, default_options
from batch.services import create_batch
from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from workouts.selectors import role_in_team

PURGE_SLICE = 100


class BatchActionRefused(Exception):
    """A batch action (undo, retry) cannot be done; `message` says why, for the user."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UndoNotAllowed(BatchActionRefused):
    """The batch cannot be undone (still running, an undo itself, nothing undoable…)."""


class UndoWindowClosed(UndoNotAllowed):
    """The undo deadline has passed or the change log was purged."""

    def __init__(self, message: str, *, deadline: dt.datetime | None) -> None:
        self.deadline = deadline
        super().__init__(message)


class RetryNotAllowed(BatchActionRefused):
    """The batch has nothing to retry, or is of a kind that is not retried."""


class BatchActionDenied(BatchActionRefused, PermissionDenied):
    """Only the batch's owner or a staff user may undo or retry it."""


# --- helpers ---------------------------------------------------------------------------------------


def acting_user(user: Any) -> Any:
    """Return the user when authenticated, else None (a management command or the engine itself)."""
    return user if getattr(user, "is_authenticated", False) else None


def check_may_act(user: Any, batch: Batch, verb: str) -> None:
    """Owner or staff; None (command line, engine) acts as the operator."""
    actor = acting_user(user)
    if user is None or (actor is not None and (actor.is_staff or actor.pk == batch.created_by_id)):
        return
    raise BatchActionDenied(f"Only the batch's owner or a staff user may {verb} batch {batch.pk}.")


def locked_batch(batch_id: int, verb: str) -> Batch:
    try:
        return Batch.objects.select_for_update(of=("self",)).select_related("team").get(pk=batch_id)
    except Batch.DoesNotExist:
        raise BatchActionRefused(f"There is no batch {batch_id} to {verb}.") from None


def fmt(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M %Z")


def undo_options(original: Batch) -> dict[str, Any]:
    """Sequential (one runner, chunks in order), never stopping or rolling back itself."""
    options = default_options()
    options.update(
        parallel=False,
        max_concurrency=1,
        chunk_size=original.options.get("chunk_size", options["chunk_size"]),
        retry_attempts=original.options.get("retry_attempts", options["retry_attempts"]),
        notify_on_complete=original.options.get("notify_on_complete", True),
        validate_before_execute=False,
    )
    return options


# --- undo ------------------------------------------------------------------------------------------


def batch_undo(*, batch_id: int, user: Any, force: bool = False, channel: str = "web") -> Batch:
    """Start undoing a batch within its undo window; return the undo batch.

    A second request returns the existing undo, except with `force` after an undo that left conflicts:
    then a new undo of just those changes overwrites them. Raises UndoNotAllowed, UndoWindowClosed,
    BatchActionDenied.
    """
    with transaction.atomic(durable=True):
        original = locked_batch(batch_id, "undo")
        check_may_act(user, original, "undo")
        if original.kind == Batch.Kind.UNDO:
            raise UndoNotAllowed(
                f"Batch {original.pk} is itself an undo and cannot be undone; "
                "to redo, submit the operations again as a new batch."
            )
        latest = original.undos.order_by("-pk").first()
        remainder: list[int] | None = None
        if latest is not None:
            remainder = unreverted_changes(latest) if force and latest.is_final else []
            if not remainder or original.status in (Batch.Status.UNDONE, Batch.Status.ROLLED_BACK):
                return latest
            check_force_medical(user, original)
        if not original.is_final:
            raise UndoNotAllowed(
                f"Batch {original.pk} is still {original.get_status_display().lower()}; "
                "wait for it to end (or cancel it) before undoing it."
            )
        check_window(original)
        undo = start_undo(original, user=user, force=force, channel=channel, change_ids=remainder)
        if undo is None:
            raise UndoNotAllowed(f"Batch {original.pk} changed nothing that can be undone.")
        return undo


def check_force_medical(user: Any, original: Batch) -> None:
    """A forced undo that puts restricted players back on workouts needs a medic or staff member."""
    from batch.selectors import force_undo_preview
    from batch.validation import MEDICAL_ROLES

    actor = acting_user(user)
    if actor is None or actor.is_staff or role_in_team(user=actor, team=original.team) in MEDICAL_ROLES:
        return
    if force_undo_preview(batch=original).medical:
        raise BatchActionDenied(
            f"Forcing the undo of batch {original.pk} puts players with medical restrictions back on "
            "workouts: a medic or staff member has to do it."
        )


def check_window(original: Batch) -> None:
    deadline = original.undo_deadline
    if original.purged_at is not None:
        raise UndoWindowClosed(
            f"Batch {original.pk} can no longer be undone: its undo window closed"
            + (f" on {fmt(deadline)}" if deadline else "")
            + " and its change log was purged.",
            deadline=deadline,
        )
    if deadline is None or timezone.now() > deadline:
        raise UndoWindowClosed(
            f"Batch {original.pk} can no longer be undone: the undo window closed on "
            f"{fmt(deadline) if deadline else 'its end'} "
            f"({settings.BATCH_UNDO_WINDOW_HOURS} hours after the batch ended).",
            deadline=deadline,
        )


def unreverted_changes(undo: Batch) -> list[int]:
    """Return the change ids an undo left alone (CONFLICT or FAILED), for a forced second pass."""
    rows = BatchItem.objects.filter(
        batch=undo, type=OperationType.REVERT, status__in=[BatchItem.Status.CONFLICT, BatchItem.Status.FAILED]
    ).values_list("data", flat=True)
    return [data["changeId"] for data in rows]


def start_undo(
    original: Batch,
    *,
    user: Any,
    force: bool,
    channel: str,
    change_ids: Iterable[int] | None = None,
    rollback: bool = False,
) -> Batch | None:
    """Create the undo batch from the change log (runners start on commit); None if nothing to undo.

    Call inside a transaction holding the original's row lock. One item per logged change, newest
    first; permanent deletes become items that end SKIPPED (NOT_UNDOABLE), so the results list them.
    """
    changes = BatchChange.objects.filter(batch=original)
    if change_ids is not None:
        changes = changes.filter(pk__in=list(change_ids))
    rows = list(changes.order_by("-pk").values_list("pk", "undoable"))
    undoable = sum(1 for _, ok in rows if ok)
    if not undoable:
        return None
    operations = [
        Operation(
            id=f"revert-{pk}", type=OperationType.REVERT, data={"changeId": pk, "force": force}, seq=seq
        )
        for seq, (pk, _) in enumerate(rows)
    ]
    what = "Rollback" if rollback else "Undo"
    metadata = {
        "description": f"{what} of batch {original.pk}"
        + (f": {original.description}" if original.description else ""),
        "source": "rollback" if rollback else "undo",
        "undoOf": original.pk,
        "force": force,
        "changes": len(rows),
        "notUndoable": len(rows) - undoable,
    }
    owner = acting_user(user) or original.created_by
    undo = create_batch(
        user=owner,
        team=original.team,
        request=BatchRequest(operations, undo_options(original), metadata),
        source=metadata["source"],
        channel=channel,
        kind=Batch.Kind.UNDO,
        undo_of=original,
    )
    audit_record(
        actor=acting_user(user) or (original.created_by if rollback else None),
        action=AuditEvent.Action.BATCH_ROLLED_BACK if rollback else AuditEvent.Action.BATCH_UNDONE,
        obj=original,
        team=original.team,
        channel=channel,
        purpose=(
            f"rollbackOnError: {original.error.get('opId')} failed ({original.error.get('code')})"
            if rollback
            else ("undo, forced" if force else "undo")
        )[:200],
        details={
            "undoBatchId": undo.pk,
            "force": force,
            "changes": len(rows),
            "notUndoable": len(rows) - undoable,
            "partial": change_ids is not None,
        },
    )
    return undo


def batch_rollback_start(batch: Batch) -> None:
    """Roll a batch back through an undo after a failure (rollbackOnError).

    Called by lifecycle.batch_finished inside the finalizing transaction, the batch row locked.
    """
    failing = (
        BatchItem.objects.filter(batch=batch, status=BatchItem.Status.FAILED)
        .order_by("finished_at", "seq")
        .only("op_id", "type", "error")
        .first()
    )
    error = (failing.error or {}) if failing else {}
    batch.error = {
        "reason": "rollbackOnError",
        "opId": failing.op_id if failing else None,
        "type": failing.type if failing else None,
        "code": error.get("code"),
        "message": error.get("message", ""),
    }
    undo = start_undo(batch, user=None, force=False, channel="worker", rollback=True)
    if undo is None:
        # Nothing was committed: the database already is as before the batch.
        batch.status = Batch.Status.ROLLED_BACK
        batch.error["rollback"] = {"batchId": None, "reverted": 0}
        audit_record(
            actor=batch.created_by,
            action=AuditEvent.Action.BATCH_ROLLED_BACK,
            obj=batch,
            team=batch.team,
            channel="worker",
            purpose=f"rollbackOnError: {batch.error['opId']} failed ({batch.error['code']})"[:200],
            details={"undoBatchId": None, "changes": 0},
        )
    else:
        batch.status = Batch.Status.ROLLING_BACK
        batch.error["rollback"] = {"batchId": undo.pk}
    batch.save(update_fields=["status", "error"])


def batch_undo_finished(undo: Batch) -> None:
    """Settle the original when its undo ends (same transaction as the undo's finalize)."""
    original = Batch.objects.select_for_update(of=("self",)).filter(pk=undo.undo_of_id).first()
    if original is None:
        return
    left = undo.conflicted + undo.failed + undo.cancelled
    report = {
        "batchId": undo.pk,
        "status": undo.status,
        "reverted": undo.succeeded,
        "conflicts": undo.conflicted,
        "failed": undo.failed,
        "cancelled": undo.cancelled,
        "notUndoable": undo.skipped,
    }
    if original.status == Batch.Status.ROLLING_BACK:
        original.status = Batch.Status.ROLLED_BACK
        original.error = {**original.error, "rollback": report}
    elif left == 0:
        original.status = Batch.Status.UNDONE
        original.error = {k: v for k, v in original.error.items() if k != "undo"}
    else:
        report["message"] = (
            f"partly undone: {left} change(s) were left as they are "
            "(edited since, failed or cancelled); undo again with force to overwrite them"
        )
        original.error = {**original.error, "undo": report}
    original.save(update_fields=["status", "error"])


# --- retry failed ----------------------------------------------------------------------------------

RETRY_CODES_SKIPPED = {"DEPENDENCY_FAILED", "STOPPED_ON_ERROR"}


def retryable(item_status: str, error: dict[str, Any] | None) -> bool:
    """FAILED items, and those that never ran because of a failure or a cancel."""
    if item_status in (BatchItem.Status.FAILED, BatchItem.Status.CANCELLED):
        return True
    return item_status == BatchItem.Status.SKIPPED and (error or {}).get("code") in RETRY_CODES_SKIPPED


def batch_retry_failed(*, batch_id: int, user: Any, channel: str = "web") -> Batch:
    """Start a new batch of the original's failed items (same data, fresh attempt); return it.

    Items that never ran because of a failure (dependency failed, stopOnError) or a cancel come too.
    Dependencies among retried items are kept; a $ref to an item that succeeded is replaced by its
    result id. An item depending on one that is neither retried nor succeeded is left out. A retry
    still running for the batch is returned instead of a second one. Raises RetryNotAllowed,
    BatchActionDenied, and QuotaExceeded (audited): a retry is new work and counts against quotas.
    """
    try:
        return _retry_failed(batch_id=batch_id, user=user, channel=channel)
    except QuotaExceeded as exc:
        original = Batch.objects.select_related("team", "created_by").get(pk=batch_id)
        quota_refusal_record(
            exc=exc, user=acting_user(user), team=original.team, channel=channel, kind=Batch.Kind.RETRY
        )
        raise


def _retry_failed(*, batch_id: int, user: Any, channel: str) -> Batch:
    with transaction.atomic(durable=True):
        original = locked_batch(batch_id, "retry")
        check_may_act(user, original, "retry")
        actor = acting_user(user)
        if actor is not None and not actor.is_staff and role_in_team(user=actor, team=original.team) is None:
            raise BatchActionDenied(f"You are no longer a member of team {original.team.slug}.")
        if original.kind == Batch.Kind.UNDO:
            raise RetryNotAllowed(
                f"Batch {original.pk} is an undo; undo the original again (with force) instead."
            )
        if not original.is_final:
            raise RetryNotAllowed(f"Batch {original.pk} is still running; retry it when it has ended.")
        if original.status in (Batch.Status.ROLLED_BACK, Batch.Status.UNDONE):
            raise RetryNotAllowed(
                f"Batch {original.pk} was {original.get_status_display().lower()}: its successful work was "
                "reverted too, so submit the whole batch again instead."
            )
        running = original.retries.filter(status__in=Batch.ACTIVE_STATUSES).order_by("-pk").first()
        if running is not None:
            return running
        operations = retry_operations(original)
        if not operations:
            raise RetryNotAllowed(f"Batch {original.pk} has no failed items to retry.")
        metadata = {
            "description": f"Retry of failed items of batch {original.pk}",
            "source": "retry",
            "retryOf": original.pk,
        }
        options = {**default_options(), **original.options}
        retry = create_batch(
            user=actor or original.created_by,
            team=original.team,
            request=BatchRequest(operations, options, metadata),
            source="retry",
            channel=channel,
            kind=Batch.Kind.RETRY,
            retry_of=original,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.BATCH_RETRIED,
            obj=original,
            team=original.team,
            channel=channel,
            purpose="retry failed items",
            details={"retryBatchId": retry.pk, "operations": len(operations)},
        )
        return retry


def retry_operations(original: Batch) -> list[Operation]:
    """Return the operations to retry, with dependencies on succeeded items resolved to their results."""
    items = BatchItem.objects.filter(batch=original).only(
        "op_id", "seq", "type", "data", "priority", "dependencies", "conflict_resolution", "status", "error"
    )
    candidates = {
        item.op_id: item
        for item in items.exclude(status=BatchItem.Status.SUCCEEDED).order_by("seq")
        if retryable(item.status, item.error)
    }
    dep_ids = {d for item in candidates.values() for d in item.dependencies} - set(candidates)
    succeeded = {
        op_id: (result or {}).get("id")
        for op_id, result in BatchItem.objects.filter(
            batch=original, op_id__in=dep_ids, status=BatchItem.Status.SUCCEEDED
        ).values_list("op_id", "result")
    }
    # Drop items whose dependency neither succeeded nor is retried, until nothing changes.
    keep = dict(candidates)
    changed = True
    while changed:
        changed = False
        for op_id, item in list(keep.items()):
            if any(d not in keep and d not in succeeded for d in item.dependencies):
                del keep[op_id]
                changed = True
    operations = []
    for seq, item in enumerate(keep.values()):
        done = {d: succeeded[d] for d in item.dependencies if d not in keep}
        operations.append(
            Operation(
                id=item.op_id,
                type=item.type,
                data=resolve_partial(item.data, done),
                priority=item.priority,
                dependencies=[d for d in item.dependencies if d in keep],
                conflict_resolution=item.conflict_resolution or None,
                seq=seq,
            )
        )
    return operations


def resolve_partial(data: Any, done: dict[str, Any]) -> Any:
    """Replace only the $refs to `done` items; refs to retried items stay for the runner."""
    if isinstance(data, dict):
        if set(data) == {"$ref"}:
            return done.get(data["$ref"], data)
        return {k: resolve_partial(v, done) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_partial(v, done) for v in data]
    return data


# --- purge -----------------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    change_logs: int = 0  # batches whose change log was removed
    changes: int = 0
    batches: int = 0  # finished batches deleted with their chunks and items
    items: int = 0
    dry_run: bool = False


def batch_purge(*, dry_run: bool = False, now: dt.datetime | None = None) -> PurgeReport:
    """Remove change logs past their undo deadline (those batches are no longer undoable), then delete
    finished batches older than BATCH_RESULT_RETENTION_DAYS. Works in slices of PURGE_SLICE batches,
    one transaction each, so memory and lock time stay bounded."""
    now = now or timezone.now()
    report = PurgeReport(dry_run=dry_run)
    expired = (
        Batch.objects.filter(undo_deadline__lt=now, purged_at__isnull=True, status__in=Batch.FINAL_STATUSES)
        .exclude(undos__status__in=Batch.ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    cutoff = now - dt.timedelta(days=settings.BATCH_RESULT_RETENTION_DAYS)
    old = (
        Batch.objects.filter(finished_at__lt=cutoff, status__in=Batch.FINAL_STATUSES)
        .exclude(undos__status__in=Batch.ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if dry_run:
        ids = list(expired)
        report.change_logs = len(ids)
        report.changes = BatchChange.objects.filter(batch_id__in=ids).count()
        old_ids = list(old)
        report.batches = len(old_ids)
        report.items = BatchItem.objects.filter(batch_id__in=old_ids).count()
        return report
    while ids := list(expired[:PURGE_SLICE]):
        with transaction.atomic():
            report.changes += BatchChange.objects.filter(batch_id__in=ids).delete()[0]
            report.change_logs += Batch.objects.filter(pk__in=ids).update(purged_at=now)
    while ids := list(old[:PURGE_SLICE]):
        with transaction.atomic():
            # Raw deletes: the ORM would load every item of a 100,000-item batch to cascade it.
            with connection.cursor() as cursor:
                for model in (BatchChange, BatchItem, BatchChunk):
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE batch_id = ANY(%s)", [ids])
                    if model is BatchItem:
                        report.items += cursor.rowcount
            Batch.objects.filter(pk__in=ids).delete()
            report.batches += len(ids)
    return report
