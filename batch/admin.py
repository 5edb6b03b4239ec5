"""Batches in the admin: status and counters at a glance, items read-only, and a cancel action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from batch.models import Batch, BatchItem
from batch.services import batch_cancel


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    fields = ["seq", "op_id", "type", "status", "error_code", "attempts", "finished_at", "duration_ms"]
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    # A batch may hold 100,000 items; the inline shows the first page only.
    classes = ["collapse"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("data", "result", "warnings")

    @admin.display(description="Error code")
    def error_code(self, obj: BatchItem) -> str:
        return (obj.error or {}).get("code", "") if isinstance(obj.error, dict) else ""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "kind",
        "team",
        "created_by",
        "created_at",
        "succeeded",
        "failed",
        "skipped",
        "total_items",
        "source",
    ]
    list_filter = ["status", "kind", "team", "source", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "description", "created_by__username", "request_id"]
    list_select_related = ["team", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "team",
        "created_by",
        "kind",
        "status",
        "source",
        "request_id",
        "options",
        "metadata",
        "estimate",
        "error",
        "undo_of",
        "retry_of",
        "medical_check_disabled_by",
        "cancelled_by",
        "total_items",
        "succeeded",
        "failed",
        "skipped",
        "cancelled",
        "conflicted",
        "total_chunks",
        "done_chunks",
        "runner_slots",
        "created_at",
        "queued_at",
        "started_at",
        "last_progress_at",
        "finished_at",
        "cancel_requested_at",
        "undo_deadline",
        "notified_at",
        "purged_at",
    ]
    inlines = [BatchItemInline]
    actions = ["cancel_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Batches are submitted through the engine (web, import, commands), never typed in here.
        return False

    @admin.action(description="Cancel selected batches")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        finished = queryset.exclude(status__in=Batch.ACTIVE_STATUSES).count()
        cancelled = 0
        for batch_id in queryset.filter(status__in=Batch.ACTIVE_STATUSES).values_list("pk", flat=True):
            try:
                batch_cancel(batch_id=batch_id, user=request.user, channel="admin")
            except Exception as exc:  # report every batch, don't stop at the first
                self.message_user(request, f"Batch {batch_id}: {exc}", messages.WARNING)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"Cancel requested for {cancelled} batch(es).", messages.SUCCESS)
        if finished:
            self.message_user(request, f"{finished} batch(es) had already finished.", messages.INFO)
