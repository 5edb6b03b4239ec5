"""The "API tokens" page: create a personal token (its secret is shown once) and revoke tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import TokenForm
from api.selectors import tokens_for_user
from api.services import api_token_create, api_token_revoke
from hockeyhub.once import show_once, take_once
from workouts.selectors import team_for_user, teams_for_user


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    teams = list(teams_for_user(user=request.user).order_by("name"))
    form = TokenForm(request.POST or None, teams=teams)
    created_secret = take_once(request, "api-token") if request.method == "GET" else None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            team = team_for_user(user=request.user, slug=form.cleaned_data["team"])
            days = form.cleaned_data["expires_in_days"]
            expires = timezone.now() + dt.timedelta(days=days) if days else None
            try:
                _, secret = api_token_create(
                    user=request.user, team=team, name=form.cleaned_data["name"], expires_at=expires
                )
            except (ValueError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
                status = 422
            else:
                show_once(request, "api-token", secret)
                return redirect("api:tokens")
        else:
            status = 422
    context = {
        "form": form,
        "tokens": tokens_for_user(user=request.user),
        "created_secret": created_secret,
        "now": timezone.now(),
        "team": teams[0] if teams else None,
    }
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may show a secret
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_token_revoke(token_id=token_id, user=request.user)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("api:tokens")
