"""Resume: a new batch (kind "resume", resume_of=original) of what never ran.

A cancelled batch cancels its remaining items; a batch stopped by stopOnError skips them
(STOPPED_ON_ERROR). "Resume the remaining N" runs exactly those, with the original's options, in a
batch linked to it. Dependencies among them are kept; a `$ref` to an item that succeeded is replaced by
its result id. An undone batch may be resumed too, but its results are gone: an item that depends on
one of them is left out (and named in the resume's `metadata.leftOut`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from batch.actions import (
    NEVER_RAN,
    ResumeNotAllowed,
    check_may_act,
    locked_batch,
    resume_refusal,
)
from batch.followup import follow_up_operations, record_quota_refusal, start_follow_up
from batch.models import Batch
from batch.quotas import QuotaExceeded
from hockeyhub.models import AuditEvent


def batch_resume(*, batch_id: int, user: Any, channel: str = "web") -> Batch:
    """Start a batch of the original's items that never ran; return it.

    A second request while the resume exists returns it. Raises ResumeNotAllowed, BatchActionDenied,
    and QuotaExceeded (audited): it is new work and counts against quotas.
    """
    try:
        return _resume(batch_id=batch_id, user=user, channel=channel)
    except QuotaExceeded as exc:
        record_quota_refusal(exc, batch_id=batch_id, user=user, channel=channel, kind=Batch.Kind.RESUME)
        raise


def _resume(*, batch_id: int, user: Any, channel: str) -> Batch:
    with transaction.atomic(durable=True):
        original = locked_batch(batch_id, "resume")
        check_may_act(user, original, "resume", member=True)
        refused = resume_refusal(original)
        if refused is not None:
            resumed = original.resumes.order_by("-pk").first()
            if resumed is not None:
                return resumed
            raise refused
        operations, left_out = follow_up_operations(
            original, NEVER_RAN, keep_results=original.status != Batch.Status.UNDONE
        )
        if not operations:
            raise ResumeNotAllowed(
                f"Batch {original.pk} has nothing left that can run: every remaining item depends on work "
                "that was undone."
            )
        return start_follow_up(
            original,
            user=user,
            channel=channel,
            kind=Batch.Kind.RESUME,
            operations=operations,
            left_out=left_out,
            description=f"Resume of batch {original.pk}"
            + (f": {original.description}" if original.description else ""),
            audit_action=AuditEvent.Action.BATCH_RESUMED,
            purpose="resume the items that never ran",
        )
