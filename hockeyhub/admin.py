"""The audit trail in the admin: read-only, append-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hockeyhub.forms import AdminLoginForm
from hockeyhub.models import AuditEvent

admin.site.site_header = "HockeyHub administration"
admin.site.site_title = "HockeyHub admin"
admin.site.index_title = "Club data"
admin.site.login_form = AdminLoginForm


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_username", "action", "object_type", "object_id", "team", "channel"]
    list_filter = ["action", "channel", "team", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "actor__username", "object_type", "=object_id", "purpose"]
    list_select_related = ["team"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
