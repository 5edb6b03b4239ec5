"""Batch pages: the operation modal (validate, run), progress, results, history and notifications.

Views are thin: a form parses the input, one service or selector does the work, a template renders.
Another team's batch is a 404.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from batch.errors import ErrorCode, InvalidRequest
from batch.forms import OPERATION_FORMS, OperationForm, OptionsForm, ResultsTabForm
from batch.models import Batch, BatchItem
from batch.quotas import QuotaExceeded
from batch.recovery import batch_nudge
from batch.selectors import Progress, batch_items, batch_progress, batches_for_team
from batch.services import batch_cancel, batch_notices_seen, batch_submit
from batch.undo import BatchActionRefused, batch_retry_failed, batch_undo
from batch.validation import batch_validate
from medical.selectors import player_medical_status
from workouts.selectors import Selection, selected_workouts, team_for_user, teams_for_user

HISTORY_PAGE_SIZE = 25
ITEMS_PAGE_SIZE = 50
ACK_NEEDED = "The dry run had warnings: tick “I have read the warnings” to run anyway."
FORM_ERROR_STATUS = 422  # swapped by htmx (see responseHandling in base.html), shown as form errors


def _visible_batches(request: HttpRequest) -> Any:
    return Batch.objects.filter(team__in=teams_for_user(user=request.user))


def _get_batch(request: HttpRequest, batch_id: int) -> Batch:
    return get_object_or_404(_visible_batches(request).select_related("team", "created_by"), pk=batch_id)


def _render(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    name = f"{template}#{partial}" if request.htmx and not request.htmx.boosted else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Operation modal ---------------------------------------------------------------------------------


def _player_rows(form: OperationForm, team: Any) -> list[dict[str, Any]]:
    """Players with their medical badge (one query for the roster, one for the badges)."""
    if not form.picks_players:
        return []
    players = list(form.fields["players"].queryset)
    status = player_medical_status(players)
    chosen = {str(v) for v in (form["players"].value() or [])}
    return [{"player": p, "status": status[p.pk], "checked": str(p.pk) in chosen} for p in players]


def _build_request(
    form: OperationForm, options: OptionsForm, targets: list[tuple[int, int]]
) -> dict[str, Any]:
    operations = form.operations(targets)
    return {
        "operations": operations,
        "options": options.exchange(),
        "metadata": {
            "requestId": form.cleaned_data["request_id"],
            "description": form.description(len(targets) if form.needs_selection else len(operations)),
            "source": "web",
        },
    }


@login_required
def operation(request: HttpRequest, op: str) -> HttpResponse:
    """GET: the modal for one operation type. POST action=validate: the dry run. action=run: submit."""
    form_class = OPERATION_FORMS.get(op)
    if form_class is None:
        raise Http404("No such operation.")
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    params = request.POST if request.method == "POST" else request.GET
    team = team_for_user(user=request.user, slug=params.get("team"))
    selection = Selection.from_session(request.session, team)
    selected = selected_workouts(team=team, selection=selection)
    count = selected.count() if form_class.needs_selection else 0
    form = form_class(request.POST or None, team=team, user=request.user)
    options = OptionsForm(request.POST or None)
    context: dict[str, Any] = {"team": team, "form": form, "options": options, "op": op, "count": count}
    status = 200
    action = request.POST.get("action", "validate")
    if request.method == "POST":
        if action not in ("validate", "run"):
            return HttpResponseBadRequest("Unknown action.", content_type="text/plain")
        if form_class.needs_selection and not count:
            form.add_error(None, "Select at least one workout on the list first.")
        if form.is_valid() and options.is_valid():
            targets = list(selected.values_list("pk", "version")) if form_class.needs_selection else []
            raw = _build_request(form, options, targets)
            if action == "validate":
                report = batch_validate(user=request.user, team=team, raw=raw)
                context["report"] = report.as_dict()
                context["items_with_news"] = [
                    i
                    for i in context["report"]["items"]
                    if i["errors"] or i["warnings"] or i["medical"] or i["conflicts"]
                ][:200]
            else:
                try:
                    batch = batch_submit(
                        user=request.user,
                        team=team,
                        raw=raw,
                        source="web",
                        channel="web",
                        warnings_acknowledged=bool(request.POST.get("acknowledge")),
                    )
                except InvalidRequest as exc:
                    for problem in exc.problems[:20]:
                        if problem.code == ErrorCode.WARNINGS_NOT_ACKNOWLEDGED:
                            form.add_error(
                                None,
                                "The dry run had warnings: tick “I have read the warnings” to run anyway.",
                            )
                        else:
                            form.add_error(None, str(problem))
                    status = FORM_ERROR_STATUS
                except QuotaExceeded as exc:
                    form.add_error(None, exc.message)
                    status = FORM_ERROR_STATUS
                else:
                    url = reverse("batch:detail", args=[batch.pk])
                    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            status = FORM_ERROR_STATUS
    context["players"] = _player_rows(form, team)
    return _render(request, "batch/operation.html", "modal", context, status=status)


# Progress and results ----------------------------------------------------------------------------


def bar_widths(batch: Batch) -> dict[str, int]:
    """Whole-percent widths of the stacked bar's segments (CSS classes w-0…w-100; no inline styles)."""
    total = batch.total_items
    if not total:
        return {"ok": 100 if batch.is_final else 0, "failed": 0, "skipped": 0}
    ok = 100 * batch.succeeded // total
    failed = 100 * (batch.failed + batch.conflicted) // total
    skipped = 100 * (batch.skipped + batch.cancelled) // total
    if batch.is_final and batch.processed >= total:
        # Rounding down must not leave a gap in a finished bar.
        ok = 100 - failed - skipped if batch.succeeded else ok
    return {"ok": ok, "failed": failed, "skipped": skipped}


