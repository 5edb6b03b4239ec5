"""Request bodies in the exchange format: read the raw JSON and apply the Idempotency-Key header.

The body is parsed by the exchange format's own parser (batch.request), so the API reports exactly
the problems (operation id and field) that the pages and commands report.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest

from api.problems import ApiProblem
from batch.errors import RequestProblem

MAX_BODY_BYTES = 64 * 1024 * 1024


def read_json(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY_BYTES:
        raise ApiProblem(413, "BODY_TOO_LARGE", f"The body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MiB.")
    try:
        raw = json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiProblem(400, "MALFORMED_JSON", f"The body is not valid JSON: {exc}") from None
    if contains_nul(raw):
        raise ApiProblem(422, "INVALID_REQUEST", "NUL characters (\\u0000) are not allowed in strings.")
    return raw


def contains_nul(value: Any) -> bool:
    """PostgreSQL cannot store NUL in text or jsonb: find one anywhere in a parsed body."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


def with_idempotency_key(raw: Any, key: str | None) -> Any:
    """Put the Idempotency-Key header into metadata.requestId (they must agree when both are sent)."""
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
