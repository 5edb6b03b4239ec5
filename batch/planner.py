"""Order a request's operations into chunks: dependency level first, then priority, then position."""

from __future__ import annotations

from collections.abc import Iterator
from graphlib import TopologicalSorter

from batch.request import Operation, dependency_graph


def dependency_levels(operations: list[Operation]) -> dict[str, int]:
    """Return each operation's depth: 0 without dependencies, else 1 + its deepest dependency.

    The graph is known to be acyclic (checked at validation).
    """
    graph = dependency_graph(operations)
    levels: dict[str, int] = {}
    for node in TopologicalSorter(graph).static_order():
        levels[node] = 1 + max((levels[d] for d in graph[node]), default=-1)
    return levels


def plan_chunks(operations: list[Operation], *, chunk_size: int) -> Iterator[tuple[int, list[Operation]]]:
    """Yield (level, operations) chunks in execution order.

    A chunk holds operations of one level only, so every dependency sits in an earlier level's chunk.
    Higher priority runs first within a level; ties keep request order.
    """
    levels = dependency_levels(operations)
    ordered = sorted(operations, key=lambda op: (levels[op.id], -op.priority, op.seq))
    current: list[Operation] = []
    current_level = None
    for op in ordered:
        level = levels[op.id]
        if current and (level != current_level or len(current) >= chunk_size):
            yield current_level, current
            current = []
        current_level = level
        current.append(op)
    if current:
        yield current_level, current
