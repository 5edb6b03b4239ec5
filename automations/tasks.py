"""RQ entry points: thin, they take ids and call a service."""

from __future__ import annotations

from typing import Any

from automations.triggers import restriction_react


def restriction_job(restriction_id: int, occasion: str = "") -> dict[str, Any]:
    """React to a restriction being saved (or reaching its effective date)."""
    return restriction_react(restriction_id=restriction_id, occasion=occasion)
