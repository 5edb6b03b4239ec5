"""A batch back out: its definition as an exchange-format request, and its results as CSV or JSON.

Everything streams (2,000 rows per fetch), so a 100,000-operation batch never sits in memory.
"Failed and skipped" (`failed_only`) is valid input again: it holds what "retry failed" and "retry
skipped" would run (`RERUN`), with `$ref`s to operations that succeeded replaced by their results (the
same rule as the retries). A batch with nothing to run again has no such export (`rerun_refusal`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from batch.actions import FAILED_HERE, RETRYABLE_SKIP
from batch.followup import follow_up_operations
from batch.models import Batch, BatchItem, OperationType
from batch.request import METADATA_KEYS, operation_to_exchange, options_to_exchange
from batch.selectors import batch_items, named_items, summary_chunks
from hockeyhub.csvcells import csv_safe_row

NOT_EXPORTED = {"requestId", "userId", "timestamp"}
RERUN = FAILED_HERE | RETRYABLE_SKIP  # what the failed-and-skipped export holds
RESULT_COLUMNS = [
    "id",
    "type",
    "status",
    "target_type",
    "target_id",
    "target_name",
    "target_date",
    "error_code",
    "message",
    "suggested_action",
    "result",
]


def _operations(batch: Batch, *, failed_only: bool) -> Iterator[dict[str, Any]]:
    if failed_only:
        operations, _ = follow_up_operations(batch, RERUN, retry=True)
        for op in operations:
            yield operation_to_exchange(
                op_id=op.id,
                op_type=op.type,
                data=op.data,
                priority=op.priority,
                dependencies=op.dependencies,
                conflict_resolution=op.conflict_resolution or "",
                metadata=op.metadata,
                retry_count=op.retry_count,
            )
        return
    rows = (
        BatchItem.objects.filter(batch=batch)
        .exclude(type=OperationType.REVERT)
        .order_by("seq")
        .values_list(*BatchItem.OPERATION_FIELDS)
    )
    for op_id, op_type, data, priority, deps, strategy, metadata, retry_count in rows.iterator(
        chunk_size=2000
    ):
        yield operation_to_exchange(
            op_id=op_id,
            op_type=op_type,
            data=data,
            priority=priority,
            dependencies=deps,
            conflict_resolution=strategy,
            metadata=metadata,
            retry_count=retry_count,
        )


def definition_metadata(batch: Batch, *, failed_only: bool) -> dict[str, Any]:
    """The batch's metadata minus who sent it and when, and its idempotency key (a re-run is a new
    request, sent by its own caller)."""
    metadata = {
        k: v for k, v in (batch.metadata or {}).items() if k in METADATA_KEYS and k not in NOT_EXPORTED
    }
    if failed_only:
        metadata["description"] = f"Failed and skipped operations of batch {batch.pk}"[:300]
    return metadata


def rerun_refusal(batch: Batch) -> str | None:
    """Why the failed-and-skipped export would hold nothing to run, or None (one EXISTS query).

    An export with no operations is not valid input ("must have at least 1 entry"), so there is none.
    """
    if BatchItem.objects.filter(RERUN, batch=batch).exists():
        return None
    return (
        f"Batch {batch.pk} has nothing to run again: no failed items, and no skipped ones that could go "
        "differently (clashes, busy time, medical skips). Items skipped because the batch stopped or was "
        "cancelled are run by “Resume”; the whole batch is under “Definition (JSON)”."
    )


def definition_chunks(batch: Batch, *, failed_only: bool = False) -> Iterator[str]:
    """Yield the exchange-format JSON of the batch in pieces (batch_run and the import page read it)."""
    yield '{"operations": ['
    for index, entry in enumerate(_operations(batch, failed_only=failed_only)):
        yield ("," if index else "") + "\n  " + json.dumps(entry)
    yield (
        "\n], "
        + f'"options": {json.dumps(options_to_exchange(batch.options))}, '
        + f'"metadata": {json.dumps(definition_metadata(batch, failed_only=failed_only))}}}\n'
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def results_csv_chunks(batch: Batch, *, status: str | None = None) -> Iterator[str]:
    """The results as CSV, one row per item in request order (streamed: see named_items)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(RESULT_COLUMNS)
    for row, named in named_items(batch_items(batch=batch, status=status), team_id=batch.team_id):
        error = row.error
        target = named.target
        yield writer.writerow(
            csv_safe_row(
                [
                    row.op_id,
                    row.type,
                    row.status,
                    target.kind if target.kind != "none" else "",
                    target.id or "",
                    target.name if target.kind != "none" else "",
                    target.date or "",
                    error.get("code", ""),
                    error.get("message", ""),
                    error.get("suggestedAction", ""),
                    row.result_json if row.result_json not in (None, "null") else "",
                ]
            )
        )


def results_json_chunks(batch: Batch, *, status: str | None = None) -> Iterator[str]:
    """{id, status, summary, results[]} — the shape batch_run --json prints."""
    return summary_chunks(batch, status=status)
