"""The exchange format: parse a batch request (operations, options, metadata) into a BatchRequest.

The shape and every limit are declared once, as pydantic models in `batch.exchange`; this module
validates with them, then checks what spans operations: duplicate ids, unknown dependencies, `$ref`s
without a dependency, and cycles (graphlib), named like `a -> b -> a`. Python code works with
`BatchRequest`; operation data stays in the camelCase exchange shape, normalised (ids as integers,
`workout.templateId` moved to `templateId`, the default workout type filled in).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

import msgspec
import orjson
from django.conf import settings
from pydantic import ValidationError

from batch.errors import RequestProblem
from batch.exchange import CONFLICT_STRATEGIES, PUBLIC_TYPES, BatchOptions, BatchRequestModel, problems_from
from batch.exchange.envelope import RequestMetadata
from batch.request_file import RequestBody, RequestFileError
from batch.sql import json_bytes

__all__ = [
    "CONFLICT_STRATEGIES",
    "PUBLIC_TYPES",
    "BatchRequest",
    "Operation",
    "check_graph",
    "dependency_graph",
    "default_options",
    "find_cycle",
    "find_refs",
    "operation_to_exchange",
    "options_to_exchange",
    "parse_request",
    "resolve_refs",
]


# Shared by packed operations that have none; nothing writes into an operation's lists or dicts.
NONE: list[str] = []
EMPTY: dict[str, Any] = {}


class Operation:
    """One operation of a request. `data` is the exchange-shape dict; a large request keeps it packed as
    its JSON bytes (`PackedWindow`), a tenth of the dict's memory, decoded on each read of `data` and
    written to the database as they are (`data_json`)."""

    __slots__ = (
        "_data",
        "conflict_resolution",
        "dependencies",
        "id",
        "metadata",
        "priority",
        "retry_count",
        "seq",
        "type",
    )

    def __init__(
        self,
        id: str,  # noqa: A002 - the exchange format's name
        type: str,  # noqa: A002
        data: dict[str, Any],
        priority: int = 0,
        dependencies: list[str] | None = None,
        conflict_resolution: str | None = None,
        seq: int = 0,
        metadata: dict[str, Any] | None = None,
        retry_count: int = 0,
    ) -> None:
        self.id = id
        self.type = type
        self._data: dict[str, Any] | bytes = data
        self.priority = priority
        self.dependencies = dependencies if dependencies is not None else []
        self.conflict_resolution = conflict_resolution
        self.seq = seq
        self.metadata = metadata if metadata is not None else {}
        self.retry_count = retry_count

    @property
    def data(self) -> dict[str, Any]:
        return msgspec.json.decode(self._data) if type(self._data) is bytes else self._data

    @property
    def data_json(self) -> bytes:
        """The data as JSON for a jsonb column."""
        return self._data if type(self._data) is bytes else json_bytes(self._data)

    def may_hold(self, key: str) -> bool:
        """False when the data surely has no `key` (packed data is searched as bytes, not decoded)."""
        return f'"{key}"'.encode() in self._data if type(self._data) is bytes else True

    def __repr__(self) -> str:
        return f"Operation({self.id!r}, {self.type!r}, seq={self.seq})"


@dataclass
class BatchRequest:
    operations: list[Operation]
    options: dict[str, Any]
    metadata: dict[str, Any]
    # What the server accepted but cannot honour as sent (ignored or translated), each said once.
    warnings: list[RequestProblem] = field(default_factory=list)

    @property
    def request_id(self) -> str:
        return self.metadata.get("requestId", "")


def default_options() -> dict[str, Any]:
    return BatchOptions().model_dump(by_alias=False)


def options_to_exchange(options: dict[str, Any]) -> dict[str, Any]:
    """Return stored (snake_case) options in the camelCase exchange shape."""
    fields = BatchOptions.model_fields
    return {fields[key].alias: value for key, value in options.items() if key in fields}


METADATA_KEYS = tuple(f.alias for f in RequestMetadata.model_fields.values())


def operation_to_exchange(
    *,
    op_id: str,
    op_type: str,
    data: Any,
    priority: int,
    dependencies: list[str],
    conflict_resolution: str,
    metadata: dict[str, Any] | None = None,
    retry_count: int = 0,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": op_id, "type": op_type, "data": data}
    if priority:
        entry["priority"] = priority
    if dependencies:
        entry["dependencies"] = dependencies
    if conflict_resolution:
        entry["conflictResolution"] = conflict_resolution
    if metadata:
        entry["metadata"] = metadata
    if retry_count:
        entry["retryCount"] = retry_count
    return entry


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


def check_graph(
    operations: list[Operation], problems: list[RequestProblem], ids: set[str] | None = None
) -> None:
    """Dependencies must name known operations, refs need a dependency, and there must be no cycle.
    `ids`: the operations' ids, when the caller has them."""
    ids = ids if ids is not None else {op.id for op in operations}
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
        for path, target in find_refs(op.data) if op.may_hold("$ref") else ():
            if target not in ids:
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


