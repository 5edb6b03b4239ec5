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

import ctypes
import hashlib
import json
import math
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

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


def read_request_body(path: str) -> RequestBody | Any:
    """Like `read_request_file`, for a request that may be large: a `RequestBody` whose operations stay
    bytes until they are read a window at a time (see `parse_request_body`)."""
    name = "standard input" if path == "-" else path
    return parse_request_body(_read(path, name), name=name)


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


class _Envelope(msgspec.Struct):
    operations: list[msgspec.Raw]


# What the lazy reading cannot judge alone: a NUL escape, or a run of digits long enough to be a number
# over MAX_NUMBER_DIGITS. Either sends the bytes through `parse_request_bytes` for its exact answer.
_SUSPECT = re.compile(rb"\\u0000|[0-9]{%d}" % (MAX_NUMBER_DIGITS + 1))


class RequestBody:
    """A request read from bytes without building it: the envelope (options, metadata) decoded, each
    operation kept as its slice of the bytes (a msgspec.Raw, a few dozen bytes of bookkeeping). A
    100,000-operation request is validated and stored a window at a time (batch.request), so its
    operations never all live as Python objects at once.

    Read in two passes. `prepare` reads every window once: it checks it as `parse_request_bytes` would,
    asks the caller whether it must be read whole (the guide's looser shapes), adds it to the payload
    digest and keeps the window's bytes alone; then it lets go of the file and its slices. `window`
    hands each window out once and lets go of its bytes, so the memory of the request shrinks as the
    operations it becomes grow.

    Built only from bytes the lazy checks passed: valid UTF-8 JSON with no NaN, no NUL, no lone
    surrogate (msgspec refuses them) and no over-long number. Depth is checked per window.
    """

    __slots__ = (
        "_count",
        "_digest",
        "_size",
        "_windows",
        "bare",
        "data",
        "envelope",
        "name",
        "operations",
    )

    def __init__(
        self, *, data: bytes, name: str, envelope: dict[str, Any], operations: list[Any], bare: bool
    ):
        self.data = data
        self.name = name
        self.envelope = envelope
        self.operations = operations
        self.bare = bare
        self._digest: str | None = None
        self._windows: list[bytes | None] | None = None
        self._size = 0
        self._count = len(operations)

    def __len__(self) -> int:
        return self._count

    def prepare(self, *, size: int, read_whole: Callable[[list[Any]], bool]) -> bool:
        """Read every window of `size` operations once: check it (RequestContentError), and return True
        as soon as `read_whole` says one must be read with the whole request (then nothing is let go:
        `value` reads it). Otherwise keep each window's bytes, the payload digest, and nothing more of
        the file, and return False. Call it once the envelope is final (its digest is taken here)."""
        digest = _Digest(self)
        windows: list[bytes | None] = []
        for start in range(0, len(self), size):
            piece = b"[" + b",".join(bytes(op) for op in self.operations[start : start + size]) + b"]"
            ops = self._decode(piece)
            if read_whole(ops):
                return True
            digest.add(ops)
            windows.append(piece)
        self._digest = digest.hexdigest()
        self._windows, self._size = windows, size
        self.data = b""
        self.operations = []
        give_back()
        return False

    def window(self, start: int, stop: int) -> list[Any]:
        """The operations [start:stop] as Python values, checked as `parse_request_bytes` checks them.
        After `prepare`, each window (start a multiple of its size) is handed out once."""
        if self._windows is not None:
            index = start // self._size
            piece, self._windows[index] = self._windows[index], None
            if piece is None or start % self._size or stop - start != self._size:
                raise RuntimeError(f"window {start}:{stop} of a prepared request was not read in order")
            ops = msgspec.json.decode(piece)
            del piece
            give_back()  # the window's bytes, as the operations built from it take their place
            return ops
        return self._decode(b"[" + b",".join(bytes(op) for op in self.operations[start:stop]) + b"]")

    def _decode(self, piece: bytes) -> list[Any]:
        try:
            ops = msgspec.json.decode(piece)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            self.value()  # raises with the exact reason
            raise RequestContentError(f"{self.name} is not a valid request: {exc}") from exc
        # An operation with fewer brackets than the levels left cannot be too deep: walk only others.
        if piece.count(b"{") + piece.count(b"[") > MAX_DEPTH - 3:
            for op in ops:
                _check_values(op, self.name, depth=3, strings=False)  # operations[i] is at depth 3
        return ops

    def digest(self) -> str:
        """The SHA-256 of the request's canonical JSON (`payload_digest`), a window at a time."""
        if self._digest is None:
            digest = _Digest(self)
            for start in range(0, len(self), DIGEST_WINDOW):
                digest.add(self.window(start, start + DIGEST_WINDOW))
            self._digest = digest.hexdigest()
        return self._digest

    def release(self) -> None:
        """Drop what is left of the bytes once the request is parsed (its digest kept)."""
        self.digest()
        self.data = b""
        self.operations = []
        self._windows = None
        give_back()

    def value(self) -> Any:
        """The whole request as Python values (for the rare shapes read as a whole), with the envelope
        as it is now (a caller may have set metadata.requestId from a header). Not after `prepare`."""
        if not self.data:
            raise RuntimeError("the request's bytes were let go: read it whole before prepare()")
        whole = parse_request_bytes(self.data, name=self.name)
        return {**whole, **self.envelope} if isinstance(whole, dict) else whole


