"""The batch page: live progress (polled until the batch is final), then its results by tab.

Another team's batch is a 404.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django_htmx.http import HttpResponseStopPolling

from batch.forms.pages import ResultsTabForm
from batch.models import Batch, BatchItem
from batch.recovery import batch_nudge
from batch.selectors import Progress, batch_items_for_people, batch_progress, item_names, problem_counts
from batch.selectors.changes import logged_changes
from batch.services import batch_notices_seen
from batch.views.common import (
    force_offered,
    get_batch,
    may_cancel,
    page_offers,
    render_page,
    undo_context,
    visible_batches,
)
from batch.wording import (
    ITEM_STATUS_LABELS,
    batch_outcome,
    headline,
    part_rows,
    plain,
    problem_kinds,
    suggestion,
    warning_kind,
    warning_text,
)
from workouts.selectors import teams_for_user

ITEMS_PAGE_SIZE = 50


def bar_widths(batch: Batch) -> dict[str, int]:
    """Whole-percent widths of the stacked bar's segments (CSS classes w-0…w-100; no inline styles).

    The same four counts as the stats and the banner: succeeded, failed + conflicts, skipped, cancelled.
    """
    total = batch.total_items
    if not total:
        return {"ok": 100 if batch.is_final else 0, "failed": 0, "skipped": 0, "cancelled": 0}
    widths = {
        "ok": 100 * batch.succeeded // total,
        "failed": 100 * (batch.failed + batch.conflicted) // total,
        "skipped": 100 * batch.skipped // total,
        "cancelled": 100 * batch.cancelled // total,
    }
    if batch.is_final and batch.processed >= total:
        # Rounding down must not leave a gap in a finished bar: the largest segment takes the rest.
        largest = max(widths, key=lambda k: widths[k])
        widths[largest] += 100 - sum(widths.values())
    return widths


def undo_report(batch: Batch) -> str:
    """What the last undo of this batch left as it was, in words (from error["undo"])."""
    report = (batch.error or {}).get("undo") or {}
    left = (report.get("conflicts") or 0) + (report.get("failed") or 0) + (report.get("cancelled") or 0)
    if not left:
        return ""
    return (
        f"The undo put back {report.get('reverted') or 0} change{pluralize(report.get('reverted') or 0)} "
        f"and left {left} as {'it is' if left == 1 else 'they are'}: edited by someone since, failed or "
        "cancelled."
    )


def result_rows(batch: Batch, items: list[BatchItem], offers: set[str]) -> list[dict[str, Any]]:
    """Each item with its workout's name and date, its outcome and next step in plain words."""
    names = item_names(items, team_id=batch.team_id)
    workouts = {n.target.id: n.target.name for n in names.values() if n.target.kind == "workout"}
    changes = logged_changes(item_ids=[item.pk for item in items])
    rows = []
    previous = None
    for item in items:
        named = names[item.op_id]
        key = (named.target.kind, named.target.id, named.target.name)
        rows.append(
            {
                "item": item,
                "target": named.target,
                "created": named.created,
                "players": named.players,
                "status_label": ITEM_STATUS_LABELS.get(item.status, item.get_status_display()),
                "headline": headline(item.error),
                "message": plain((item.error or {}).get("message", ""), workouts=workouts),
                "suggestion": suggestion(item.error, offers=offers, workouts=workouts),
                # A succeeded item's warnings say what it did not do: players taken off, dates skipped.
                "warning_kinds": list(dict.fromkeys(warning_kind(item.type, w) for w in item.warnings or [])),
                "warnings": [warning_text(item.type, w, workouts=workouts) for w in item.warnings or []][:5],
                "changes": changes.get(item.pk, ()),
                "parts": part_rows((item.result or {}).get("parts"), workouts=workouts),
                "same_workout": key == previous,
            }
        )
        previous = key
    return rows


def outcome_has_problems(batch: Batch) -> bool:
    """Whether the results lead with problems by kind (anything but a clean run)."""
    return bool(batch.failed or batch.conflicted or batch.skipped or batch.cancelled or batch.warned)


