"""Admin for staff: recipes, schedules and their runs, restriction reactions, notices (read-only logs)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from automations.models import Notice, Recipe, RestrictionReaction, Schedule, ScheduleRun
from hockeyhub.admin import ViewOnlyAdmin


class ScheduleInline(admin.TabularInline):
    model = Schedule
    fields = ("rrule", "start", "missed", "paused", "owner", "next_run_at")
    readonly_fields = ("next_run_at",)
    raw_id_fields = ("owner",)
    extra = 0


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "version", "builtin", "created_by", "updated_at")
    list_filter = ("team",)
    search_fields = ("name",)
    raw_id_fields = ("created_by", "source_batch")
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = [ScheduleInline]
    list_select_related = ("team", "created_by")


class RunInline(admin.TabularInline):
    model = ScheduleRun
    fields = ("occurrence", "status", "batch", "recipe_version", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-occurrence",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("recipe", "rrule", "missed", "paused", "next_run_at", "last_occurrence")
    list_filter = ("paused", "missed")
    raw_id_fields = ("recipe", "owner")
    readonly_fields = ("last_occurrence", "next_run_at", "created_at")
    inlines = [RunInline]
    list_select_related = ("recipe",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """`?start=` from a link is text: parsed, or dropped when it is no instant (the split date and
        time widget cannot show text, and a malformed link must not answer 500)."""
        initial = super().get_changeform_initial_data(request)
        if "start" in initial:
            try:
                initial["start"] = forms.DateTimeField().clean(initial["start"])
            except (forms.ValidationError, TypeError, ValueError, OverflowError):
                del initial["start"]
        return initial


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ViewOnlyAdmin):
    list_display = ("schedule", "occurrence", "status", "batch", "recipe_version")
    list_filter = ("status",)
    date_hierarchy = "occurrence"


@admin.register(RestrictionReaction)
class RestrictionReactionAdmin(ViewOnlyAdmin):
    list_display = ("restriction", "team", "key", "outcome", "batch", "created_at")
    list_filter = ("outcome", "team")


@admin.register(Notice)
class NoticeAdmin(ViewOnlyAdmin):
    list_display = ("title", "user", "team", "batch", "created_at", "seen_at")
    list_filter = ("team",)
