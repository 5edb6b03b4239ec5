"""Retry failed: a new batch (kind "retry", retry_of=original) of the items that failed.
Retry skipped: the same, of the items skipped where running again can go differently
(`batch.actions.RETRYABLE_SKIP`: clashes, busy time, medical skips; not a version conflict).

Items skipped because an item they depend on failed come too; items that never ran because the batch
was cancelled or stopped are what `batch/resume.py` runs. Dependencies among retried items are kept; a
`$ref` to an item that succeeded is replaced by its result id.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from batch.actions import (
    FAILED_HERE,
    RETRYABLE_SKIP,
    RetryNotAllowed,
    check_may_act,
    locked_batch,
    retry_refusal,
    retry_skipped_refusal,
)
from batch.followup import follow_up_operations, record_quota_refusal, start_follow_up
from batch.models import Batch
from batch.quotas import QuotaExceeded
from hockeyhub.models import AuditEvent


def batch_retry_failed(*, batch_id: int, user: Any, channel: str = "web") -> Batch:
    """Start a new batch of the original's failed items (same data, fresh attempt); return it.

    An item depending on one that is neither retried nor succeeded is left out. A retry still running
    for the batch is returned instead of a second one. Raises RetryNotAllowed, BatchActionDenied,
    and QuotaExceeded (audited): it is new work and counts against quotas.
    """
    return _retry(batch_id=batch_id, user=user, channel=channel, what="failed")


def batch_retry_skipped(*, batch_id: int, user: Any, channel: str = "web") -> Batch:
    """Start a new batch of the original's retryable skipped items (same data, fresh attempt).

    Same rules as batch_retry_failed (owner, quotas, a running retry is returned); refused with
    RetryNotAllowed when no skipped item could go differently.
    """
    return _retry(batch_id=batch_id, user=user, channel=channel, what="skipped")


# What each retry runs again, and the rule that may refuse it.
_RETRIES = {"failed": (FAILED_HERE, retry_refusal), "skipped": (RETRYABLE_SKIP, retry_skipped_refusal)}


def _retry(*, batch_id: int, user: Any, channel: str, what: str) -> Batch:
    items, refusal = _RETRIES[what]
    try:
        with transaction.atomic(durable=True):
            original = locked_batch(batch_id, "retry")
            check_may_act(user, original, "retry", member=True)
            running = original.retries.filter(status__in=Batch.ACTIVE_STATUSES).order_by("-pk").first()
            if running is not None:
                return running
            refused = refusal(original)
            if refused is not None:
                raise refused
            operations, left_out = follow_up_operations(original, items, retry=True)
            if not operations:
                raise RetryNotAllowed(f"Batch {original.pk} has no {what} items to retry.")
            return start_follow_up(
                original,
                user=user,
                channel=channel,
                kind=Batch.Kind.RETRY,
                operations=operations,
                left_out=left_out,
                description=f"Retry of {what} items of batch {original.pk}",
                audit_action=AuditEvent.Action.BATCH_RETRIED,
                purpose=f"retry {what} items",
            )
    except QuotaExceeded as exc:
        record_quota_refusal(exc, batch_id=batch_id, user=user, channel=channel, kind=Batch.Kind.RETRY)
        raise
