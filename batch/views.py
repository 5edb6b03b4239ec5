"""Batch pages: the operation modal (validate, run), progress, results, history and notifications.

Views are thin: a form parses the input, one service or selector does the work, a template renders.
Another team's batch is a 404.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import structlog
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
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from batch.actions import (
    BatchActionRefused,
    Offers,
    batch_offers,
    can_force_undo,
    may_act,
    window_refusal,
)
from batch.errors import ErrorCode, IdempotencyConflict, InvalidRequest
from batch.forms import OPERATION_FORMS, OperationForm, OptionsForm, ResultsTabForm
from batch.models import Batch, BatchItem, OperationType
from batch.quotas import QuotaExceeded
from batch.recovery import batch_nudge
from batch.resume import batch_resume
from batch.retry import batch_retry_failed
from batch.selectors import (
    Progress,
    batch_items_for_people,
    batch_progress,
    batches_for_team,
    force_undo_preview,
    item_names,
    named_items,
)
from batch.services import batch_cancel, batch_notices_seen, batch_submit, existing_for_request
from batch.undo import batch_undo
from batch.validation import batch_validate
from batch.wording import (
    ITEM_STATUS_LABELS,
    STRATEGY_LABELS,
    batch_outcome,
    headline,
    part_rows,
    plain,
    suggestion,
)
from medical.selectors import player_medical_status
from workouts.selectors import (
    Selection,
    is_medical_reader,
    selected_workouts,
    team_for_user,
    teams_for_user,
)

HISTORY_PAGE_SIZE = 25
ITEMS_PAGE_SIZE = 50
ACK_NEEDED = "The dry run had warnings: tick “I have read the warnings” to run anyway."
FORM_ERROR_STATUS = 422  # swapped by htmx (see responseHandling in base.html), shown as form errors


def _visible_batches(request: HttpRequest) -> Any:
    return Batch.objects.filter(team__in=teams_for_user(user=request.user))


def _get_batch(request: HttpRequest, batch_id: int) -> Batch:
    structlog.contextvars.bind_contextvars(batch_id=batch_id)  # on this request's log lines
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
    form: OperationForm, options: OptionsForm, targets: list[tuple[int, int]], names: list[str] | None = None
) -> dict[str, Any]:
    operations = form.operations(targets)
    description = form.description(len(targets) if form.needs_selection else len(operations))
    if names:
        # History, notices and the batch page then say which workouts, not just how many.
        shown = ", ".join(names[:3]) + (f" and {len(targets) - 3} more" if len(targets) > 3 else "")
        description = f"{description} ({shown})"[:300]
    return {
        "operations": operations,
        "options": options.exchange(),
        "metadata": {
            "requestId": form.cleaned_data["request_id"],
            "description": description,
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
    selection = Selection.from_request(request, team)
    view = params.get("view")
    # Opened from a list showing another filter than the selection's: it does not apply here.
    stale = view is not None and not selection.belongs_to(view)
    selected = selected_workouts(team=team, selection=Selection() if stale else selection)
    count = selected.count() if form_class.needs_selection else 0
    # Bound on every POST, even an empty one (`request.POST or None` would leave it unbound, and an
    # unbound form cannot take the "select a workout first" error).
    data = request.POST if request.method == "POST" else None
    form = form_class(data, team=team, user=request.user)
    options = OptionsForm(data)
    context: dict[str, Any] = {
        "team": team,
        "form": form,
        "options": options,
        "op": op,
        "count": count,
        "view": view,
        "stale": stale,
        "targets": target_preview(selected, count) if form_class.needs_selection else None,
    }
    status = 200
    action = request.POST.get("action", "validate")
    if request.method == "POST":
        if action not in ("validate", "run"):
            return HttpResponseBadRequest("Unknown action.", content_type="text/plain")
        if action == "run" and (
            done := existing_for_request(user=request.user, request_id=request.POST.get("request_id", ""))
        ):
            # A second click on Run (the first one used up the selection): the same batch.
            url = reverse("batch:detail", args=[done.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        if form_class.needs_selection and not count:
            form.add_error(None, "Select at least one workout on the list first.")
        if form.is_valid() and options.is_valid():
            targets = list(selected.values_list("pk", "version")) if form_class.needs_selection else []
            names = [row["name"] for row in (context["targets"] or {}).get("rows", [])]
            raw = _build_request(form, options, targets, names)
            if action == "validate":
                context.update(dry_run_context(batch_validate(user=request.user, team=team, raw=raw), team))
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
                            context["ack_error"] = ACK_NEEDED
                        else:
                            form.add_error(None, plain(str(problem)))
                    # Keep the dry run (and its acknowledgement box) on screen next to the refusal.
                    context.update(
                        dry_run_context(batch_validate(user=request.user, team=team, raw=raw), team)
                    )
                    status = FORM_ERROR_STATUS
                except QuotaExceeded as exc:
                    form.add_error(None, exc.message)
                    status = FORM_ERROR_STATUS
                except IdempotencyConflict as exc:
                    form.add_error(
                        None,
                        f"This form was already run as batch {exc.batch.pk} with different choices; "
                        "open that batch, or reload the form to run a new one.",
                    )
                    status = FORM_ERROR_STATUS
                else:
                    if form_class.needs_selection:
                        Selection().save(request.session, team)  # a run uses up the selection
                    url = reverse("batch:detail", args=[batch.pk])
                    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            status = FORM_ERROR_STATUS
    context["players"] = _player_rows(form, team)
    return _render(request, "batch/operation.html", "modal", context, status=status)


TARGET_PREVIEW = 20


def target_preview(selected: Any, count: int) -> dict[str, Any]:
    """The first TARGET_PREVIEW selected workouts by name and date, and how many more (one query)."""
    rows = list(selected.values("pk", "name", "scheduled_start")[:TARGET_PREVIEW])
    return {"rows": rows, "more": max(count - len(rows), 0)}


def dry_run_context(report: Any, team: Any) -> dict[str, Any]:
    """The dry run for the template: items with news, named, problems first and grouped by workout."""
    data = report.as_dict()
    ops = {op.id: op for op in report.request.operations}
    news = [i for i in data["items"] if i["errors"] or i["warnings"] or i["medical"] or i["conflicts"]]
    wanted = [i["id"] for i in news]
    wanted += [p["operationId"] for p in data["problems"] if p.get("operationId") in ops]
    drafts = [
        SimpleNamespace(op_id=o, type=ops[o].type, data=ops[o].data, result=None)
        for o in dict.fromkeys(wanted)
    ]
    names = item_names(drafts, team_id=team.pk) if drafts else {}
    workouts = {n.target.id: n.target.name for n in names.values() if n.target.kind == "workout"}
    for item in news:
        item["target"] = names[item["id"]].target
        item["part_rows"] = part_rows(item.get("parts"), workouts=workouts)
        for entry in (*item["errors"], *item["warnings"], *item["conflicts"]):
            entry["plain"] = plain(entry.get("message", ""), workouts=workouts)
            entry["headline"] = headline(entry)
            entry["next"] = plain(entry.get("suggestedAction", ""), workouts=workouts)
            if entry.get("resolution"):
                entry["resolution_label"] = STRATEGY_LABELS.get(entry["resolution"], entry["resolution"])
    news.sort(key=lambda i: (not i["errors"], str(i["target"].start or ""), i["target"].name))
    for problem in data["problems"]:
        named = names.get(problem.get("operationId") or "")
        problem["target"] = named.target if named else None
        problem["plain"] = plain(problem.get("message", ""), workouts=workouts)
    summary = data["summary"]
    problems, ops_n, warns = len(data["problems"]), summary["operations"], summary["warnings"]
    if problems:
        said = f"Dry run: {problems} problem{pluralize(problems)} to fix before running."
    elif not data["valid"]:
        said = f"Dry run: {summary['withErrors']} of {ops_n} have errors; Run stays off."
    else:
        said = f"Dry run: ready to run, {ops_n} operation{pluralize(ops_n)}"
        said += f", {warns} warning{pluralize(warns)} to read." if warns else "."
    return {
        "report": data,
        "items_with_news": news[:200],
        "more_news": max(len(news) - 200, 0),
        "report_announcement": said,
    }


# Progress and results ----------------------------------------------------------------------------


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


def _undo_state(batch: Batch, offers: Offers | None = None) -> dict[str, Any]:
    """Undo availability and the window's end, from the one rulebook (`batch.actions`)."""
    offers = offers or batch_offers([batch])[batch.pk]
    closed = (
        batch.kind != Batch.Kind.UNDO
        and batch.is_final
        and window_refusal(batch) is not None
        and batch.status not in (Batch.Status.UNDONE, Batch.Status.ROLLED_BACK)
    )
    return {
        "undo_available": offers.undo,
        "undo_deadline": batch.undo_deadline,
        "undo_closed": closed,
        "force_available": offers.force_undo,
        "retry_available": offers.retry,
        "resume_remaining": offers.resume,
    }


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