def dependency_graph(operations: list[Operation]) -> dict[str, list[str]]:
    ids = {op.id for op in operations}
    return {op.id: [d for d in op.dependencies if d in ids and d != op.id] for op in operations}


def find_cycle(operations: list[Operation]) -> list[str] | None:
    """Return one dependency cycle as a list of ids (first id repeated at the end), or None."""
    if not any(op.dependencies for op in operations):
        return None
    try:
        TopologicalSorter(dependency_graph(operations)).prepare()
    except CycleError as error:
        # graphlib lists each node before the one that depends on it; reversed, each depends on the next.
        return list(reversed(error.args[1]))
    return None


# Keys of a result entry (GET /batches/{id}/results) that are not part of an operation: the guide's
# retry recipe resubmits results as operations (`failedOps.map(op => ({...op, retryCount: 1}))`).
RESULT_KEYS = frozenset(
    {"seq", "status", "attempts", "durationMs", "finishedAt", "target", "result", "error", "warnings"}
)
PROMPT_USER = "PROMPT_USER"


def guide_shapes(raw: Any) -> tuple[Any, list[RequestProblem]]:
    """Accept the guide's shapes the models do not: return the request as the models read it, and a
    warning for each thing ignored or translated.

    - a bare array of operations is wrapped as {"operations": [...]};
    - `options.progressCallback` (a function in the guide) is ignored: poll or use a webhook;
    - `conflictResolution: PROMPT_USER` (batch or operation) runs as FAIL: a server-side run has no one
      to ask, so each clash is reported on its item for the user to decide;
    - result entries resubmitted as operations (the retry recipe) lose their result-only keys;
    - a DELETE with `data.workoutIds` becomes one DELETE per workout (`<id>.1`, `<id>.2`, …), and
      operations depending on it depend on all of them.
    The request is copied only where something changes. One pass over the operations.
    """
    warnings: list[RequestProblem] = []
    if isinstance(raw, list):
        raw = {"operations": raw}
        warnings.append(
            RequestProblem(
                'a bare array of operations was read as {"operations": [...]} with the default options',
                code="WRAPPED_OPERATIONS",
                field="operations",
                severity="warning",
            )
        )
    if not isinstance(raw, dict):
        return raw, warnings
    options = raw.get("options")
    if isinstance(options, dict) and (
        "progressCallback" in options or options.get("conflictResolution") == PROMPT_USER
    ):
        options = dict(options)
        if "progressCallback" in options:
            del options["progressCallback"]
            warnings.append(
                RequestProblem(
                    "ignored: a callback cannot reach a batch that runs on the server; poll "
                    "GET /api/v1/batches/{id} (percentComplete) or register a webhook for the end",
                    code="IGNORED_FIELD",
                    field="options.progressCallback",
                    severity="warning",
                )
            )
        if options.get("conflictResolution") == PROMPT_USER:
            options["conflictResolution"] = "FAIL"
            warnings.append(prompt_user_warning(None))
        raw = {**raw, "options": options}
    operations = raw.get("operations")
    if isinstance(operations, list):
        changed, op_warnings = guide_operations(operations)
        if changed is not operations:
            raw = {**raw, "operations": changed}
        warnings.extend(op_warnings)
    return raw, warnings


