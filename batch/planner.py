"""Order a request's operations into chunks: dependency level first, then priority, then position.

Chunk boundaries are decided here, at submit, and stored: a chunk row is the unit a runner claims,
commits and counts tries of, so it must not change shape while the batch runs. Sizing chunks by time
needs only a cost per operation type, which the measured history gives before the batch starts; a
runtime splitter would buy little (costs per type are stable) for much (re-claiming, re-numbering).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from graphlib import TopologicalSorter

from django.conf import settings

from batch.request import Operation, dependency_graph
from batch.selectors import measured_costs


def dependency_levels(operations: list[Operation]) -> dict[str, int]:
    """Return each operation's depth: 0 without dependencies, else 1 + its deepest dependency.

    The graph is known to be acyclic (checked at validation). Without any dependency (the common
    case) every level is 0, and that is all it says: an empty mapping whose every level reads 0, not a
    dict of 100,000 zeros.
    """
    if not any(op.dependencies for op in operations):  # the common case, without building a graph
        return _ALL_LEVEL_0
    graph = dependency_graph(operations)
    levels: dict[str, int] = {}
    for node in TopologicalSorter(graph).static_order():
        levels[node] = 1 + max((levels[d] for d in graph[node]), default=-1)
    return levels


class _Level0(dict[str, int]):
    """The levels of operations without dependencies: empty, and 0 for any operation."""

    def __missing__(self, op_id: str) -> int:
        return 0

    def __setitem__(self, op_id: str, level: int) -> None:
        raise TypeError("the levels of operations without dependencies are all 0")


_ALL_LEVEL_0 = _Level0()


def plan_chunks(
    operations: list[Operation],
    *,
    chunk_size: int | None,
    costs: Mapping[str, float] | None = None,
) -> Iterator[tuple[int, list[Operation]]]:
    """Yield (level, operations) chunks in execution order.

    A chunk holds operations of one level only, so every dependency sits in an earlier level's chunk.
    Higher priority runs first within a level; ties keep request order.

    With an explicit `chunk_size` a chunk holds that many operations. Without one (the default), it
    holds about BATCH_CHUNK_TARGET_MS of work: each operation weighs its type's measured cost in ms
    (`costs`, else `measured_costs()`), the chunk's fixed cost counts once, and BATCH_MAX_CHUNK_SIZE
    caps the count.
    """
    if chunk_size:
        budget, cap = float(chunk_size), chunk_size
        weights: Mapping[str, float] = {}
        default_weight = 1.0
    else:
        weights = costs if costs is not None else measured_costs()
        budget = max(settings.BATCH_CHUNK_TARGET_MS - weights.get("_chunk", 0.0), 1.0)
        cap = settings.BATCH_MAX_CHUNK_SIZE
        default_weight = max(weights.values(), default=1.0)
    levels = dependency_levels(operations)
    # In request order (operations come in seq order), stably sorted by level, then priority.
    ordered = operations
    if levels:
        ordered = sorted(ordered, key=lambda op: (levels[op.id], -op.priority))
    elif any(op.priority for op in operations):
        ordered = sorted(ordered, key=lambda op: -op.priority)
    current: list[Operation] = []
    current_level = None
    load = 0.0
    for op in ordered:
        level = levels[op.id]
        weight = weights.get(op.type, default_weight)
        if current and (level != current_level or len(current) >= cap or load + weight > budget):
            yield current_level, current
            current = []
            load = 0.0
        current_level = level
        current.append(op)
        load += weight
    if current:
        yield current_level, current


def chunk_type(operations: list[Operation]) -> str:
    """The type every operation of a chunk shares, or "" when it mixes types (see BatchChunk.op_type)."""
    types = {op.type for op in operations}
    return types.pop() if len(types) == 1 else ""
