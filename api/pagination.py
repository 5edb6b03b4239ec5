"""Cursor pagination: an opaque cursor names the last row seen; pages never skip or repeat rows
when new batches arrive (keyset on a unique, ordered key)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

DEFAULT_LIMIT = 50
BIGINT_MAX = 2**63 - 1  # a key or offset past this cannot reach PostgreSQL


class PageQuery(Schema):
    """Where a list page starts (a cursor this API gave out) and how many rows it holds."""

    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=200)


class TeamPageQuery(PageQuery):
    team: str | None = Field(None, max_length=60, description="Team slug (a token is bound to its team)")


def _position(value: Any) -> bool:
    """A cursor's value: a non-negative integer that fits a bigint."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= BIGINT_MAX


def bad_cursor() -> Exception:
    from api.problems import ApiProblem

    return ApiProblem(400, "BAD_CURSOR", "The cursor is not one this API gave out; start again without it.")


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": value}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return data["k"]
    except (ValueError, KeyError, TypeError):
        raise bad_cursor() from None


def keyset_page(
    qs: QuerySet[Any],
    page: PageQuery,
    *,
    present: Callable[[Sequence[Any]], list[Any]] = list,
    key: str = "id",
    descending: bool = True,
) -> dict[str, Any]:
    """Return {data, hasMore, nextCursor} of rows after the cursor, ordered by a unique integer key
    (by default the id, newest first)."""
    limit = page.limit
    after = decode_cursor(page.cursor)
    if after is not None:
        if not _position(after):
            raise bad_cursor()
        qs = qs.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
    rows = list(qs.order_by(f"-{key}" if descending else key)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": present(rows),
        "hasMore": more,
        "nextCursor": encode_cursor(getattr(rows[-1], key)) if more else None,
    }


def offset_page(
    qs: QuerySet[Any], page: PageQuery, *, present: Callable[[Sequence[Any]], list[Any]] = list
) -> dict[str, Any]:
    """Cursor over an offset, for lists sorted by a user-chosen column (workouts, players, templates)."""
    limit = page.limit
    offset = decode_cursor(page.cursor) or 0
    if not _position(offset) or offset + limit + 1 > BIGINT_MAX:
        raise bad_cursor()
    rows = list(qs[offset : offset + limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": present(rows),
        "hasMore": more,
        "nextCursor": encode_cursor(offset + limit) if more else None,
    }