def _may_act(request: HttpRequest, batch: Batch) -> bool:
    """Owner or staff: who may undo, force, retry or resume a batch (as the services check)."""
    return may_act(request.user, batch)


def page_offers(request: HttpRequest, batch: Batch, undo_state: dict[str, Any]) -> set[str]:
    """The recovery actions this batch's page offers the user (suggested actions name only these)."""
    offers = set()
    if batch.is_final and _may_act(request, batch):
        if undo_state["retry_available"]:
            offers.add("retry")
        if undo_state["undo_available"]:
            offers.add("undo")
        if undo_state["force_available"]:
            offers.add("force_undo")
        if undo_state["resume_remaining"]:
            offers.add("resume")
    return offers


def _force_offered(request: HttpRequest, batch: Batch) -> bool:
    """Force undo is offered to the owner when the latest undo left changes alone, in the window."""
    return _may_act(request, batch) and can_force_undo(batch)


def result_rows(batch: Batch, items: list[BatchItem], offers: set[str]) -> list[dict[str, Any]]:
    """Each item with its workout's name and date, its outcome and next step in plain words."""
    names = item_names(items, team_id=batch.team_id)
    workouts = {n.target.id: n.target.name for n in names.values() if n.target.kind == "workout"}
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
                "warnings": [plain(w.get("message", ""), workouts=workouts) for w in item.warnings or []][:5],
                "parts": part_rows((item.result or {}).get("parts"), workouts=workouts),
                "same_workout": key == previous,
            }
        )
        previous = key
    return rows


