"""Webhook endpoints and their delivery log in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import new_secret, webhook_redeliver
from webhooks.ssrf import UnsafeTarget, check_url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "team", "events", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["url", "description"]
    list_select_related = ["team", "created_by"]
    exclude = ["secret"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        try:
            check_url(obj.url)
        except UnsafeTarget as exc:
            messages.error(request, f"Not saved: {exc.message}")
            return
        if not change:
            obj.secret = new_secret()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(request, f"Signing secret: {obj.secret} — copy it now; it is not shown again.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "batch", "status", "attempts", "response_status"]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint", "batch"]
    actions = ["redeliver"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Redeliver selected events")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("endpoint__team"):
            webhook_redeliver(delivery=delivery, user=request.user)
        self.message_user(request, f"Queued {queryset.count()} delivery(ies) again.", messages.SUCCESS)
