"""Batches in the admin: status and counters at a glance, a cancel action, and items on their own
read-only changelist (linked from each batch, filtered by it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from batch.models import Batch, BatchItem
from batch.services import batch_cancel


class BatchFilter(admin.SimpleListFilter):
    """Items of one batch (`?batch=ID`). Offers only the chosen batch: a list of all would not scale."""

    title = "batch"
    parameter_name = "batch"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Any value is offered back, so the filter applies (and a malformed one matches nothing).
        value = self.value()
        return [(value, f"Batch {value[:20]}")] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[BatchItem]) -> QuerySet[BatchItem]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(batch_id=int(value))


COUNTER_OF_STATUS = {
    BatchItem.Status.SUCCEEDED: "succeeded",
    BatchItem.Status.FAILED: "failed",
    BatchItem.Status.SKIPPED: "skipped",
    BatchItem.Status.CANCELLED: "cancelled",
    BatchItem.Status.CONFLICT: "conflicted",
}
COUNTABLE_PARAMS = {"batch", "status__exact", "p", "o"}


def counted_items(params: Any) -> int | None:
    """The number of items the list shows, from the batch row; None when the filters need a COUNT."""
    batch_id, status = params.get("batch", ""), params.get("status__exact")
    if not batch_id.isdigit() or set(params) - COUNTABLE_PARAMS:
        return None
    batch = Batch.objects.filter(pk=int(batch_id)).only(*COUNTER_OF_STATUS.values(), "total_items").first()
    if batch is None:
        return 0
    if status is None:
        return batch.total_items
    if status in COUNTER_OF_STATUS:
        return getattr(batch, COUNTER_OF_STATUS[status])
    if status == BatchItem.Status.PENDING:
        return batch.total_items - batch.processed
    return None


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    """Items on their own paginated, read-only changelist, reached from a batch's page (?batch=ID).

    A batch may hold 100,000 items, so: no inline on the batch page, no full-table count, ordering that
    the (batch, seq) index serves, exact search only, and the big JSON columns left out of the list.
    """

    list_display = ["op_id", "batch_link", "seq", "type", "status", "error_code", "attempts", "finished_at"]
    list_display_links = ["op_id"]
    list_filter = [BatchFilter, "status", "type"]
    search_fields = ["=op_id"]
    # The column, not "batch" (which would join and sort by Batch.Meta.ordering): the (batch, seq)
    # unique index serves it, and being unique it needs no tiebreak.
    ordering = ["batch_id", "seq"]
    list_per_page = 50
    show_full_result_count = False
    # Preserving filters costs a URL resolve per row; the batch page links back with its filter anyway.
    preserve_filters = False
    readonly_fields = [
        "batch",
        "chunk",
        "seq",
        "op_id",
        "type",
        "status",
        "priority",
        "dependencies",
        "depends_on",
        "conflict_resolution",
        "attempts",
        "data",
        "result",
        "error",
        "warnings",
        "finished_at",
        "duration_ms",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("data", "result", "warnings", "depends_on")

    def get_paginator(
        self, request: HttpRequest, queryset: Any, per_page: int, *args: Any, **kwargs: Any
    ) -> Any:
        """Count a batch's items from its counters (which move with the items) instead of COUNT(*)
        over up to 100,000 rows, when the list is filtered by batch and at most by status."""
        paginator = super().get_paginator(request, queryset, per_page, *args, **kwargs)
        count = counted_items(request.GET)
        if count is not None:
            paginator.count = count  # Paginator.count is a cached_property: this skips the query
        return paginator

    @admin.display(description="Batch", ordering="batch_id")
    def batch_link(self, obj: BatchItem) -> str:
        url = reverse("admin:batch_batch_change", args=[obj.batch_id])
        return format_html('<a href="{}">{}</a>', url, obj.batch_id)

    @admin.display(description="Error code")
    def error_code(self, obj: BatchItem) -> str:
        return (obj.error or {}).get("code", "") if isinstance(obj.error, dict) else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
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
        "items",
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
        *Batch.COUNTERS,
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
    actions = ["cancel_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        # The change page shows these as links: one join instead of one query each.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "team", "created_by", "undo_of", "retry_of", "medical_check_disabled_by", "cancelled_by"
            )
        )

    @admin.display(description="Items")
    def items(self, obj: Batch) -> str:
        """Links to the item changelist, per outcome, from the batch's counters (no query)."""
        base = reverse("admin:batch_batchitem_changelist")
        links = [format_html('<a href="{}?batch={}">All {} items</a>', base, obj.pk, obj.total_items)]
        for status, count in (
            (BatchItem.Status.FAILED, obj.failed),
            (BatchItem.Status.CONFLICT, obj.conflicted),
            (BatchItem.Status.SKIPPED, obj.skipped),
            (BatchItem.Status.CANCELLED, obj.cancelled),
            (BatchItem.Status.SUCCEEDED, obj.succeeded),
        ):
            if count:
                links.append(
                    format_html(
                        '<a href="{}?batch={}&amp;status__exact={}">{} {}</a>',
                        base,
                        obj.pk,
                        status,
                        count,
                        status.label.lower(),
                    )
                )
        return format_html_join(" · ", "{}", ((link,) for link in links))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Batches are submitted through the engine (web, import, commands), never typed in here.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting here would load and list every item; batch_purge deletes old batches in bulk.
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
