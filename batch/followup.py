"""Follow-up batches of an ended one: retry failed (`batch/retry.py`) and resume (`batch/resume.py`).

The operations of some of a batch's items, with dependencies among them kept and `$ref`s to items that
succeeded replaced by their results; and the writer of the linked batch with its audit row.
"""

from __future__ import annotations

import graphlib
from typing import Any

from django.db.models import Q

from batch.actions import acting_user
from batch.models import Batch, BatchItem
from batch.quotas import QuotaExceeded, quota_refusal_record
from batch.request import BatchRequest, Operation, default_options
from batch.store import create_batch
from hockeyhub.audit import audit_record


def record_quota_refusal(exc: QuotaExceeded, *, batch_id: int, user: Any, channel: str, kind: str) -> None:
    """Audit a quota's refusal of a follow-up batch (after the refused transaction rolled back)."""
    original = Batch.objects.select_related("team").get(pk=batch_id)
    quota_refusal_record(exc=exc, user=acting_user(user), team=original.team, channel=channel, kind=kind)


def follow_up_operations(
    original: Batch, wanted: Q, *, keep_results: bool = True, retry: bool = False
) -> tuple[list[Operation], list[str]]:
    """Return the operations of the original's `wanted` items, and the op ids left out.

    Dependencies among the picked items are kept; a `$ref` to an item that succeeded is replaced by its
    result id (not when `keep_results` is False: an undone batch's results are gone). An item whose
    dependency is neither picked nor usable is left out, transitively. Streams the picked items.
    Each operation keeps its metadata; with `retry` its retryCount goes up by one.
    """
    items = (
        BatchItem.objects.filter(wanted, batch=original)
        .only("seq", *BatchItem.OPERATION_FIELDS)
        .order_by("seq")
    )
    picked = {item.op_id: item for item in items.iterator(chunk_size=2000)}
    outside = {d for item in picked.values() for d in item.dependencies} - set(picked)
    succeeded: dict[str, Any] = {}
    if outside and keep_results:
        succeeded = {
            op_id: (result or {}).get("id")
            for op_id, result in BatchItem.objects.filter(
                batch=original, op_id__in=outside, status=BatchItem.Status.SUCCEEDED
            ).values_list("op_id", "result")
        }
    keep = drop_unreachable(picked, succeeded)
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
                metadata=item.metadata,
                retry_count=item.retry_count + 1 if retry else item.retry_count,
            )
        )
    return operations, [op_id for op_id in picked if op_id not in keep]


def start_follow_up(
    original: Batch,
    *,
    user: Any,
    channel: str,
    kind: str,
    operations: list[Operation],
    left_out: list[str],
    description: str,
    audit_action: str,
    purpose: str,
) -> Batch:
    """Write a retry or resume batch of `operations`, linked to the original, with its audit row.

    Same options as the original; the new batch belongs to the acting user (the original's owner when
    the operator acts from a command line).
    """
    actor = acting_user(user)
    link = {Batch.Kind.RETRY: "retry", Batch.Kind.RESUME: "resume"}[kind]
    metadata = {"description": description, "source": link, f"{link}Of": original.pk, "leftOut": left_out}
    follow_up = create_batch(
        user=actor or original.created_by,
        team=original.team,
        request=BatchRequest(operations, {**default_options(), **original.options}, metadata),
        source=link,
        channel=channel,
        kind=kind,
        **{f"{link}_of": original},
    )
    audit_record(
        actor=actor,
        action=audit_action,
        obj=original,
        team=original.team,
        channel=channel,
        purpose=purpose,
        details={f"{link}BatchId": follow_up.pk, "operations": len(operations), "leftOut": len(left_out)},
    )
    return follow_up


def drop_unreachable(picked: dict[str, BatchItem], succeeded: dict[str, Any]) -> dict[str, BatchItem]:
    """Keep the items whose every dependency is kept or succeeded (dependencies first, via graphlib)."""
    graph = {op_id: [d for d in item.dependencies if d in picked] for op_id, item in picked.items()}
    keep: set[str] = set()
    for op_id in graphlib.TopologicalSorter(graph).static_order():
        if all(d in keep or d in succeeded for d in picked[op_id].dependencies):
            keep.add(op_id)
    return {op_id: item for op_id, item in picked.items() if op_id in keep}


def resolve_partial(data: Any, done: dict[str, Any]) -> Any:
    """Replace only the $refs to `done` items; refs to items that run again stay for the runner."""
    if isinstance(data, dict):
        if set(data) == {"$ref"}:
            return done.get(data["$ref"], data)
        return {k: resolve_partial(v, done) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_partial(v, done) for v in data]
    return data
