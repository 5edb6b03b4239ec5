"""The exchange format: parse and check a batch request's shape (operations, options, metadata).

The camelCase JSON shape is the import/export format; Python code works with `BatchRequest`.
This module checks structure only; per-type data rules live with each operation's executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from batch.errors import RequestProblem
from batch.models import OperationType

CONFLICT_STRATEGIES = ("SKIP", "OVERRIDE", "ADJUST_TIME", "FIND_ALTERNATIVE", "FAIL")
PUBLIC_TYPES = tuple(t for t in OperationType.values if t != OperationType.REVERT)

# camelCase option -> (snake_case name, type, default)
OPTION_SPECS: dict[str, tuple[str, type, Any]] = {
    "parallel": ("parallel", bool, True),
    "maxConcurrency": ("max_concurrency", int, 5),
    "chunkSize": ("chunk_size", int, 10),
    "stopOnError": ("stop_on_error", bool, False),
    "rollbackOnError": ("rollback_on_error", bool, False),
    "validateBeforeExecute": ("validate_before_execute", bool, True),
    "retryFailedOperations": ("retry_failed_operations", bool, True),
    "retryAttempts": ("retry_attempts", int, 3),
    "medicalComplianceCheck": ("medical_compliance_check", bool, True),
    "conflictResolution": ("conflict_resolution", str, "SKIP"),
    "notifyOnComplete": ("notify_on_complete", bool, True),
}
METADATA_SPECS: dict[str, type] = {"requestId": str, "description": str, "source": str, "tags": list}
OPERATION_KEYS = {"id", "type", "data", "priority", "dependencies", "metadata", "conflictResolution"}


@dataclass
class Operation:
    id: str
    type: str
    data: dict[str, Any]
    priority: int = 0
    dependencies: list[str] = field(default_factory=list)
    conflict_resolution: str | None = None
    seq: int = 0


@dataclass
class BatchRequest:
    operations: list[Operation]
    options: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def request_id(self) -> str:
        return self.metadata.get("requestId", "")


def options_to_exchange(options: dict[str, Any]) -> dict[str, Any]:
    """Return stored (snake_case) options in the camelCase exchange shape."""
    reverse = {snake: camel for camel, (snake, _, _) in OPTION_SPECS.items()}
    return {reverse[key]: value for key, value in options.items() if key in reverse}


def operation_to_exchange(
    *, op_id: str, op_type: str, data: Any, priority: int, dependencies: list[str], conflict_resolution: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": op_id, "type": op_type, "data": data}
    if priority:
        entry["priority"] = priority
    if dependencies:
        entry["dependencies"] = dependencies
    if conflict_resolution:
        entry["conflictResolution"] = conflict_resolution
    return entry


def default_options() -> dict[str, Any]:
    return {snake: default for snake, _, default in OPTION_SPECS.values()}


def _type_name(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list", dict: "an object"}[kind]


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def parse_options(raw: Any, problems: list[RequestProblem]) -> dict[str, Any]:
    options = default_options()
    if raw is None:
        return options
    if not isinstance(raw, dict):
        problems.append(RequestProblem("options must be an object", field="options"))
        return options
    for key, value in raw.items():
        spec = OPTION_SPECS.get(key)
        if spec is None:
            problems.append(
                RequestProblem(
                    f"unknown option {key!r}; known: {', '.join(OPTION_SPECS)}", field=f"options.{key}"
                )
            )
            continue
        snake, kind, _ = spec
        if not _is(value, kind):
            problems.append(RequestProblem(f"must be {_type_name(kind)}", field=f"options.{key}"))
            continue
        options[snake] = value
    limits = {
        "max_concurrency": ("maxConcurrency", 1, settings.BATCH_MAX_CONCURRENCY),
        "chunk_size": ("chunkSize", 1, settings.BATCH_MAX_CHUNK_SIZE),
        "retry_attempts": ("retryAttempts", 0, 10),
    }
    for snake, (camel, low, high) in limits.items():
        if not low <= options[snake] <= high:
            problems.append(RequestProblem(f"must be between {low} and {high}", field=f"options.{camel}"))
            options[snake] = min(max(options[snake], low), high)
    if options["conflict_resolution"] not in CONFLICT_STRATEGIES:
        problems.append(
            RequestProblem(
                f"must be one of {', '.join(CONFLICT_STRATEGIES)}", field="options.conflictResolution"
            )
        )
        options["conflict_resolution"] = "SKIP"
    return options


def parse_metadata(raw: Any, problems: list[RequestProblem]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(RequestProblem("metadata must be an object", field="metadata"))
        return {}
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        kind = METADATA_SPECS.get(key)
        if kind is None:
            problems.append(
                RequestProblem(
                    f"unknown metadata key {key!r}; known: {', '.join(METADATA_SPECS)}",
                    field=f"metadata.{key}",
                )
            )
        elif not _is(value, kind) or (kind is list and not all(isinstance(t, str) for t in value)):
            problems.append(
                RequestProblem(
                    f"must be {_type_name(kind)}" + (" of strings" if kind is list else ""),
                    field=f"metadata.{key}",
                )
            )
        elif kind is str and len(value) > (100 if key == "requestId" else 300):
            problems.append(RequestProblem("is too long", field=f"metadata.{key}"))
        else:
            metadata[key] = value
    return metadata


def find_refs(value: Any, path: str = "data") -> list[tuple[str, Any]]:
    """Return (path, target) for every {"$ref": target} inside value."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            return [(path, value["$ref"])]
        for key, inner in value.items():
            found.extend(find_refs(inner, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(find_refs(inner, f"{path}[{index}]"))
    return found


def resolve_refs(value: Any, results: dict[str, Any]) -> Any:
    """Replace every {"$ref": op_id} with the id that operation produced."""
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            return results[value["$ref"]]
        return {key: resolve_refs(inner, results) for key, inner in value.items()}
    if isinstance(value, list):
        return [resolve_refs(inner, results) for inner in value]
    return value


def parse_operation(raw: Any, index: int, problems: list[RequestProblem]) -> Operation | None:
    label = f"operations[{index}]"
    if not isinstance(raw, dict):
        problems.append(RequestProblem("each operation must be an object", field=label))
        return None
    op_id = raw.get("id")
    if not isinstance(op_id, str) or not op_id.strip() or len(op_id) > 100:
        problems.append(
            RequestProblem(
                "id is required: a non-empty string of at most 100 characters", field=f"{label}.id"
            )
        )
        return None
    ok = True
    for key in raw:
        if key not in OPERATION_KEYS:
            problems.append(RequestProblem(f"unknown key {key!r}", operation_id=op_id, field=key))
            ok = False
    op_type = raw.get("type")
    if op_type not in PUBLIC_TYPES:
        problems.append(
            RequestProblem(f"type must be one of {', '.join(PUBLIC_TYPES)}", operation_id=op_id, field="type")
        )
        ok = False
    data = raw.get("data", {})
    if not isinstance(data, dict):
        problems.append(RequestProblem("data must be an object", operation_id=op_id, field="data"))
        ok = False
    priority = raw.get("priority", 0)
    if not _is(priority, int):
        problems.append(RequestProblem("priority must be an integer", operation_id=op_id, field="priority"))
        ok = False
    deps = raw.get("dependencies", []) or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        problems.append(
            RequestProblem(
                "dependencies must be a list of operation ids", operation_id=op_id, field="dependencies"
            )
        )
        ok = False
    strategy = raw.get("conflictResolution")
    if strategy is not None and strategy not in CONFLICT_STRATEGIES:
        problems.append(
            RequestProblem(
                f"conflictResolution must be one of {', '.join(CONFLICT_STRATEGIES)}",
                operation_id=op_id,
                field="conflictResolution",
            )
        )
        ok = False
    if not ok:
        return None
    return Operation(
        id=op_id,
        type=op_type,
        data=data,
        priority=priority,
        dependencies=list(deps),
        conflict_resolution=strategy,
        seq=index,
    )


def check_graph(operations: list[Operation], problems: list[RequestProblem]) -> None:
    """Dependencies must name known operations, refs need a dependency, and there must be no cycle."""
    ids = {op.id for op in operations}
    for op in operations:
        for dep in op.dependencies:
            if dep == op.id:
                problems.append(
                    RequestProblem(
                        "an operation cannot depend on itself", operation_id=op.id, field="dependencies"
                    )
                )
            elif dep not in ids:
                problems.append(
                    RequestProblem(
                        f"depends on unknown operation {dep!r}", operation_id=op.id, field="dependencies"
                    )
                )
        for path, target in find_refs(op.data):
            if not isinstance(target, str) or target not in ids:
                problems.append(
                    RequestProblem(f"$ref to unknown operation {target!r}", operation_id=op.id, field=path)
                )
            elif target not in op.dependencies:
                problems.append(
                    RequestProblem(
                        f"$ref to {target!r} requires {target!r} in dependencies",
                        operation_id=op.id,
                        field=path,
                        code="REF_WITHOUT_DEPENDENCY",
                    )
                )
    cycle = find_cycle(operations)
    if cycle:
        problems.append(
            RequestProblem(
                "dependency cycle: " + " -> ".join(cycle),
                operation_id=cycle[0],
                field="dependencies",
                code="DEPENDENCY_CYCLE",
            )
        )


def find_cycle(operations: list[Operation]) -> list[str] | None:
    """Return one dependency cycle as a list of ids (first id repeated at the end), or None."""
    graph = {op.id: [d for d in op.dependencies if d != op.id] for op in operations}
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(graph, white)
    for start in graph:
        if color[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                color[node] = grey
                path.append(node)
            deps = [d for d in graph[node] if d in graph]
            if index < len(deps):
                stack.append((node, index + 1))
                nxt = deps[index]
                if color[nxt] == grey:
                    return path[path.index(nxt) :] + [nxt]
                if color[nxt] == white:
                    stack.append((nxt, 0))
            else:
                color[node] = black
                path.pop()
    return None


def parse_request(raw: Any) -> tuple[BatchRequest, list[RequestProblem]]:
    """Return the parsed request and every structural problem found (empty when valid)."""
    problems: list[RequestProblem] = []
    if not isinstance(raw, dict):
        problems.append(
            RequestProblem("the request must be a JSON object with operations, options, metadata")
        )
        return BatchRequest([], default_options(), {}), problems
    for key in raw:
        if key not in {"operations", "options", "metadata"}:
            problems.append(RequestProblem(f"unknown top-level key {key!r}", field=key))
    raw_ops = raw.get("operations")
    operations: list[Operation] = []
    if not isinstance(raw_ops, list) or not raw_ops:
        problems.append(RequestProblem("operations must be a non-empty list", field="operations"))
        raw_ops = []
    elif len(raw_ops) > settings.BATCH_MAX_OPERATIONS:
        problems.append(
            RequestProblem(
                f"{len(raw_ops)} operations exceed the maximum of {settings.BATCH_MAX_OPERATIONS} per batch",
                field="operations",
                code="TOO_MANY_OPERATIONS",
            )
        )
        raw_ops = []
    seen: set[str] = set()
    for index, raw_op in enumerate(raw_ops):
        op = parse_operation(raw_op, index, problems)
        if op is None:
            continue
        if op.id in seen:
            problems.append(
                RequestProblem("duplicate operation id", operation_id=op.id, field="id", code="DUPLICATE_ID")
            )
            continue
        seen.add(op.id)
        operations.append(op)
    options = parse_options(raw.get("options"), problems)
    metadata = parse_metadata(raw.get("metadata"), problems)
    if not problems:
        check_graph(operations, problems)
    return BatchRequest(operations, options, metadata), problems
