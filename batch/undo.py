"""Undo and rollback-on-error: compensating batches built from the change log.

An undo is a batch (kind "undo", undo_of=original) of REVERT items, one per logged change, newest
change first, run by the same engine one chunk at a time in order. Rollback-on-error is an undo the
engine starts itself when a batch with rollbackOnError ends with a failure. Whatever ran is undoable
however the batch ended: completed, with errors, cancelled or stopped (`batch.actions.undo_refusal`).

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

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from batch.actions import (
    BatchActionDenied,
    UndoNotAllowed,
    UndoWindowClosed,
    acting_user,
    check_may_act,
    locked_batch,
    may_act,
    undo_refusal,
    unreverted_changes,
)
from batch.models import Batch, BatchChange, BatchItem, OperationType
from batch.request import BatchRequest, Operation, default_options
from batch.selectors import force_undo_preview
from batch.store import create_batch
from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from medical.roles import is_medic_or_staff


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
    BatchActionDenied (the reasons are `batch.actions.undo_refusal`'s).
    """
    with transaction.atomic(durable=True):
        original = locked_batch(batch_id, "undo")
        check_may_act(user, original, "undo", force=force)
        latest = original.undos.order_by("-pk").first()
        refused = undo_refusal(original, force=force)
        if refused is not None:
            # Asked again: the undo already started is the answer (a forced one still needs the window).
            if latest is not None and not (force and isinstance(refused, UndoWindowClosed)):
                return latest
            raise refused
        remainder = unreverted_changes(latest) if latest is not None else None
        if remainder:
            check_force_medical(user, original)
        # Not owner or staff, so the team's medic (check_may_act let them through): only a medical force.
        if (
            force
            and not may_act(user, original)
            and (not remainder or not force_undo_preview(batch=original).medical)
        ):
            raise BatchActionDenied(
                f"Only the batch's owner or a staff user may force the undo of batch {original.pk}; "
                "the team's medic may force only an undo the medical gate refused."
            )
        undo = start_undo(original, user=user, force=force, channel=channel, change_ids=remainder)
        if undo is None:
            raise UndoNotAllowed(f"Batch {original.pk} changed nothing that can be undone.")
        return undo


def check_force_medical(user: Any, original: Batch) -> None:
    """A forced undo that puts restricted players back on workouts needs a medic or staff member."""
    actor = acting_user(user)
    if actor is None or is_medic_or_staff(user=actor, team=original.team):
        return
    if force_undo_preview(batch=original).medical:
        raise BatchActionDenied(
            f"Forcing the undo of batch {original.pk} puts players with medical restrictions back on "
            "workouts: a medic or staff member has to do it."
        )


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

    Called by the runner's finish hook inside the finalizing transaction, the batch row locked.
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