def prompt_user_warning(op_id: str | None) -> RequestProblem:
    return RequestProblem(
        "PROMPT_USER runs as FAIL: a batch runs on the server with no one to ask, so each clash is "
        "reported on its item (a conflict, with what it clashes with) for you to decide and retry",
        code="PROMPT_USER_AS_FAIL",
        operation_id=op_id,
        field="conflictResolution" if op_id else "options.conflictResolution",
        severity="warning",
    )


def guide_operations(operations: list[Any]) -> tuple[list[Any], list[RequestProblem]]:
    """The per-operation part of `guide_shapes`: return the operations (the same list when unchanged)."""
    warnings: list[RequestProblem] = []
    out: list[Any] | None = None
    expanded: dict[str, list[str]] = {}
    dropped: dict[str, int] = {}
    for index, op in enumerate(operations):
        new = op
        if type(op) is dict:
            extra = RESULT_KEYS.intersection(op)
            if extra:
                # A result's empty metadata is null; as an operation's it is simply absent.
                new = {
                    k: v
                    for k, v in op.items()
                    if k not in RESULT_KEYS and not (k == "metadata" and v is None)
                }
                for key in extra:
                    dropped[key] = dropped.get(key, 0) + 1
            if new.get("conflictResolution") == PROMPT_USER:
                new = {**new, "conflictResolution": "FAIL"}
                warnings.append(prompt_user_warning(str(new.get("id"))))
            data = new.get("data")
            if (
                new.get("type") == "DELETE"
                and isinstance(data, dict)
                and isinstance(data.get("workoutIds"), list)
                and data["workoutIds"]
                and "workoutId" not in data
                and isinstance(new.get("id"), str)
            ):
                rest = {k: v for k, v in data.items() if k != "workoutIds"}
                copies = [
                    {**new, "id": f"{new['id']}.{n}", "data": {**rest, "workoutId": workout_id}}
                    for n, workout_id in enumerate(data["workoutIds"], start=1)
                ]
                expanded[new["id"]] = [c["id"] for c in copies]
                warnings.append(
                    RequestProblem(
                        f"a DELETE of {len(copies)} workouts runs as {len(copies)} operations: "
                        f"{copies[0]['id']!r} to {copies[-1]['id']!r}, one per workout",
                        code="EXPANDED",
                        operation_id=new["id"],
                        field="data.workoutIds",
                        severity="warning",
                    )
                )
                if out is None:
                    out = list(operations[:index])
                out.extend(copies)
                continue
        if new is not op and out is None:
            out = list(operations[:index])
        if out is not None:
            out.append(new)
    if dropped:
        names = ", ".join(f"{key} ({count})" for key, count in sorted(dropped.items()))
        warnings.append(
            RequestProblem(
                f"ignored the result fields of operations sent back as they came from the results: {names}",
                code="IGNORED_FIELD",
                field="operations[]",
                severity="warning",
            )
        )
    result = operations if out is None else out
    if expanded:
        result = [
            {**op, "dependencies": [d for dep in op["dependencies"] for d in expanded.get(dep, [dep])]}
            if type(op) is dict
            and isinstance(op.get("dependencies"), list)
            and any(isinstance(d, str) and d in expanded for d in op["dependencies"])
            else op
            for op in result
        ]
    return result, warnings


