"""The one bounded reader of request bodies: files and standard input (batch_run), API bodies and
uploaded imports all go through `parse_request_bytes`, refusing what no request can be.

The exchange-format checks live in batch/request.py; this is the layer below them, run before any
query: the bytes must be of bounded size, UTF-8 (a BOM is tolerated), strict JSON (no NaN or
Infinity, no number with more than MAX_NUMBER_DIGITS digits), nested no deeper than any request needs,
and hold no string PostgreSQL cannot store (NUL, a lone UTF-16 surrogate from a `\\udXXX` escape),
keys included. Each refusal is one sentence; `RequestContentError` marks the ones about content
(answered 422 by the API) as opposed to bytes that are not JSON at all (400).
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

# 100,000 operations of a few hundred bytes each fit comfortably.
MAX_BYTES = 128 * 1024 * 1024
# The deepest request (operation -> data -> assignments -> entry -> $ref) is well under this.
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 30


class RequestFileError(Exception):
    """The file cannot be a request; the message says why in one line."""


class RequestContentError(RequestFileError):
    """Valid JSON that no request can hold: too deep, a number too long, NUL or a lone surrogate."""


UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")


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
        raise RequestContentError(f"{name} is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # raised by the number hooks below
        raise RequestContentError(f"{name} is not a valid request: {exc}") from exc
    _check_values(value, name)
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


def _check_values(value: Any, name: str) -> None:
    """Refuse containers nested deeper than MAX_DEPTH and strings (keys too) PostgreSQL cannot store.

    One walk without recursion (a deep value must not crash); the path of a bad string is looked up
    only when there is one.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    bad = UNSTORABLE.search
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RequestContentError(f"{name} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(current, dict):
            for key, inner in current.items():
                if bad(key):
                    _refuse_string(key, value, name)
                if isinstance(inner, str):
                    if bad(inner):
                        _refuse_string(inner, value, name)
                elif isinstance(inner, dict | list):
                    stack.append((inner, depth + 1))
        elif isinstance(current, list):
            for inner in current:
                if isinstance(inner, str):
                    if bad(inner):
                        _refuse_string(inner, value, name)
                elif isinstance(inner, dict | list):
                    stack.append((inner, depth + 1))
        elif isinstance(current, str) and bad(current):
            _refuse_string(current, value, name)


def _refuse_string(text: str, root: Any, name: str) -> None:
    match = UNSTORABLE.search(text)
    what = (
        "a NUL character (\\u0000)"
        if match is None or match.group() == "\x00"
        else f"a lone surrogate (\\u{ord(match.group()):04x}), which is not a character"
    )
    where = _path_of(root, text)
    raise RequestContentError(f"{name} contains {what}{f' at {where}' if where else ''}")


def _path_of(root: Any, text: str) -> str:
    """Return where text sits in root (`operations[3].id`), as a key or a value; '' at the top."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, dict):
            for key, inner in current.items():
                here = f"{path}.{key}" if path else str(key)
                if key == text or inner == text:
                    return printable(here)
                stack.append((inner, here))
        elif isinstance(current, list):
            for index, inner in enumerate(current):
                if inner == text:
                    return printable(f"{path}[{index}]")
                stack.append((inner, f"{path}[{index}]"))
    return ""


def printable(text: Any) -> str:
    """Return text safe to print on a terminal: control and format characters (newlines, escapes,
    bidi overrides), lone surrogates and backslashes escaped, so a value cannot forge output lines."""
    out = []
    for char in str(text):
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(char)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            else:
                out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)
