"""/api/v1/webhooks: register (the secret is answered once), list, delete, deliveries, redeliver."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from api.auth import principal
from api.pagination import PageQuery, keyset_page
from api.problems import refusal
from api.schemas import DeliveryOut, DeliveryPage, Problem, WebhookCreated, WebhookIn, WebhookOut, WebhookPage
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import endpoints_for_teams
from webhooks.services import (
    WebhookRefused,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_redeliver,
)

router = Router(tags=["webhooks"])
ERRORS = frozenset({400, 401, 403, 404, 409, 422, 429})


def get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    teams = principal(request).teams().values("pk")
    return get_object_or_404(endpoints_for_teams(team_ids=teams), pk=endpoint_id)


@router.post(
    "/webhooks",
    response={201: WebhookCreated, ERRORS: Problem},
    summary="Register an endpoint; the answer carries its signing secret, once",
)
def create(request: HttpRequest, payload: WebhookIn, team: str | None = None):
    who = principal(request)
    target_team = who.team(team)
    try:
        endpoint = webhook_endpoint_create(
            user=who.user,
            team=target_team,
            url=payload.url,
            events=payload.events,
            description=payload.description,
            channel="api",
        )
    except WebhookRefused as exc:
        status = 409 if "already registered" in exc.message else 422
        raise refusal(status, "WEBHOOK_REFUSED", exc.message, field=exc.field) from None
    return Status(201, endpoint)


@router.get("/webhooks", response={200: WebhookPage, ERRORS: Problem}, summary="The team's endpoints")
def index(request: HttpRequest, page: Query[PageQuery]):
    qs = endpoints_for_teams(team_ids=principal(request).teams().values("pk"))
    return keyset_page(qs, page)


@router.get(
    "/webhooks/{int:endpoint_id}", response={200: WebhookOut, ERRORS: Problem}, summary="One endpoint"
)
def show(request: HttpRequest, endpoint_id: int):
    return get_endpoint(request, endpoint_id)


@router.delete(
    "/webhooks/{int:endpoint_id}", response={204: None, ERRORS: Problem}, summary="Delete an endpoint"
)
def delete(request: HttpRequest, endpoint_id: int):
    endpoint = get_endpoint(request, endpoint_id)
    webhook_endpoint_delete(user=principal(request).user, endpoint=endpoint, channel="api")
    return Status(204, None)


@router.get(
    "/webhooks/{int:endpoint_id}/deliveries",
    response={200: DeliveryPage, ERRORS: Problem},
    summary="The endpoint's delivery log, newest first",
)
def deliveries(request: HttpRequest, endpoint_id: int, page: Query[PageQuery]):
    endpoint = get_endpoint(request, endpoint_id)
    return keyset_page(endpoint.deliveries.all(), page)


@router.post(
    "/webhooks/{int:endpoint_id}/deliveries/{int:delivery_id}/redeliver",
    response={202: DeliveryOut, ERRORS: Problem},
    summary="Send a delivery's event again (a new delivery with a new webhook-id)",
)
def redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int):
    endpoint = get_endpoint(request, endpoint_id)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint__team"), pk=delivery_id, endpoint=endpoint
    )
    again = webhook_redeliver(delivery=delivery, user=principal(request).user)
    return Status(202, again)