def parse_request(raw: Any) -> tuple[BatchRequest, list[RequestProblem]]:
    """Return the parsed request and every problem found (empty when valid); never raises on input.

    The guide's looser shapes are read first (`guide_shapes`); what was ignored or translated comes back
    as the request's `warnings`, and in `metadata.requestWarnings` (kept on the batch, not exported).
    A `RequestBody` (a large request read lazily) is validated a window at a time, its operations'
    data packed as they pass; one of them in a guide shape sends the whole request the first way.
    """
    body = raw if isinstance(raw, RequestBody) else None
    try:
        if body is not None and body.prepare(size=PARSE_WINDOW, read_whole=_guide_shaped):
            return parse_request(body.value())
    except RequestFileError as exc:  # a window of a RequestBody nested too deep
        return BatchRequest([], default_options(), {}), [RequestProblem(str(exc))]
    if body is not None:
        raw = [] if body.bare else {**body.envelope, "operations": []}
    raw, warnings = guide_shapes(raw)
    request, problems = _parse_request(raw, body)
    if body is not None:
        body.release()
    request.warnings = warnings
    if warnings and not problems:
        request.metadata["requestWarnings"] = [w.as_dict() for w in warnings]
    return request, problems


def _guide_shaped(operations: list[Any]) -> bool:
    """True when a window of a RequestBody holds an operation in one of the guide's shapes (rare): the
    request is then read whole."""
    changed, notes = guide_operations(operations)
    return changed is not operations or bool(notes)


def _parse_request(raw: Any, body: RequestBody | None = None) -> tuple[BatchRequest, list[RequestProblem]]:
    empty = BatchRequest([], default_options(), {})
    if not isinstance(raw, dict):
        return empty, [RequestProblem("the request must be a JSON object with operations, options, metadata")]
    raw_ops = raw.get("operations")
    count = len(body) if body is not None else len(raw_ops) if isinstance(raw_ops, list) else 0
    if count > settings.BATCH_MAX_OPERATIONS:
        return empty, [
            RequestProblem(
                f"{count} operations exceed the maximum of {settings.BATCH_MAX_OPERATIONS} per batch",
                field="operations",
                code="TOO_MANY_OPERATIONS",
            )
        ]
    operations: list[Operation] = []
    problems: list[RequestProblem] = []
    envelope: tuple[dict[str, Any], dict[str, Any]] | None = None
    for start, window in windows(raw, body):
        try:
            model = BatchRequestModel.model_validate(window)
        except ValidationError as error:
            ops = window.get("operations")
            where = {"operations": _Shifted(ops, start)} if isinstance(ops, list) else window
            problems.extend(problems_from(error, where, BatchRequestModel, offset=start))
            continue
        if envelope is None:
            metadata = model.metadata.exchange() if "metadata" in model.model_fields_set else {}
            envelope = (model.options.model_dump(by_alias=False), metadata)
        if problems:
            continue
        if body is None:
            operations.extend(to_operations(model, start, window["operations"]))
            continue
        packed = PackedWindow(model, start)
        del model, window  # one window's models alive at a time, gone before its operations are built
        operations.extend(packed.unpack())
    if problems or envelope is None:
        return empty, problems
    request = BatchRequest(operations, *envelope)
    seen: set[str] = set()
    for op in request.operations:
        if op.id in seen:
            problems.append(
                RequestProblem("duplicate operation id", operation_id=op.id, field="id", code="DUPLICATE_ID")
            )
        seen.add(op.id)
    if not problems:
        check_graph(request.operations, problems, seen)
    return request, problems


class _Shifted:
    """A window's operations indexed as in the whole request (where problems_from looks them up)."""

    def __init__(self, operations: Any, start: int) -> None:
        self.operations, self.start = operations, start

    def __getitem__(self, index: int) -> Any:
        return self.operations[index - self.start]


# Operations are validated this many at a time, so the pydantic models of one window are alive at
# once, not those of the whole request (at 100,000 operations they were most of a dry run's peak).
PARSE_WINDOW = 500