FOLLOW_UP = (
    "id",
    "status",
    "kind",
    "created_at",
    *Batch.COUNTERS,
    "error",
    "finished_at",
)


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_batch(request, batch_id)
    tabs = ResultsTabForm(request.GET)
    if not tabs.is_valid():
        return HttpResponseBadRequest("Bad tab or page.", content_type="text/plain")
    tab = tabs.cleaned_data.get("tab") or "all"
    undo_state = undo_context(batch)
    offers = page_offers(request, batch, undo_state)
    force_of = batch.pk
    if batch.kind == Batch.Kind.UNDO and batch.is_final and batch.undo_of_id:
        # An undo that left edits alone offers forcing them (the force is the original's action).
        original = visible_batches(request).filter(pk=batch.undo_of_id).first()
        if original is not None and force_offered(request, original):
            offers.add("force_undo")
            force_of = original.pk
    context: dict[str, Any] = {
        "batch": batch,
        "team": batch.team,
        "progress": Progress(batch),
        "bars": bar_widths(batch),
        "outcome": batch_outcome(batch),
        "tab": tab,
        "may_cancel": may_cancel(request, batch),
        "offers": offers,
        "force_offered": "force_undo" in offers,
        "force_of": force_of,
        "undo_report": undo_report(batch),
    }
    context.update(undo_state)
    if batch.is_final and batch.notified_at is None and batch.created_by_id == request.user.pk:
        # Opening the batch counts as seeing its end notice.
        batch_notices_seen(user=request.user, batch_ids=[batch.pk])
    if batch.is_final:
        items = batch_items_for_people(batch=batch, status=ResultsTabForm.TABS[tab]).only(
            "op_id", "type", "status", "data", "result", "error", "warnings", "seq"
        )
        if outcome_has_problems(batch):
            context["problem_kinds"] = problem_kinds(problem_counts(batch))
        page = Paginator(items, ITEMS_PAGE_SIZE).get_page(tabs.cleaned_data.get("page"))
        context["items"] = page
        context["item_rows"] = result_rows(batch, list(page.object_list), offers)
        context["tabs"] = [
            (key, label, n)
            for key, label, n, always in (
                ("all", "All", batch.total_items, True),
                ("failed", "Failed", batch.failed, True),
                ("conflicts", "Conflicts", batch.conflicted, False),
                ("skipped", "Skipped", batch.skipped, True),
                ("cancelled", "Cancelled", batch.cancelled, False),
                ("succeeded", "Succeeded", batch.succeeded, True),
            )
            if always or n or key == tab
        ]
    for name, related in (("undos", batch.undos), ("retries", batch.retries), ("resumes", batch.resumes)):
        context[name] = [
            {"batch": b, "outcome": batch_outcome(b)}
            for b in related.order_by("-created_at").only(*FOLLOW_UP)[:5]
        ]
    return render_page(request, "batch/detail.html", "results", context)


@login_required
def batch_progress_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The progress partial, polled every second; HTTP 286 stops the poll once the batch is final.

    One query for the batch row (plus the session and user lookups).
    """
    structlog.contextvars.bind_contextvars(batch_id=batch_id)
    try:
        progress = batch_progress(batch_id=batch_id, team_ids=teams_for_user(user=request.user).values("pk"))
    except Batch.DoesNotExist as exc:
        raise Http404("No such batch.") from exc
    context = {
        "batch": progress.batch,
        "progress": progress,
        "outcome": batch_outcome(progress.batch),
        "bars": bar_widths(progress.batch),
        "may_cancel": may_cancel(request, progress.batch),
        # The status line is a live region: it is swapped (and announced) only when the state changed.
        "status_changed": request.GET.get("shown") != progress.batch.status,
    }
    if progress.batch.is_final:
        response = HttpResponseStopPolling(render(request, "batch/detail.html#progress", context).content)
        # The page shows results once final: reload it so they appear (also in other tabs).
        response["HX-Refresh"] = "true"
        return response
    batch_nudge(progress.batch)  # no query unless the batch made no progress for BATCH_STALL_SECONDS
    return render(request, "batch/detail.html#progress", context)
