"""Batch definitions uploaded on the web: exchange-format JSON as is, or a CSV of operations.

CSV layout (one operation per row, a header row naming the columns; docs/api.md has an example):

- `id` (required), `type` (required), `dependencies` (ids separated by spaces or `;`), `priority`,
  `conflictResolution`, `metadata` (a JSON object);
- the operation's data, either whole in a `data` column (a JSON object), or one column per field as
  `data.<path>` with dots for nesting (`data.workout.name`, `data.schedule.start`).
- A cell is read as JSON when it is JSON (`42`, `true`, `[1, 2]`, `{"playerId": 3}`, `"007"`), else as
  text; `$ref:<op id>` is a reference to that operation's result; an empty cell is left out.

The request is checked afterwards by the exchange format's parser, like any other request; this
module only turns rows into operations, naming the row and column of anything it cannot read.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from batch.request_file import RequestContentError, RequestFileError, parse_request_bytes

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
KNOWN_COLUMNS = {"id", "type", "dependencies", "priority", "conflictResolution", "metadata", "data"}


class ImportRefused(Exception):
    """The upload cannot be read as a batch definition; `message` says where and why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def request_from_upload(*, name: str, content: bytes, csv_options: dict[str, Any] | None = None) -> Any:
    """Return the raw exchange-format request in an uploaded .json or .csv file.

    A CSV holds only operations: it runs with `csv_options` (the exchange format's camelCase options,
    from the import page's form), or the engine's defaults. A JSON request brings its own options.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise ImportRefused("The file contains NUL characters.")
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped.startswith(("{", "[")):
        # The one bounded reader: depth, number length, NUL and lone surrogates, as the API.
        try:
            return parse_request_bytes(content, name="The file")
        except RequestFileError as exc:
            raise ImportRefused(f"{exc}.") from None
    if name.lower().endswith(".csv") or "," in stripped.split("\n", 1)[0]:
        try:
            operations = operations_from_csv(text)
        except csv.Error as exc:  # a field over csv.field_size_limit(), a stray quote
            raise ImportRefused(f"The CSV cannot be read: {exc}.") from None
        return {
            "operations": operations,
            "options": dict(csv_options or {}),
            "metadata": {"source": "import", "description": f"Import of {name}"[:300]},
        }
    raise ImportRefused("Upload a .json file in the exchange format or a .csv of operations.")


def _cell(value: str, where: str = "a cell") -> Any:
    value = value.strip()
    if value.startswith("$ref:"):
        return {"$ref": value[len("$ref:") :].strip()}
    if not value:
        return value
    try:
        return parse_request_bytes(value.encode(), name=where)
    except RequestContentError as exc:  # JSON, but too deep, a number too long, NUL, a surrogate
        raise ImportRefused(f"{exc}.") from None
    except RequestFileError:
        return value


def _put(target: dict[str, Any], path: list[str], value: Any, where: str) -> None:
    for key in path[:-1]:
        node = target.setdefault(key, {})
        if not isinstance(node, dict):
            raise ImportRefused(f"{where}: {'.'.join(path)} is inside a field that already has a value.")
        target = node
    target[path[-1]] = value


def operations_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "id" not in columns or "type" not in columns:
        raise ImportRefused("The CSV needs a header row with at least the columns id and type.")
    unknown = [c for c in columns if c not in KNOWN_COLUMNS and not c.startswith("data.")]
    if unknown:
        raise ImportRefused(
            f"Unknown column(s) {', '.join(unknown)}; use id, type, dependencies, priority, "
            "conflictResolution, metadata, data, or data.<field>."
        )
    operations = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in row.items() if k is not None}
        if not any(v.strip() for v in row.values()):
            continue
        where = f"row {number}"
        op: dict[str, Any] = {"id": row["id"].strip(), "type": row["type"].strip().upper()}
        data: dict[str, Any] = {}
        if row.get("data", "").strip():
            data = _cell(row["data"], f"{where}, column data,")
            if not isinstance(data, dict):
                raise ImportRefused(f"{where}, column data: must be a JSON object.")
        for column, value in row.items():
            if column.startswith("data.") and value.strip():
                _put(data, column.split(".")[1:], _cell(value, f"{where}, column {column},"), where)
        op["data"] = data
        if row.get("dependencies", "").strip():
            op["dependencies"] = [d for d in row["dependencies"].replace(";", " ").split() if d]
        if row.get("priority", "").strip():
            op["priority"] = _cell(row["priority"], f"{where}, column priority,")
        if row.get("conflictResolution", "").strip():
            op["conflictResolution"] = row["conflictResolution"].strip().upper()
        if row.get("metadata", "").strip():
            op["metadata"] = _cell(row["metadata"], f"{where}, column metadata,")
        operations.append(op)
    if not operations:
        raise ImportRefused("The CSV has no operations (only a header row).")
    return operations