FOLLOW_UP = (
    "id",
    "status",
    "kind",
    "created_at",
    "total_items",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
    "conflicted",
    "error",
    "finished_at",
)


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch(request, batch_id)
    tabs = ResultsTabForm(request.GET)
    if not tabs.is_valid():
        return HttpResponseBadRequest("Bad tab or page.", content_type="text/plain")
    tab = tabs.cleaned_data.get("tab") or "all"
    undo_state = _undo_state(batch)
    offers = page_offers(request, batch, undo_state)
    force_of = batch.pk
    if batch.kind == Batch.Kind.UNDO and batch.is_final and batch.undo_of_id:
        # An undo that left edits alone offers forcing them (the force is the original's action).
        original = _visible_batches(request).filter(pk=batch.undo_of_id).first()
        if original is not None and _force_offered(request, original):
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
    return _render(request, "batch/detail.html", "results", context)


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


@login_required
def batch_resume_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Run what a cancelled or stopped batch never ran, as a new linked batch."""
    if response := _post_only(request):
        return response
    batch = _get_batch(request, batch_id)
    try:
        resumed = batch_resume(batch_id=batch.pk, user=request.user, channel="web")
    except (BatchActionRefused, QuotaExceeded) as exc:
        messages.error(request, f"Cannot resume batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Running the {resumed.total_items} remaining item(s) of batch {batch.pk}.")
    return redirect("batch:detail", resumed.pk)


@login_required
def batch_force_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    """GET: what forcing the undo would overwrite. POST: force it (owner or staff; a medic or staff
    member where it puts restricted players back on workouts)."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    batch = _get_batch(request, batch_id)
    preview = force_undo_preview(batch=batch)
    offered = _force_offered(request, batch) and bool(preview.possible)
    medical_ok = not preview.medical or is_medical_reader(user=request.user, team=batch.team)
    if request.method == "POST":
        if not offered:
            messages.error(request, "There is nothing to force: the undo left no edit it can overwrite.")
            return redirect("batch:detail", batch.pk)
        if not medical_ok:
            messages.error(
                request,
                "Forcing this undo puts players with medical restrictions back on workouts: "
                "a medic or staff member has to do it.",
            )
            return redirect("batch:force_undo", batch.pk)
        try:
            undo = batch_undo(batch_id=batch.pk, user=request.user, force=True, channel="web")
        except BatchActionRefused as exc:
            messages.error(request, f"Cannot force the undo: {exc.message}")
            return redirect("batch:detail", batch.pk)
        n = len(preview.possible)
        messages.success(request, f"Forcing the undo of {n} edited change{pluralize(n)}: progress below.")
        return redirect("batch:detail", undo.pk)
    context = {
        "batch": batch,
        "team": batch.team,
        "preview": preview,
        "offered": offered,
        "medical_ok": medical_ok,
        "outcome": batch_outcome(batch),
    }
    return render(request, "batch/force_undo.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "workout",
    "date",
    "player",
    "operation",
    "outcome",
    "problem",
    "message",
    "suggested action",
    "created",
    "workout id",
    "operation id",
]


