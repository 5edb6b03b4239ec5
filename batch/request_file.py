"""Read a request file (or standard input) into JSON values, refusing what no request can be.

The exchange-format checks live in batch/request.py; this is the layer below them: the bytes must be
a regular file of bounded size, UTF-8 (a BOM is tolerated), strict JSON (no NaN or Infinity, no number
too large to be one), and nested no deeper than any request needs. Each refusal is one sentence.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

# 100,000 operations of a few hundred bytes each fit comfortably.
MAX_BYTES = 128 * 1024 * 1024
# The deepest request (operation -> data -> assignments -> entry -> $ref) is well under this.
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 30


class RequestFileError(Exception):
    """The file cannot be a request; the message says why in one line."""


def read_request_file(path: str) -> Any:
    """Return the JSON value in the file at path ('-' for standard input); RequestFileError if none."""
    name = "standard input" if path == "-" else path
    return parse_request_bytes(_read(path, name), name=name)


def _read(path: str, name: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        target = Path(path)
        try:
            # Only regular files: a FIFO would block forever, /dev/zero never ends.
            if not target.is_file():
                reason = "is a directory" if target.is_dir() else "is not a regular file"
                raise RequestFileError(
                    f"cannot read {name}: it {reason}" if target.exists() else f"no such file: {name}"
                )
            with target.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise RequestFileError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise RequestFileError(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def parse_request_bytes(data: bytes, *, name: str = "the request") -> Any:
    """Return the JSON value of data; RequestFileError with a one-line reason when it is not one."""
    if not data.strip():
        raise RequestFileError(f"{name} is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestFileError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise RequestFileError(
            f"{name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise RequestFileError(f"{name} is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # raised by the number hooks below
        raise RequestFileError(f"{name} is not a valid request: {exc}") from exc
    _check_depth(value, name)
    return value


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _int(token: str) -> int:
    if len(token.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"the number {token[:12]}… has more than {MAX_NUMBER_DIGITS} digits")
    return int(token)


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"the number {token[:20]} is out of range")
    return value


def _check_depth(value: Any, name: str) -> None:
    """Refuse containers nested deeper than MAX_DEPTH (without recursion: a deep value must not crash)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RequestFileError(f"{name} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(current, dict):
            stack.extend((inner, depth + 1) for inner in current.values() if isinstance(inner, dict | list))
        elif isinstance(current, list):
            stack.extend((inner, depth + 1) for inner in current if isinstance(inner, dict | list))