class _Digest:
    """The SHA-256 of a RequestBody's canonical JSON, fed its operations window by window: the same
    digest as `payload_digest` of its whole value (keys sorted, `operations` in its place among them)."""

    def __init__(self, body: RequestBody) -> None:
        self.hash = hashlib.sha256()
        self.first = True
        self.after = b"]"
        if body.bare:
            self.hash.update(b"[")
            return
        keys = sorted({*body.envelope, "operations"})
        at = keys.index("operations")
        self.hash.update(
            b"{" + b"".join(canonical(key) + b":" + canonical(body.envelope[key]) + b"," for key in keys[:at])
        )
        self.hash.update(b'"operations":[')
        self.after = (
            b"]"
            + b"".join(b"," + canonical(key) + b":" + canonical(body.envelope[key]) for key in keys[at + 1 :])
            + b"}"
        )

    def add(self, ops: list[Any]) -> None:
        if ops:
            self.hash.update((b"" if self.first else b",") + canonical(ops)[1:-1])
            self.first = False

    def hexdigest(self) -> str:
        self.hash.update(self.after)
        return self.hash.hexdigest()


DIGEST_WINDOW = 2000

try:  # glibc's; elsewhere freed memory goes back on the allocator's own terms
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (AttributeError, OSError):
    _malloc_trim = None


def give_back() -> None:
    """Hand the memory a large request's bytes were freed from back to the system. A freed window's
    bytes leave holes in the C heap that the many small objects built next never fill; without this a
    100,000-operation submit kept about 10 MB of them to the end of its run."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def canonical(value: Any) -> bytes:
    """A value's canonical JSON: keys sorted, no spaces (msgspec); non-JSON values as their text."""
    return msgspec.json.encode(value, order="sorted", enc_hook=str)


def payload_digest(raw: Any) -> str:
    """The SHA-256 of a request's canonical JSON (key order and spacing do not matter); a RequestBody
    hashes to the digest of its whole value."""
    if isinstance(raw, RequestBody):
        return raw.digest()
    return hashlib.sha256(canonical(raw)).hexdigest()


def parse_request_body(data: bytes, *, name: str = "the request") -> RequestBody | Any:
    """Return a `RequestBody` for a request object or bare array of operations; the value of
    `parse_request_bytes` for anything else, or when the bytes need its exact checks."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _SUSPECT.search(body) is None and _is_utf8(body):
        try:
            if body.lstrip()[:1] == b"[":
                operations = msgspec.json.decode(body, type=list[msgspec.Raw])
                return RequestBody(data=data, name=name, envelope={}, operations=operations, bare=True)
            if body.lstrip()[:1] == b"{":
                top = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
                raw_ops = top.pop("operations", None)
                if raw_ops is not None:  # not an array: msgspec refuses it below, the whole reader says why
                    envelope = {key: msgspec.json.decode(value) for key, value in top.items()}
                    _check_values(envelope, name, strings=False)
                    operations = msgspec.json.decode(raw_ops, type=list[msgspec.Raw])
                    return RequestBody(
                        data=data, name=name, envelope=envelope, operations=operations, bare=False
                    )
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            pass  # parse_request_bytes says exactly what is wrong
    return parse_request_bytes(data, name=name)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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


def _check_values(value: Any, name: str, *, depth: int = 1, strings: bool = True) -> None:
    """Refuse containers nested deeper than MAX_DEPTH and strings (keys too) PostgreSQL cannot store.

    One walk without recursion (a deep value must not crash); the path of a bad string is looked up
    only when there is one. `strings=False` checks depth only (bytes msgspec decoded hold no lone
    surrogate, and `_SUSPECT` found no NUL in them); `depth` is the value's own depth in the request.
    """
    stack: list[tuple[Any, int]] = [(value, depth)]
    bad = UNSTORABLE.search if strings else _never
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


def _never(_text: str) -> None:
    return None


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
