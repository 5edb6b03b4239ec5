"""Writes on batches: submit, cancel, notices seen. The runner (batch/runner/) does the work itself."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from batch.actions import check_may_act
from batch.errors import ErrorCode, IdempotencyConflict, InvalidRequest, RequestProblem
from batch.models import Batch, BatchPlan
from batch.plans import PLAN_USED, plan_check, without_invalid
from batch.quotas import QuotaExceeded, quota_check, quota_refusal_record
from batch.request_file import RequestBody, payload_digest
from batch.runner import batch_finalize
from batch.store import create_batch
from batch.validation import batch_validate
from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent


def payload_hash(raw: Any) -> str:
    """Return the SHA-256 of a request's canonical JSON (key order and spacing do not matter)."""
    return payload_digest(raw)


def existing_for_request(*, user: Any, request_id: str, raw: Any = None, team: Any = None) -> Batch | None:
    """Return the user's batch for this idempotency key, or None.

    Raises IdempotencyConflict when `raw` is given and differs from the payload the key was first used
    with (Stripe's rule: a key names one request), and when `team` is given and the key was used in
    another team (a token of one team must never be answered another team's batch).
    """
    if not request_id:
        return None
    batch = Batch.objects.filter(created_by=user, request_id=request_id).first()
    if batch is not None and team is not None and batch.team_id != team.pk:
        raise IdempotencyConflict(batch=None, request_id=request_id)
    if (
        batch is not None
        and raw is not None
        and batch.payload_hash
        and batch.payload_hash != payload_hash(raw)
    ):
        raise IdempotencyConflict(batch=batch, request_id=request_id)
    return batch


def batch_submit(
    *,
    user: Any,
    team: Any,
    raw: Any,
    source: str = "web",
    channel: str = "web",
    warnings_acknowledged: bool = True,
    plan_id: Any = None,
    valid_only: bool = False,
) -> Batch:
    """Validate and store a batch with all its items, then enqueue its runners on commit.

    Raises InvalidRequest, or QuotaExceeded (audited) when a quota (batch/quotas.py) refuses it. A
    repeated metadata.requestId from the same user with the same payload returns the first batch
    (with `replayed` set to True), quotas or not; with a different payload it raises
    IdempotencyConflict naming the first batch. Call it outside a transaction: a refusal's audit row
    must survive.
    The web form passes whether the user ticked "I have read the warnings": the warnings are those of
    this validation, so a client cannot skip the acknowledgement by claiming there were none.

    With `plan_id` (the modal after Validate, an API client passing `?plan=`), the run is pinned to
    that dry run (`batch/plans.py`): `raw` must be the validated request, and it is refused, naming
    them, when a target workout changed since. With `valid_only` too, the operations the dry run
    found errors in (and those depending on them) are left out and named in `metadata.leftOut`.
    """
    if isinstance(raw, RequestBody) and plan_id:
        raw = raw.value()  # a pinned run compares and trims the request as a whole
    top = raw.envelope if isinstance(raw, RequestBody) else raw
    metadata = top.get("metadata") if isinstance(top, dict) else None
    request_id = metadata.get("requestId", "") if isinstance(metadata, dict) else ""
    if isinstance(request_id, str) and (
        existing := existing_for_request(user=user, request_id=request_id, raw=raw, team=team)
    ):
        existing.replayed = True
        return existing
    plan, left_out = None, []
    if plan_id:
        plan = plan_check(user=user, team=team, plan_id=plan_id, raw=raw)
        if valid_only:
            raw, left_out = without_invalid(raw, plan.invalid)
            if not raw["operations"]:
                raise InvalidRequest([RequestProblem("no operation of the dry run is valid: nothing to run")])
    try:
        return _submit(
            user=user,
            team=team,
            raw=raw,
            source=source,
            channel=channel,
            warnings_acknowledged=warnings_acknowledged,
            plan=plan,
            left_out=left_out,
        )
    except QuotaExceeded as exc:
        quota_refusal_record(exc=exc, user=user, team=team, channel=channel)
        raise


