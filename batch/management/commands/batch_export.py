"""Write a batch back out as an exchange-format request (to re-run, edit or archive it)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from batch.management.commands._common import get_batch
from batch.models import OperationType
from batch.request import METADATA_KEYS, operation_to_exchange, options_to_exchange

# Who sent it and when belong to the original submit; a re-run is sent anew by its own caller.
NOT_EXPORTED = {"requestId", "userId", "timestamp"}


class Command(BaseCommand):
    help = "Print a batch's operations, options and metadata as exchange-format JSON (batch_run reads it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--failed-only", action="store_true", help="Only the items that failed")

    def handle(self, *args: Any, **opts: Any) -> None:
        batch = get_batch(opts["batch_id"])
        items = batch.items.exclude(type=OperationType.REVERT).order_by("seq")
        if opts["failed_only"]:
            items = items.filter(status="FAILED")
        metadata = {k: v for k, v in batch.metadata.items() if k in METADATA_KEYS and k not in NOT_EXPORTED}
        # Streamed item by item, so a 100,000-operation batch never sits in memory as objects.
        out = self.stdout
        out.write('{"operations": [', ending="")
        for index, item in enumerate(
            items.values_list(
                "op_id",
                "type",
                "data",
                "priority",
                "dependencies",
                "conflict_resolution",
                "metadata",
                "retry_count",
            ).iterator(chunk_size=2000)
        ):
            op_id, op_type, data, priority, deps, strategy, op_metadata, retry_count = item
            entry = operation_to_exchange(
                op_id=op_id,
                op_type=op_type,
                data=data,
                priority=priority,
                dependencies=deps,
                conflict_resolution=strategy,
                metadata=op_metadata,
                retry_count=retry_count,
            )
            out.write(("," if index else "") + "\n  " + json.dumps(entry), ending="")
        out.write(
            "\n], "
            + f'"options": {json.dumps(options_to_exchange(batch.options))}, '
            + f'"metadata": {json.dumps(metadata)}}}'
        )
