"""The exchange format as the API documents it: the request body schema and GET /schema."""

from __future__ import annotations

from typing import Any


def request_json_schema() -> dict[str, Any]:
    """JSON Schema of a batch request (operations, options, metadata)."""
    return {
        "title": "BatchRequest",
        "type": "object",
        "required": ["operations"],
        "properties": {
            "operations": {"type": "array", "items": {"type": "object"}, "minItems": 1},
            "options": {"type": "object"},
            "metadata": {"type": "object"},
        },
    }


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": request_json_schema()}},
    }
}