def _submit(
    *,
    user: Any,
    team: Any,
    raw: Any,
    source: str,
    channel: str,
    warnings_acknowledged: bool,
    plan: BatchPlan | None = None,
    left_out: list[str] | None = None,
) -> Batch:
    operations = raw.get("operations") if isinstance(raw, dict) else None
    count = (
        len(raw) if isinstance(raw, RequestBody) else len(operations) if isinstance(operations, list) else 0
    )
    # Cheap and lock-free: a request over quota is refused before it pays for a dry run. One over
    # BATCH_MAX_OPERATIONS is invalid whatever the quotas say: validation refuses it (exit 2, not 4).
    if count <= settings.BATCH_MAX_OPERATIONS:
        quota_check(user=user, team=team, operations=count)
    report = batch_validate(user=user, team=team, raw=raw)
    if report.problems:
        raise InvalidRequest(report.problems)
    request = report.request
    if request.options["validate_before_execute"] and report.item_errors:
        raise InvalidRequest(
            [
                RequestProblem(
                    error["message"],
                    code=error["code"],
                    operation_id=item.op_id,
                    field=error.get("details", {}).get("field"),
                )
                for item in report.items.values()
                for error in item.errors
            ]
        )
    if report.warnings and not warnings_acknowledged:
        raise InvalidRequest(
            [
                RequestProblem(
                    f"the dry run has {report.warnings} warning{'s' if report.warnings != 1 else ''}: "
                    "acknowledge them to run anyway",
                    code=ErrorCode.WARNINGS_NOT_ACKNOWLEDGED,
                )
            ]
        )
    if plan is not None and not BatchPlan.objects.filter(
        pk=plan.pk, batch__isnull=True, expires_at=plan.expires_at
    ).update(expires_at=timezone.now()):
        # Claimed (expired at once) by a concurrent run of the same plan.
        raise InvalidRequest([RequestProblem("this dry run was already run: validate again", code=PLAN_USED)])
    try:
        batch = create_batch(
            user=user,
            team=team,
            request=request,
            source=source,
            channel=channel,
            estimate_=report.estimate,
            payload_hash_=payload_hash(raw),
        )
    except Exception as exc:
        if plan is not None:  # nothing ran: the dry run still holds
            BatchPlan.objects.filter(pk=plan.pk).update(expires_at=plan.expires_at)
        if not isinstance(exc, IntegrityError):
            raise
        # Another submit with the same requestId won the race.
        existing = existing_for_request(user=user, request_id=request.request_id, raw=raw, team=team)
        if existing is None:
            raise
        existing.replayed = True
        return existing
    if plan is not None:
        BatchPlan.objects.filter(pk=plan.pk).update(batch=batch)
    if left_out:
        # "Run the N valid ones": the batch says which operations of the dry run it left out.
        batch.metadata = {**batch.metadata, "leftOut": left_out}
        Batch.objects.filter(pk=batch.pk).update(metadata=batch.metadata)
    batch.replayed = False
    return batch


def batch_cancel(*, batch_id: int, user: Any, channel: str = "web") -> Batch:
    """Ask a batch to stop: no new chunk starts; remaining items end CANCELLED.

    Only the batch's owner or a staff user may cancel it (user None is the operator at a command line);
    others get BatchActionDenied. Chunks already committed stay committed (undo exists for them).
    Cancelling a finished batch is a no-op.
    """
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        check_may_act(user, batch, "cancel")
        # A rollback in progress is itself the way out; cancelling it would leave half a batch behind.
        if batch.is_final or batch.status in (Batch.Status.CANCELLING, Batch.Status.ROLLING_BACK):
            return batch
        batch.status = Batch.Status.CANCELLING
        batch.cancel_requested_at = timezone.now()
        batch.cancelled_by = user if getattr(user, "is_authenticated", False) else None
        batch.save(update_fields=["status", "cancel_requested_at", "cancelled_by"])
        audit_record(
            actor=user, action=AuditEvent.Action.BATCH_CANCELLED, obj=batch, team=batch.team, channel=channel
        )
    # Cancel what no runner holds right now; a runner mid-chunk finishes it and finalizes.
    batch_finalize(batch_id=batch_id)
    batch.refresh_from_db()
    return batch


def batch_notices_seen(*, user: Any, batch_ids: list[int]) -> int:
    """Mark the user's own end-of-batch notices seen (one UPDATE); others' batches are left alone."""
    return Batch.objects.filter(pk__in=batch_ids, created_by=user, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )


__all__ = ["ErrorCode", "QuotaExceeded", "batch_cancel", "batch_notices_seen", "batch_submit"]
