"""Admin: imported calendars with their events; feed tokens (players' links live here)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from calendars.models import BusyEvent, FeedToken, ImportedCalendar
from calendars.services import feed_token_revoke
from calendars.tokens import feed_path
from hockeyhub.admin import ViewOnlyAdmin


class BusyEventInline(admin.TabularInline):
    model = BusyEvent
    extra = 0
    fields = ("title", "start", "end", "all_day", "location", "uid", "instance")
    readonly_fields = fields
    can_delete = False
    show_change_link = False
    max_num = 0

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).order_by("start")


@admin.register(ImportedCalendar)
class ImportedCalendarAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # imported on the Calendars page, with manage.py calendar_import or the API

    list_display = ("name", "team", "facility", "source", "last_synced_at", "last_error")
    list_filter = ("source", "team", "facility")
    search_fields = ("name",)
    readonly_fields = ("etag", "last_synced_at", "last_error", "created_by", "created_at", "updated_at")
    list_select_related = ("team", "facility")
    inlines = [BusyEventInline]


@admin.register(BusyEvent)
class BusyEventAdmin(ViewOnlyAdmin):
    """Busy events are what the last import said: an edit here would be undone by the next one."""

    list_display = ("title", "start", "end", "all_day", "calendar")
    list_filter = ("all_day", "calendar")
    search_fields = ("title", "uid")
    date_hierarchy = "start"
    list_select_related = ("calendar",)
    raw_id_fields = ("calendar",)


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "team", "created_at", "revoked_at")
    list_filter = ("kind", "team", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("player__first_name", "player__last_name", "facility__name", "team__name")
    list_select_related = ("team", "player", "facility")
    fields = ("kind", "team", "player", "facility", "link", "created_by", "created_at", "revoked_at")
    readonly_fields = ("link", "created_by", "created_at", "revoked_at", "kind", "team", "player", "facility")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made on the Calendars page or with manage.py calendar_feed_url

    @admin.display(description="Feed URL")
    def link(self, obj: FeedToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        path = feed_path(obj)
        if path is None:
            return "made under an earlier SECRET_KEY; make a new link"
        return format_html('<a href="{}">{}</a>', path, path)

    @admin.action(description="Revoke the selected feed links")
    def revoke(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for feed in queryset.filter(revoked_at__isnull=True):
            feed_token_revoke(user=request.user, feed=feed, channel="admin")