def csv_safe(value: Any) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (=, +, -, @, and tab/CR starts)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
def batch_export(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    """Stream the batch's results as readable CSV, errors first, grouped by workout (flat memory)."""
    batch = _get_batch(request, batch_id)
    writer = csv.writer(_Echo())
    offers = page_offers(request, batch, _undo_state(batch))

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        items = batch_items_for_people(batch=batch).only(
            "op_id", "type", "status", "data", "result", "error", "seq"
        )
        workouts: dict[int, str] = {}
        for item, named in named_items(items, team_id=batch.team_id):
            target = named.target
            if target.kind == "workout" and target.id:
                workouts[target.id] = target.name
                if len(workouts) > 5000:
                    workouts.clear()
            error = item.error or {}
            created = "; ".join(
                [f"{t.name} ({t.date or 'no date'})" for t in named.created]
                + [f"{what}: {', '.join(names)}" for what, names in named.players]
            )
            yield writer.writerow(
                [
                    csv_safe(v)
                    for v in (
                        target.name,
                        target.date or "",
                        target.player,
                        OperationType(item.type).label if item.type in OperationType.values else item.type,
                        ITEM_STATUS_LABELS.get(item.status, item.status),
                        headline(item.error),
                        plain(error.get("message", ""), workouts=workouts),
                        suggestion(item.error, offers=offers, workouts=workouts),
                        created,
                        target.id or "",
                        item.op_id,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.csv"'
    return response


# History and notifications -----------------------------------------------------------------------


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    page = Paginator(batches_for_team(team=team), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    offers = batch_offers(page.object_list)
    rows = [
        {"batch": b, "outcome": batch_outcome(b), **_undo_state(b, offers[b.pk])} for b in page.object_list
    ]
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
            "conflicted",
        )
    )
    batches = list(pending.order_by("-finished_at")[:5])
    # Idle (nothing of the user's still running that will notify): stop the poll with HTTP 286.
    running = Batch.objects.filter(
        Q(options__notify_on_complete=True), created_by=request.user, status__in=Batch.ACTIVE_STATUSES
    ).exists()
    if not batches:
        return HttpResponse(status=204) if running else HttpResponseStopPolling("")
    notices = [{"batch": b, "outcome": batch_outcome(b)} for b in batches]
    response = render(request, "batch/notifications.html", {"notices": notices})
    return response if running else HttpResponseStopPolling(response.content)
