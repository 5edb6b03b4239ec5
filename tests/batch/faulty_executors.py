"""Test-only operation types that misbehave on purpose; workers load them through faulty_worker.py.

Each acts like CREATE except on a workout named "boom": RAISE raises in apply (a bug in bulk code),
BREAK raises in prepare for its whole group, EXIT kills its process as an out-of-memory kill would,
OPAQUE returns a result that cannot be stored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from batch.models import BatchItem
from batch.operations.base import REGISTRY, Context
from batch.operations.create import CreateExecutor

FAULTY_TYPES = ("RAISE", "BREAK", "EXIT", "OPAQUE")


def is_boom(item: BatchItem) -> bool:
    return item.data.get("workout", {}).get("name") == "boom"


class RaiseInApply(CreateExecutor):
    type = "RAISE"

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        if any(is_boom(item) for item in items):
            raise KeyError("a bug in bulk code")
        return super().apply(items, ctx)


class BreakInPrepare(CreateExecutor):
    type = "BREAK"

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        raise RuntimeError("prepare is broken for every item")


class ExitInApply(CreateExecutor):
    type = "EXIT"

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        if any(is_boom(item) for item in items):
            os._exit(137)
        return super().apply(items, ctx)


class OpaqueResult(CreateExecutor):
    """Returns a result that cannot be stored: the chunk fails after the executors ran."""

    type = "OPAQUE"

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        results = super().apply(items, ctx)
        return {op_id: {**result, "handle": object()} for op_id, result in results.items()}


def register_faulty() -> None:
    for executor_class in (RaiseInApply, BreakInPrepare, ExitInApply, OpaqueResult):
        REGISTRY[executor_class.type] = executor_class()


def unregister_faulty() -> None:
    for op_type in FAULTY_TYPES:
        REGISTRY.pop(op_type, None)
