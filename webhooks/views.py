"""The webhooks page: a team's endpoints (the secret is shown once), their delivery log, redelivery."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from hockeyhub.once import show_once, take_once
from webhooks.forms import EndpointForm
from webhooks.models import WebhookDelivery
from webhooks.selectors import deliveries_for_endpoint, endpoints_for_teams
from webhooks.services import (
    WebhookRefused,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_redeliver,
)
from workouts.selectors import team_for_user, teams_for_user


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team") or request.POST.get("team"))
    form = EndpointForm(request.POST or None)
    created = take_once(request, "webhook-secret") if request.method == "GET" else None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = webhook_endpoint_create(
                    user=request.user,
                    team=team,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                )
            except WebhookRefused as exc:
                form.add_error("events" if exc.field == "events" else "url", exc.message)
                status = 422
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                show_once(request, "webhook-secret", {"url": created.url, "secret": created.secret})
                return redirect(f"{reverse('webhooks:list')}?team={team.slug}")
        else:
            status = 422
    endpoints = [
        {"endpoint": e, "deliveries": deliveries_for_endpoint(endpoint=e, limit=10)}
        for e in endpoints_for_teams(team_ids=[team.pk])
    ]
    context = {"team": team, "form": form, "endpoints": endpoints, "created": created}
    response = render(request, "webhooks/list.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may show a secret
    return response


def _endpoint(request: HttpRequest, endpoint_id: int):
    return get_object_or_404(
        endpoints_for_teams(team_ids=teams_for_user(user=request.user).values("pk")), pk=endpoint_id
    )


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    team = endpoint.team
    webhook_endpoint_delete(user=request.user, endpoint=endpoint)
    messages.success(request, f"Webhook endpoint {endpoint.url} deleted.")
    return redirect(f"{reverse('webhooks:list')}?team={team.slug}")


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, endpoint=endpoint)
    again = webhook_redeliver(delivery=delivery, user=request.user)
    messages.success(request, f"{delivery.event} queued again for {endpoint.url} ({again.msg_id}).")
    return redirect(f"{reverse('webhooks:list')}?team={endpoint.team.slug}")
