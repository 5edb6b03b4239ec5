"""Writing a batch: the Batch row, its chunks and items, in one transaction; runners start on commit.

Every way a batch comes to be (submit, undo, retry, resume) ends here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from batch.models import Batch, BatchChunk, BatchItem
from batch.planner import chunk_type, plan_chunks
from batch.queueing import enqueue_runners
from batch.quotas import quota_enforce
from batch.request import BatchRequest, Operation
from batch.sql import allocate_ids, copy_text, json_bytes, text_array, text_json, text_value
from batch.validation import estimate, runner_slots, unchecked_operations
from hockeyhub.audit import Auditor
from hockeyhub.models import AuditEvent

ITEM_COLUMNS = (
    "id",
    "batch",
    "chunk",
    "seq",
    "op_id",
    "type",
    "data",
    "priority",
    "dependencies",
    "depends_on",
    "conflict_resolution",
    "metadata",
    "retry_count",
    "status",
    "attempts",
    "warnings",
)


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
        ids = allocate_ids(BatchItem, len(request.operations))
        copy_text(BatchItem, ITEM_COLUMNS, item_lines(batch.pk, chunks, chunk_rows, ids))
        audit = Auditor(actor=user, team=team, channel=channel)
        audit(
            AuditEvent.Action.BATCH_SUBMITTED,
            batch,
            details={"operations": batch.total_items, "kind": kind, "source": batch.source},
        )
        if unchecked:
            audit(
                AuditEvent.Action.BATCH_MEDICAL_CHECK_DISABLED,
                batch,
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


def item_lines(
    batch_id: int, chunks: list[tuple[int, list[Operation]]], chunk_rows: list[BatchChunk], ids: Sequence[int]
) -> Iterator[bytes]:
    """Yield the batch's items as COPY text lines (ITEM_COLUMNS), in chunk order.

    `ids` are reserved before the COPY starts, so dependencies can name them (`depends_on`). An
    operation's data is written as the JSON it was packed into at parse (Operation.data_json).
    """
    ids = iter(ids)
    named: dict[str, int] = {}
    needed = {dep for _, ops in chunks for op in ops for dep in op.dependencies}
    pending = b"\t".join((BatchItem.Status.PENDING.encode(), b"0", b"[]")) + b"\n"
    for chunk_row, (_, ops) in zip(chunk_rows, chunks, strict=True):
        head = b"%d\t%d\t" % (batch_id, chunk_row.pk)
        for op in ops:
            pk = next(ids)
            if op.id in needed:
                named[op.id] = pk
            yield b"".join(
                (
                    b"%d\t" % pk,
                    head,
                    b"%d\t" % op.seq,
                    text_value(op.id),
                    b"\t",
                    op.type.encode(),
                    b"\t",
                    text_json(op.data_json),
                    b"\t%d\t" % op.priority,
                    text_array(op.dependencies),
                    b"\t",
                    text_array([named[d] for d in op.dependencies]),
                    b"\t",
                    text_value(op.conflict_resolution or ""),
                    b"\t",
                    text_json(json_bytes(op.metadata)) if op.metadata else b"{}",
                    b"\t%d\t" % op.retry_count,
                    pending,
                )
            )
