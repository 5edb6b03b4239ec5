"""Import and export on the web: upload a definition (exchange JSON or a CSV of operations), see its
dry run, run it; download a batch's definition (all, or failed only) and its results as JSON or as
readable CSV.

Thin: `batch.imports` reads the upload, `batch_validate` / `batch_submit` do the work, `batch.export`
streams the JSON downloads. The uploaded request waits in the session between preview and run.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from batch.errors import ErrorCode, IdempotencyConflict, InvalidRequest
from batch.export import definition_chunks, rerun_refusal, results_json_chunks
from batch.forms.options import OptionsForm
from batch.forms.pages import ImportForm
from batch.imports import MAX_UPLOAD_BYTES, ImportRefused, request_from_upload
from batch.models import OperationType
from batch.plans import batch_plan_create
from batch.quotas import QuotaExceeded
from batch.selectors import batch_items_for_people, named_items
from batch.validation import batch_validate
from batch.views.common import FORM_ERROR_STATUS, get_batch, page_offers, page_submit, undo_context
from batch.views.dry_run import dry_run_context
from batch.wording import ITEM_STATUS_LABELS, item_problem, plain, suggestion
from hockeyhub.csvcells import csv_safe
from workouts.selectors import team_for_user

SESSION_KEY = "batch-import"
MAX_SESSION_CHARS = 5_000_000


def _pending(request: HttpRequest, token: str) -> Any:
    stored = request.session.get(SESSION_KEY) or {}
    return stored.get("raw") if stored.get("token") == token else None


def stage_import(request: HttpRequest, *, raw: dict[str, Any], name: str, source: str) -> str:
    """Put a request another page made (the planner's plan) where the import page previews it:
    GET /batches/import/?token=… shows its dry run and Run, as for an upload. Returns the token."""
    token = uuid.uuid4().hex
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    raw = {**raw, "metadata": {"requestId": f"{source}-{token}", "source": source, **metadata}}
    request.session[SESSION_KEY] = {"token": token, "raw": raw, "name": name}
    return token


@login_required
@require_http_methods(["GET", "POST"])
def batch_import(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    team = team_for_user(user=request.user, slug=params.get("team"))
    # A CSV runs with the options on the page (a form without them — a script — keeps the defaults).
    sent_options = request.method == "POST" and any(key.startswith("opt-") for key in request.POST)
    options = OptionsForm(request.POST if sent_options else None)
    context: dict[str, Any] = {
        "team": team,
        "form": ImportForm(),
        "options": options,
        "max_mb": MAX_UPLOAD_BYTES // 2**20,
    }
    status = 200
    action = request.POST.get("action", "preview")
    if request.method == "POST" and action == "preview":
        form = ImportForm(request.POST, request.FILES)
        context["form"] = form
        if not form.is_valid() or (sent_options and not options.is_valid()):
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        upload = form.cleaned_data["file"]
        try:
            raw = request_from_upload(
                name=upload.name,
                content=upload.read(MAX_UPLOAD_BYTES + 1),
                csv_options=options.exchange() if sent_options else None,
            )
        except ImportRefused as exc:
            form.add_error("file", exc.message)
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        token = uuid.uuid4().hex
        if isinstance(raw, dict):
            metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
            # A double click on Run gives the same batch: the preview names the request once.
            raw = {**raw, "metadata": {"requestId": f"import-{token}", "source": "import", **metadata}}
        if len(str(raw)) > MAX_SESSION_CHARS:
            form.add_error("file", "This definition is too large to preview here; use batch_run or the API.")
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        request.session[SESSION_KEY] = {"token": token, "raw": raw, "name": upload.name}
        report = batch_validate(user=request.user, team=team, raw=raw)
        pin_preview(request, team, raw, report)
        context.update(dry_run_context(report, team))
        context.update(token=token, name=upload.name)
        status = 200 if report.valid else FORM_ERROR_STATUS
    elif request.method == "POST" and action == "run":
        token = request.POST.get("token", "")
        raw = _pending(request, token)
        if raw is None:
            context["error"] = (
                "This preview has expired or was replaced by another upload; upload the file again."
            )
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        try:
            batch = page_submit(
                request,
                team=team,
                raw=raw,
                source="import",
                plan_id=(request.session.get(SESSION_KEY) or {}).get("plan"),
            )
        except InvalidRequest as exc:
            report = batch_validate(user=request.user, team=team, raw=raw)
            context.update(dry_run_context(report, team))
            context.update(token=token, name=(request.session.get(SESSION_KEY) or {}).get("name", ""))
            context["run_errors"] = [
                "The dry run has warnings: tick “I have read the warnings” to run anyway."
                if p.code == ErrorCode.WARNINGS_NOT_ACKNOWLEDGED
                else str(p)
                for p in exc.problems[:20]
            ]
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        except (QuotaExceeded, IdempotencyConflict) as exc:
            context["error"] = getattr(exc, "message", None) or str(exc)
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        request.session.pop(SESSION_KEY, None)
        return redirect("batch:detail", batch.pk)
    elif request.method == "POST":
        return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    elif request.GET.get("token"):
        # A request staged by another page (stage_import): its dry run, as after an upload.
        token = request.GET["token"]
        raw = _pending(request, token)
        if raw is None:
            context["error"] = "This preview has expired or was replaced by another one; make it again."
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        report = batch_validate(user=request.user, team=team, raw=raw)
        pin_preview(request, team, raw, report)
        context.update(dry_run_context(report, team))
        context.update(token=token, name=(request.session.get(SESSION_KEY) or {}).get("name", ""))
    return render(request, "batch/import.html", context, status=status)


def pin_preview(request: HttpRequest, team: Any, raw: Any, report: Any) -> None:
    """Pin the previewed request (`batch/plans.py`): Run then runs it only while its workouts are as
    the dry run saw them."""
    if report.problems or not isinstance(request.session.get(SESSION_KEY), dict):
        return
    plan = batch_plan_create(user=request.user, team=team, raw=raw)
    request.session[SESSION_KEY] = {**request.session[SESSION_KEY], "plan": str(plan.pk)}


@login_required
@require_GET
def batch_definition(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The batch as an exchange-format request; ?failed=1: what failed or was skipped where a new try
    can go differently, valid input again — or 409 saying there is nothing to run again."""
    batch = get_batch(request, batch_id)
    failed_only = request.GET.get("failed") == "1"
    if failed_only and (refused := rerun_refusal(batch)):
        return HttpResponse(refused, status=409, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        definition_chunks(batch, failed_only=failed_only), content_type="application/json"
    )
    name = f"batch-{batch.pk}{'-failed-and-skipped' if failed_only else ''}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def batch_results_json(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    batch = get_batch(request, batch_id)
    response = StreamingHttpResponse(results_json_chunks(batch), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.json"'
    return response


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


@login_required
def batch_export(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    """Stream the batch's results as readable CSV, errors first, grouped by workout (flat memory)."""
    batch = get_batch(request, batch_id)
    writer = csv.writer(_Echo())
    offers = page_offers(request, batch, undo_context(batch))

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        items = batch_items_for_people(batch=batch)
        workouts: dict[int, str] = {}
        for item, named in named_items(items, team_id=batch.team_id):
            target = named.target
            if target.kind == "workout" and target.id:
                workouts[target.id] = target.name
                if len(workouts) > 5000:
                    workouts.clear()
            error = item.error or {}
            problem, message = item_problem(item.type, error, item.warnings, workouts=workouts)
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
                        problem,
                        message,
                        suggestion(item.error, offers=offers, workouts=workouts)
                        or plain(next((w.get("suggestedAction") for w in item.warnings), "") or ""),
                        created,
                        target.id or "",
                        item.op_id,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.csv"'
    return response