def _undo_state(batch: Batch) -> dict[str, Any]:
    now = timezone.now()
    available = (
        batch.kind == Batch.Kind.NORMAL
        and batch.status in (Batch.Status.COMPLETED, Batch.Status.COMPLETED_WITH_ERRORS)
        and batch.undo_deadline is not None
        and batch.undo_deadline > now
        and batch.succeeded > 0
    )
    return {"undo_available": available, "undo_deadline": batch.undo_deadline}


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch(request, batch_id)
    tabs = ResultsTabForm(request.GET)
    if not tabs.is_valid():
        return HttpResponseBadRequest("Bad tab or page.", content_type="text/plain")
    tab = tabs.cleaned_data.get("tab") or "all"
    context: dict[str, Any] = {
        "batch": batch,
        "team": batch.team,
        "progress": Progress(batch),
        "bars": bar_widths(batch),
        "tab": tab,
        "may_cancel": may_cancel(request, batch),
    }
    context.update(_undo_state(batch))
    if batch.is_final and batch.notified_at is None and batch.created_by_id == request.user.pk:
        # Opening the batch counts as seeing its end notice.
        batch_notices_seen(user=request.user, batch_ids=[batch.pk])
    if batch.is_final:
        items = batch_items(batch=batch, status=ResultsTabForm.TABS[tab])
        page = Paginator(items, ITEMS_PAGE_SIZE).get_page(tabs.cleaned_data.get("page"))
        context["items"] = page
        context["item_rows"] = [{"item": item, "workout_id": _workout_of(item)} for item in page.object_list]
        context["tabs"] = [
            ("all", "All", batch.total_items),
            ("succeeded", "Succeeded", batch.succeeded),
            ("failed", "Failed", batch.failed),
            ("skipped", "Skipped", batch.skipped),
        ]
    context["undos"] = list(
        batch.undos.order_by("-created_at").only("id", "status", "kind", "created_at", "undo_of_id")[:5]
    )
    context["retries"] = list(
        batch.retries.order_by("-created_at").only("id", "status", "created_at", "retry_of_id")[:5]
    )
    return _render(request, "batch/detail.html", "results", context)


def _workout_of(item: BatchItem) -> int | None:
    """The workout an item touched, for a link: from its result, else from its data."""
    for source in (item.result, item.data):
        if isinstance(source, dict):
            value = source.get("workoutId")
            if isinstance(value, int):
                return value
            ids = source.get("workoutIds")
            if isinstance(ids, list) and ids and isinstance(ids[0], int):
                return ids[0]
    return None


