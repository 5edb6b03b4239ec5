"""The exchange format as the API documents it: its JSON Schema (from the pydantic models in
batch/exchange) becomes the request body of validate and submit, and GET /schema answers it whole."""

from __future__ import annotations

import json
from typing import Any

from batch.exchange import request_json_schema

BODY_SCHEMA = "BatchRequest"


def openapi_components() -> dict[str, Any]:
    """The request schema and its $defs as OpenAPI components (refs rewritten to #/components/schemas)."""
    schema = request_json_schema()
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    rewritten = json.loads(text)
    components = rewritten.pop("$defs", {})
    rewritten.pop("$schema", None)
    components[BODY_SCHEMA] = rewritten
    return components


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A batch request in the exchange format (GET /api/v1/schema answers its JSON Schema).",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{BODY_SCHEMA}"}}},
    }
}
