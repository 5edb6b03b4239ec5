"""The audit trail in the admin: read-only, append-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard as RQDashboard

from hockeyhub.forms import AdminLoginForm
from hockeyhub.models import AuditEvent

admin.site.site_header = "HockeyHub administration"
admin.site.site_title = "HockeyHub admin"
admin.site.index_title = "Club data"
admin.site.login_form = AdminLoginForm


class RQDashboardAdmin(QueueAdmin):
    """django-rq's dashboard entry is a model without a table: its object pages (/<id>/change/,
    /delete/, /history/) would query the missing table. There is no such object, so say so."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> None:
        return None


if admin.site.is_registered(RQDashboard):
    admin.site.unregister(RQDashboard)
    admin.site.register(RQDashboard, RQDashboardAdmin)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records only the app writes (logs, imports, runs): staff may look, never add or edit, since an
    edit here would bypass the service that keeps them true."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "actor_username", "action", "object_type", "object_id", "team", "channel"]
    list_filter = ["action", "channel", "team", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "actor__username", "object_type", "=object_id", "purpose"]
    list_select_related = ["team"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