def windows(raw: dict[str, Any], body: RequestBody | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (offset, the request with only a window of its operations); the whole request as one
    window when `operations` is not a non-empty list (its own error says why). A RequestBody's
    windows are decoded as they are reached."""
    if body is not None and len(body):
        for start in range(0, len(body), PARSE_WINDOW):
            yield start, {**raw, "operations": body.window(start, start + PARSE_WINDOW)}
        return
    raw_ops = raw.get("operations")
    if not isinstance(raw_ops, list) or not raw_ops:
        yield 0, raw
        return
    for start in range(0, len(raw_ops), PARSE_WINDOW):
        yield start, {**raw, "operations": raw_ops[start : start + PARSE_WINDOW]}


def to_operations(model: BatchRequestModel, start: int, given: list[Any]) -> list[Operation]:
    """Return the engine's Operations of a validated window: data and metadata camelCase.

    Where validation left an operation's data as it was given (the usual case), the Operation keeps
    the caller's dict rather than an equal copy: at 100,000 operations the copies were a third of what
    a submit held. Nothing writes into operation data (refs are resolved into new dicts).
    """
    # One dump per window: per-operation dumps cost several times more at 100,000 operations.
    dumped = model.exchange()["operations"]
    return [
        Operation(
            id=op.id,
            type=op.type,
            data=out["data"] if not same_json(out["data"], given_op.get("data")) else given_op["data"],
            priority=op.priority,
            dependencies=list(op.dependencies),
            conflict_resolution=op.conflict_resolution,
            seq=start + index,
            metadata=op.metadata or {},
            retry_count=op.retry_count,
        )
        for index, (op, out, given_op) in enumerate(zip(model.operations, dumped, given, strict=True))
    ]


class PackedWindow:
    """A validated window of a large request, held as a few large values (its ids in one string, its
    packed data in one bytes) while the window's models are let go; `unpack` then builds its
    Operations, each with its data packed as JSON bytes and shared empty dependencies and metadata.

    Built this way, the Operations that live on are allocated after the window's many short-lived
    objects are gone, next to each other, instead of scattered among them: at 100,000 operations the
    scattered ones kept about a third more memory than they use."""

    __slots__ = ("data", "ends", "ids", "rare", "start", "types")

    def __init__(self, model: BatchRequestModel, start: int) -> None:
        dumped = model.exchange()["operations"]
        self.start = start
        self.ids = "\0".join(op.id for op in model.operations)  # no id holds NUL (request_file)
        self.types = [op.type for op in model.operations]
        pieces: list[bytes] = []
        # What most operations leave at its default, kept for the others by their index in the window:
        # (data when it cannot be packed, priority, dependencies, conflictResolution, metadata, retryCount).
        self.rare: dict[int, tuple[Any, ...]] = {}
        for index, (op, out) in enumerate(zip(model.operations, dumped, strict=True)):
            unpackable = None
            try:  # msgspec's bytes are their exact size; orjson's keep a 4 KiB buffer each
                piece = msgspec.json.encode(out["data"])
            except (OverflowError, TypeError):  # an integer beyond what JSON readers take back exactly
                piece, unpackable = b"", out["data"]
            pieces.append(piece)
            deps, meta = op.dependencies, op.metadata
            plain = not (op.priority or deps or op.conflict_resolution or meta or op.retry_count)
            if unpackable is not None or not plain:
                self.rare[index] = (
                    unpackable,
                    op.priority,
                    list(deps) or NONE,
                    op.conflict_resolution,
                    meta or EMPTY,
                    op.retry_count,
                )
        self.data = b"".join(pieces)
        self.ends = list(itertools.accumulate(map(len, pieces)))

    def unpack(self) -> list[Operation]:
        operations: list[Operation] = []
        begin = 0
        ids = self.ids.split("\0")
        for index, (op_id, op_type, end) in enumerate(zip(ids, self.types, self.ends, strict=True)):
            data, priority, dependencies, resolution, metadata, retries = self.rare.get(index, _DEFAULTS)
            operations.append(
                Operation(
                    op_id,
                    op_type,
                    self.data[begin:end] if data is None else data,
                    priority,
                    dependencies,
                    resolution,
                    self.start + index,
                    metadata,
                    retries,
                )
            )
            begin = end
        return operations


_DEFAULTS = (None, 0, NONE, None, EMPTY, 0)


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, types included (True is not 1, 1.0 is not 1, "1" is not 1)."""
    try:  # in C: orjson writes 1.0, 1, true and "1" apart, and sorted keys ignore their order
        return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # beyond orjson (an integer past 64 bits): compare here
        pass
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    return a == b
