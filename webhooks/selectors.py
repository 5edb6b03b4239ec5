"""Reads for webhooks, scoped by team."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_for_teams(*, team_ids: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(team_id__in=team_ids).select_related("team").order_by("-created_at")


def deliveries_for_endpoint(*, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(endpoint.deliveries.order_by("-created_at", "-id")[:limit])


def callback_registered(*, team: Any, url: str) -> bool:
    return WebhookEndpoint.objects.filter(team=team, url=url).exists()