@login_required
def batch_progress_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The progress partial, polled every second; HTTP 286 stops the poll once the batch is final.

    One query for the batch row (plus the session and user lookups).
    """
    try:
        progress = batch_progress(batch_id=batch_id, team_ids=teams_for_user(user=request.user).values("pk"))
    except Batch.DoesNotExist as exc:
        raise Http404("No such batch.") from exc
    context = {
        "batch": progress.batch,
        "progress": progress,
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


def _post_only(request: HttpRequest) -> HttpResponse | None:
    if request.method != "POST":
        return HttpResponse("Use POST.", status=405, content_type="text/plain")
    return None


def may_cancel(request: HttpRequest, batch: Batch) -> bool:
    """Whether to offer the cancel button: the owner or staff (batch_cancel enforces the same rule)."""
    return request.user.is_staff or batch.created_by_id == request.user.pk


@login_required
def batch_cancel_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := _post_only(request):
        return response
    batch = _get_batch(request, batch_id)
    try:
        batch = batch_cancel(batch_id=batch.pk, user=request.user, channel="web")
    except BatchActionRefused as exc:
        messages.error(request, f"Cannot cancel batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.info(request, f"Batch {batch.pk}: cancel requested — items not started yet are cancelled.")
    return redirect("batch:detail", batch.pk)


@login_required
def batch_undo_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := _post_only(request):
        return response
    batch = _get_batch(request, batch_id)
    try:
        undo = batch_undo(batch_id=batch.pk, user=request.user, channel="web")
    except BatchActionRefused as exc:
        messages.error(request, f"Cannot undo batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Undoing batch {batch.pk}: its progress is below.")
    return redirect("batch:detail", undo.pk)


@login_required
def batch_retry_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := _post_only(request):
        return response
    batch = _get_batch(request, batch_id)
    try:
        retry = batch_retry_failed(batch_id=batch.pk, user=request.user, channel="web")
    except (BatchActionRefused, QuotaExceeded) as exc:
        messages.error(request, f"Cannot retry batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Retrying the failed items of batch {batch.pk}.")
    return redirect("batch:detail", retry.pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def batch_export(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    """Stream the batch's item results as CSV (2,000 rows per fetch; memory stays flat)."""
    batch = _get_batch(request, batch_id)
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(["id", "type", "status", "error_code", "message", "suggested_action", "result"])
        items = batch_items(batch=batch).only("op_id", "type", "status", "error", "result").iterator(2000)
        for item in items:
            error = item.error or {}
            yield writer.writerow(
                [
                    item.op_id,
                    item.type,
                    item.status,
                    error.get("code", ""),
                    error.get("message", ""),
                    error.get("suggestedAction", ""),
                    json.dumps(item.result) if item.result is not None else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.csv"'
    return response


# History and notifications -----------------------------------------------------------------------


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    page = Paginator(batches_for_team(team=team), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [{"batch": b, **_undo_state(b)} for b in page.object_list]
    return _render(
        request, "batch/list.html", "history", {"team": team, "page": page, "rows": rows, "now": now}
    )


def _notice_ids(values: list[str]) -> list[int] | None:
    """Return the batch ids in a notice parameter, or None if one is not a positive integer."""
    if len(values) > 50 or not all(v.isdigit() and int(v) > 0 for v in values):
        return None
    return [int(v) for v in values]


@login_required
def batch_notifications(request: HttpRequest) -> HttpResponse:
    """GET: end-of-batch notices not seen yet, minus those already on the page (`shown`); 204 if none.

    Showing a notice does not mark it seen, so a notice shown just before a reload comes back. POST
    `seen`: the user dismissed it (opening the batch also counts, see batch_detail).
    """
    if request.method == "POST":
        seen = _notice_ids(request.POST.getlist("seen"))
        if not seen:
            return HttpResponseBadRequest("Which notice?", content_type="text/plain")
        batch_notices_seen(user=request.user, batch_ids=seen)
        if request.htmx:
            return HttpResponse("")  # 200 with nothing: the notice is swapped away (hx-swap="delete")
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("workouts:list")
        return redirect(back)
    if request.method != "GET":
        return HttpResponse(status=405)
    shown = _notice_ids(request.GET.getlist("shown"))
    if shown is None:
        return HttpResponseBadRequest("Bad notice ids.", content_type="text/plain")
    pending = (
        Batch.objects.filter(
            Q(options__notify_on_complete=True),
            created_by=request.user,
            status__in=Batch.FINAL_STATUSES,
            notified_at__isnull=True,
        )
        .exclude(pk__in=shown)
        .only(
            "id",
            "status",
            "succeeded",
            "failed",
            "skipped",
            "cancelled",
            "total_items",
            "description",
            "kind",
        )
    )
    batches = list(pending.order_by("-finished_at")[:5])
    if not batches:
        return HttpResponse(status=204)
    return render(request, "batch/notifications.html", {"batches": batches})
