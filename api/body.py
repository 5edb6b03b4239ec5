"""Request bodies in the exchange format: read the raw JSON and apply the Idempotency-Key header.

The body is read from the stream here, bounded by MAX_BODY_BYTES (not by Django's form limit,
DATA_UPLOAD_MAX_MEMORY_SIZE, which stays small for the pages), and parsed by the one bounded reader
(batch.request_file): depth, number length, NUL and lone surrogates are refused before any query.
The exchange format's own parser (batch.request) then reports exactly the problems (operation id and
field) that the pages and commands report.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from api.problems import ApiProblem
from batch.errors import RequestProblem
from batch.request_file import (
    RequestBody,
    RequestContentError,
    RequestFileError,
    parse_request_body,
    parse_request_bytes,
)

# The documented maximum, 100,000 operations of a few hundred bytes each, fits with room to spare.
MAX_BODY_BYTES = 64 * 1024 * 1024
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def too_large() -> ApiProblem:
    return ApiProblem(
        413,
        "BODY_TOO_LARGE",
        f"The body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MiB; split the operations over several batches.",
    )


def read_body(request: HttpRequest) -> bytes:
    """Return the raw body, at most MAX_BODY_BYTES (413 past it, decided by Content-Length when sent)."""
    if request.content_type in FORM_TYPES:
        raise ApiProblem(
            415, "UNSUPPORTED_MEDIA_TYPE", "Send the request as JSON (Content-Type: application/json)."
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise too_large()
    # Already read (by the test client or a middleware), else read from the stream, bounded.
    read_before = getattr(request, "_body", None)
    data = read_before if read_before is not None else request.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise too_large()
    return data


def read_json(request: HttpRequest, *, lazy: bool = False) -> Any:
    """Return the body's JSON value; 400 when it is not JSON, 422 when no request can hold it.

    `lazy`: a batch request that may be large comes back as a RequestBody, its operations read a window
    at a time by validation and storage (batch.request_file)."""
    parse = parse_request_body if lazy else parse_request_bytes
    try:
        return parse(read_body(request), name="The body")
    except RequestContentError as exc:
        raise ApiProblem(422, "INVALID_REQUEST", f"{exc}.") from None
    except RequestFileError as exc:
        raise ApiProblem(400, "MALFORMED_JSON", f"{exc}.") from None


def with_idempotency_key(raw: Any, key: str | None) -> Any:
    """Put the Idempotency-Key header into metadata.requestId (they must agree when both are sent)."""
    if isinstance(raw, RequestBody) and not raw.bare and key:
        raw.envelope = with_idempotency_key(raw.envelope, key)
        return raw
    if not key or not isinstance(raw, dict):
        return raw
    metadata = raw.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return raw  # the parser reports the bad metadata
    existing = metadata.get("requestId")
    if existing is not None and existing != key:
        raise ApiProblem(
            422,
            "INVALID_REQUEST",
            "The Idempotency-Key header and metadata.requestId differ; send one, or the same value in both.",
            errors=[
                RequestProblem(
                    "differs from the Idempotency-Key header", field="metadata.requestId"
                ).as_dict()
            ],
        )
    return {**raw, "metadata": {**metadata, "requestId": key}}


class BoundedParser(Parser):
    """django-ninja's body parser for the API's other JSON bodies (webhooks…): the same bounded reader."""

    def parse_body(self, request: HttpRequest) -> Any:
        return read_json(request)
