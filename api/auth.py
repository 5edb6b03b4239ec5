"""Who is calling: a personal API token (Bearer) or the browser session (with CSRF on writes).

Both resolve to a Principal. A token acts as its user within the token's team only; a session sees
every team the user works in, like the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from api.models import ApiToken
from api.selectors import TokenRejected, token_for_secret
from api.services import api_token_touch
from hockeyhub.throttle import token_guess_failed, token_guesses_blocked
from workouts.models import Team
from workouts.selectors import teams_for_user


@dataclass
class Principal:
    user: Any
    token: ApiToken | None = None

    def teams(self) -> QuerySet[Team]:
        """The teams this caller may act in (a token: its team, while its user still works there)."""
        teams = teams_for_user(user=self.user)
        if self.token is not None:
            teams = teams.filter(pk=self.token.team_id)
        return teams

    def team(self, slug: str | None = None) -> Team:
        """The team named by slug, else the token's team or the user's first; 404 if not allowed."""
        teams = self.teams().order_by("name")
        team = teams.filter(slug=slug).first() if slug else teams.first()
        if team is None:
            raise Http404("No such team." if slug else "You do not work in any team.")
        return team

    @property
    def channel(self) -> str:
        return "api"


class BearerAuth(HttpBearer):
    """Authorization: Bearer hh_…; an unknown, revoked or expired token is a 401 (TokenRejected)."""

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        wait = token_guesses_blocked(request)
        if wait:
            from api.problems import ApiProblem

            raise ApiProblem(
                429,
                "TOO_MANY_TOKEN_FAILURES",
                f"Too many wrong tokens from this address; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
                retryAfter=wait,
            )
        try:
            api_token = token_for_secret(token.strip())
        except TokenRejected:
            token_guess_failed(request)
            raise
        api_token_touch(token=api_token)
        request.user = api_token.user  # request logs and audit see who called
        return Principal(user=api_token.user, token=api_token)


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; writes need the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # not logged in: let the 401 say how to authenticate, not a CSRF 403
        if check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the session's token.")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated:
            return None
        return Principal(user=user)


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined,return-value]
