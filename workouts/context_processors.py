from __future__ import annotations

from django.http import HttpRequest

from workouts.selectors import teams_for_user


def teams(request: HttpRequest) -> dict[str, object]:
    """Expose the user's teams lazily; the query only runs if a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_teams": lambda: list(teams_for_user(user=user))}
