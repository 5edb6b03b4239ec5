"""/api/v1/schema: the exchange format's JSON Schema, for clients that build requests."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from api.schemas import Problem
from batch.exchange import request_json_schema

router = Router(tags=["meta"])


@router.get(
    "/schema",
    response={200: dict[str, Any], frozenset({401, 429}): Problem},
    summary="JSON Schema of a batch request (the exchange format)",
)
def schema(request: HttpRequest):
    return request_json_schema()
