"""Turn pydantic's validation errors into RequestProblems: the operation id, the field path, plain words."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from batch.errors import RequestProblem
from batch.exchange.envelope import PUBLIC_TYPES

# Where an unknown key sits decides how it is named (and the tests and users know these words).
UNKNOWN_NOUNS = {"": "top-level key", "options": "option", "metadata": "metadata key"}


def problems_from(
    error: ValidationError, raw: Any, root: type[BaseModel], *, offset: int = 0
) -> list[RequestProblem]:
    """Return one problem per error; an operation's errors carry its id and a path inside it.

    `offset`: the error is of a window of the operations starting there (batch.request.windows):
    operation indexes are shifted by it, and errors outside the operations, which every window
    repeats, are reported for the first window only.
    """
    problems = []
    for entry in error.errors(include_url=False, include_input=False):
        loc = list(entry["loc"])
        in_operations = len(loc) >= 2 and loc[0] == "operations" and isinstance(loc[1], int)
        if offset and not in_operations:
            continue
        if in_operations:
            loc[1] += offset
        if entry["type"] == "rule":
            loc.extend(entry["ctx"]["field"].split("."))
        operation_id, field = locate(loc, raw)
        problems.append(
            RequestProblem(message(entry, loc, root), operation_id=operation_id, field=field or None)
        )
    return problems


def locate(loc: list[Any], raw: Any) -> tuple[str | None, str]:
    """Return (operation id, field path) for an error location."""
    if len(loc) >= 2 and loc[0] == "operations" and isinstance(loc[1], int):
        index = loc[1]
        op = raw["operations"][index] if isinstance(raw, dict) else None
        rest = loc[2:]
        if rest and isinstance(op, dict) and rest[0] == op.get("type"):
            rest = rest[1:]  # the discriminator's tag is not a field
        op_id = op.get("id") if isinstance(op, dict) else None
        if isinstance(op_id, str) and op_id.strip() and len(op_id) <= 100 and not _bad_id(rest):
            return op_id, path(rest) or "type"
        return None, path(["operations", index, *rest])
    return None, path(loc)


def _bad_id(rest: list[Any]) -> bool:
    return bool(rest) and rest[0] == "id"


def path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def message(entry: dict[str, Any], loc: list[Any], root: type[BaseModel]) -> str:
    kind = entry["type"]
    ctx = entry.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        parent = loc[:-1]
        noun = UNKNOWN_NOUNS.get(path(parent), "key" if _is_operation(parent) else "field")
        allowed = allowed_keys(root, parent)
        known = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown {noun} {loc[-1]!r}{known}"
    if kind == "union_tag_invalid":
        return f"type must be one of {', '.join(PUBLIC_TYPES)}"
    if kind == "union_tag_not_found":
        return f"type is required: one of {', '.join(PUBLIC_TYPES)}"
    if kind in ("string_type",):
        return "must be a string"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "list_type":
        return "must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be an object"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("' or '", "', '").replace("'", "")
        return f"must be one of {expected}"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} entries"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} {'entry' if ctx['min_length'] == 1 else 'entries'}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']}"
    if kind == "rule":
        return ctx["text"]
    if kind == "recursion_loop":
        return "is nested too deeply"
    return entry["msg"]


def _is_operation(parent: list[Any]) -> bool:
    return len(parent) in (2, 3) and parent[0] == "operations" and isinstance(parent[1], int)


def allowed_keys(root: type[BaseModel], loc: list[Any]) -> list[str]:
    """Return the keys the model at `loc` accepts (best effort: [] when the path is not a model)."""
    annotation: Any = root
    for part in loc:
        model = _model_of(annotation, part)
        if model is not None:
            annotation = model
            continue
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in args if a is not type(None)]
        if len(models) == 1:
            return _unwrap(models[0])
    return annotation


def _model_of(annotation: Any, tag: Any) -> type[BaseModel] | None:
    """For a discriminated union of operations, the member whose `type` is `tag`."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            field = getattr(member, "model_fields", {}).get("type")
            if field is not None and tag in typing.get_args(field.annotation):
                return member
    return None


def _step(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(part, int):
        args = typing.get_args(annotation)
        return args[0] if typing.get_origin(annotation) is list and args else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if (field.alias or name) == part:
                return (
                    field.annotation
                    if not field.metadata
                    else typing.Annotated[field.annotation, *field.metadata]
                )
    return None
