"""Writing a batch: the Batch row, its chunks and items, in one transaction; runners start on commit.

Every way a batch comes to be (submit, undo, retry, resume) ends here.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone

from batch.models import Batch, BatchChunk, BatchItem
from batch.planner import chunk_type, plan_chunks
from batch.queueing import enqueue_runners
from batch.quotas import quota_enforce
from batch.request import BatchRequest
from batch.sql import allocate_ids, copy_insert
from batch.validation import estimate, runner_slots, unchecked_operations
from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent

INSERT_SLICE = 5000


def create_batch(
    *,
    user: Any,
    team: Any,
    request: BatchRequest,
    source: str,
    channel: str,
    estimate_: dict[str, Any] | None = None,
    kind: str = Batch.Kind.NORMAL,
    undo_of: Batch | None = None,
    retry_of: Batch | None = None,
    resume_of: Batch | None = None,
    enqueue: bool = True,
    payload_hash_: str = "",
) -> Batch:
    """Write the Batch, its chunks and items in one transaction (items inserted in slices).

    Quotas are enforced here, under their locks, for every kind but undo (raises QuotaExceeded; the
    caller audits it once the transaction has rolled back).
    """
    options = request.options
    chunks = list(plan_chunks(request.operations, chunk_size=options["chunk_size"]))
    unchecked = unchecked_operations(request)
    with transaction.atomic():
        if kind != Batch.Kind.UNDO:
            quota_enforce(user=user, team=team, operations=len(request.operations))
        batch = Batch.objects.create(
            team=team,
            created_by=user,
            kind=kind,
            status=Batch.Status.QUEUED,
            description=request.metadata.get("description", "")[:300],
            source=request.metadata.get("source", source)[:40],
            request_id=request.request_id,
            payload_hash=payload_hash_,
            options=options,
            metadata=request.metadata,
            estimate=estimate_ if estimate_ is not None else estimate(request),
            undo_of=undo_of,
            retry_of=retry_of,
            resume_of=resume_of,
            total_items=len(request.operations),
            total_chunks=len(chunks),
            runner_slots=runner_slots(options, len(chunks)),
            queued_at=timezone.now(),
            medical_check_disabled_by=user if unchecked else None,
        )
        chunk_rows = BatchChunk.objects.bulk_create(
            [
                BatchChunk(batch=batch, seq=seq, level=level, item_count=len(ops), op_type=chunk_type(ops))
                for seq, (level, ops) in enumerate(chunks)
            ]
        )
        # Ids are reserved up front so dependencies can name them, then items stream in with COPY.
        ids = dict(
            zip(
                (op.id for _, ops in chunks for op in ops),
                allocate_ids(BatchItem, len(request.operations)),
                strict=True,
            )
        )
        rows = (
            {
                "id": ids[op.id],
                "batch": batch.pk,
                "chunk": chunk_row.pk,
                "seq": op.seq,
                "op_id": op.id,
                "type": op.type,
                "data": op.data,
                "priority": op.priority,
                "dependencies": op.dependencies,
                "depends_on": [ids[d] for d in op.dependencies],
                "conflict_resolution": op.conflict_resolution or "",
                "metadata": op.metadata,
                "retry_count": op.retry_count,
                "status": BatchItem.Status.PENDING,
                "attempts": 0,
                "warnings": [],
            }
            for chunk_row, (_, ops) in zip(chunk_rows, chunks, strict=True)
            for op in ops
        )
        while part := list(islice(rows, INSERT_SLICE)):
            copy_insert(BatchItem, part, list(part[0]))
        audit_record(
            actor=user,
            action=AuditEvent.Action.BATCH_SUBMITTED,
            obj=batch,
            team=team,
            channel=channel,
            details={"operations": batch.total_items, "kind": kind, "source": batch.source},
        )
        if unchecked:
            audit_record(
                actor=user,
                action=AuditEvent.Action.BATCH_MEDICAL_CHECK_DISABLED,
                obj=batch,
                team=team,
                channel=channel,
                purpose="medicalComplianceCheck: false",
                details={
                    "batchOption": not options["medical_compliance_check"],
                    "operations": len(unchecked),
                    "operationIds": unchecked[:100],
                },
            )
        if enqueue:
            batch_id = batch.pk
            transaction.on_commit(lambda: enqueue_runners(batch_id=batch_id))
    return batch
