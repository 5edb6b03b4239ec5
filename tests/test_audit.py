# ruff: noqa: F811  (the batch fixtures are imported, then requested by name)
"""Every batch action leaves an audit row in its own transaction: who, when, what, how, why."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from batch.models import Batch
from batch.retry import batch_retry_failed
from batch.services import batch_cancel
from batch.undo import batch_undo
from hockeyhub.models import AuditEvent
from tests.batch.conftest import run_batches, submit  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
A = AuditEvent.Action


def create_op(op_id: str) -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": f"W {op_id}", "type": "STRENGTH"}}}


def bad_op(op_id: str) -> dict:
    return {"id": op_id, "type": "UPDATE", "data": {"workoutId": 999_999, "updates": {"notes": "x"}}}


def events(batch: Batch, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="batch.batch", object_id=str(batch.pk)))


def test_submit_undo_and_retry_are_audited_with_actor_channel_and_details(
    submit, run_batches, trainer, staff, team
):
    batch = submit([create_op("a"), bad_op("b")], validateBeforeExecute=False)
    run_batches()
    [submitted] = events(batch, A.BATCH_SUBMITTED)
    assert submitted.actor == trainer and submitted.created_at is not None

    retry = batch_retry_failed(batch_id=batch.pk, user=trainer, channel="web")
    [retried] = events(batch, A.BATCH_RETRIED)
    assert (retried.actor, retried.channel, retried.team) == (trainer, "web", team)
    assert retried.details["retryBatchId"] == retry.pk and retried.purpose
    run_batches()

    undo = batch_undo(batch_id=batch.pk, user=staff, channel="admin")
    [undone] = events(batch, A.BATCH_UNDONE)
    assert (undone.actor, undone.actor_username, undone.channel) == (staff, "dana", "admin")
    assert undone.details["undoBatchId"] == undo.pk and undone.purpose == "undo"
    assert events(undo, A.BATCH_SUBMITTED)  # the undo batch is a submitted batch too
    batch_undo(batch_id=batch.pk, user=staff)  # a repeat returns the same undo: no new row
    assert len(events(batch, A.BATCH_UNDONE)) == 1


def test_rollback_is_audited(submit, run_batches, trainer):
    batch = submit(
        [create_op("a"), bad_op("b")], rollbackOnError=True, validateBeforeExecute=False, chunkSize=1
    )
    run_batches()
    [rolled] = events(batch, A.BATCH_ROLLED_BACK)
    assert rolled.channel == "worker" and rolled.actor == trainer
    assert "b failed (NOT_FOUND)" in rolled.purpose


def test_cancel_and_command_undo_are_audited(submit, run_batches, trainer):
    queued = submit([create_op("a")])
    batch_cancel(batch_id=queued.pk, user=trainer)
    assert events(queued, A.BATCH_CANCELLED)[0].actor == trainer
    done = submit([create_op("b")])
    run_batches()
    batch_undo(batch_id=done.pk, user=None, channel="command")
    [undone] = events(done, A.BATCH_UNDONE)
    assert undone.actor is None and undone.channel == "command"


def test_audit_rows_are_not_written_when_the_action_is_refused(submit, run_batches, other_trainer):
    batch = submit([create_op("a")])
    run_batches()
    with pytest.raises(PermissionDenied):
        batch_undo(batch_id=batch.pk, user=other_trainer)
    assert not events(batch, A.BATCH_UNDONE)
