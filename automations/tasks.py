"""RQ entry points: thin, they take ids and call a service."""

from __future__ import annotations

from typing import Any

from automations.triggers import restriction_react


def restriction_job(restriction_id: int, occasion: str = "") -> dict[str, Any]:
    """React to a restriction being saved (or reaching its effective date)."""
    return restriction_react(restriction_id=restriction_id, occasion=occasion)


def tick_job() -> list[dict[str, Any]]:
    """The periodic tick (RQ cron, see `automation_cron`): fire due schedules, and on the club's new day
    react to restrictions reaching their effective date."""
    from django.utils import timezone

    from automations.schedules import automation_tick
    from automations.triggers import restrictions_taking_effect_once

    runs = automation_tick()
    restrictions_taking_effect_once(now=timezone.now())
    return runs


def player_joined_job(player_id: int) -> list[dict[str, Any]]:
    """Run the team's "player joined" recipes for a new player."""
    from automations.triggers import player_joined

    return player_joined(player_id=player_id)
