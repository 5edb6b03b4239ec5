"""The one CSV cell escaper: every CSV the app writes (results pages, the API's export, the medical
export) passes each cell through `csv_safe`, so a spreadsheet never runs a value as a formula."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# OWASP's list: a leading =, +, -, @ starts a formula; tab and CR hide one at the start of a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (=, +, -, @, and tab/CR starts)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number is never a formula; -5 stays a number
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_safe_row(values: Iterable[Any]) -> list[str]:
    return [csv_safe(v) for v in values]
