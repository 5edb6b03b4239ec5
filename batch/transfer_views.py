"""Import and export on the web: upload a definition (exchange JSON or a CSV of operations), see its
dry run, run it; download a batch's definition (all, or failed only) and its results as JSON.

Thin: `batch.imports` reads the upload, `batch_validate` / `batch_submit` do the work, `batch.export`
streams the downloads. The uploaded request waits in the session between preview and run.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from batch.errors import ErrorCode, IdempotencyConflict, InvalidRequest
from batch.export import definition_chunks, results_json_chunks
from batch.imports import MAX_UPLOAD_BYTES, ImportRefused, request_from_upload
from batch.quotas import QuotaExceeded
from batch.services import batch_submit
from batch.validation import batch_validate
from batch.views import FORM_ERROR_STATUS, _get_batch, dry_run_context
from workouts.selectors import team_for_user

SESSION_KEY = "batch-import"
MAX_SESSION_CHARS = 5_000_000


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Batch definition",
        help_text="Exchange-format .json, or a .csv of operations (see docs/api.md).",
    )


def _pending(request: HttpRequest, token: str) -> Any:
    stored = request.session.get(SESSION_KEY) or {}
    return stored.get("raw") if stored.get("token") == token else None


@login_required
@require_http_methods(["GET", "POST"])
def batch_import(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    team = team_for_user(user=request.user, slug=params.get("team"))
    context: dict[str, Any] = {"team": team, "form": ImportForm(), "max_mb": MAX_UPLOAD_BYTES // 2**20}
    status = 200
    action = request.POST.get("action", "preview")
    if request.method == "POST" and action == "preview":
        form = ImportForm(request.POST, request.FILES)
        context["form"] = form
        if not form.is_valid():
            return render(request, "batch/import.html", context, status=FORM_ERROR_STATUS)
        upload = form.cleaned_data["file"]
        try:
            raw = request_from_upload(name=upload.name, content=upload.read(MAX_UPLOAD_BYTES + 1))
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
            batch = batch_submit(
                user=request.user,
                team=team,
                raw=raw,
                source="import",
                channel="web",
                warnings_acknowledged=bool(request.POST.get("acknowledge")),
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
    return render(request, "batch/import.html", context, status=status)


@login_required
@require_GET
def batch_definition(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    """The batch as an exchange-format request; ?failed=1: only what failed, valid input again."""
    batch = _get_batch(request, batch_id)
    failed_only = request.GET.get("failed") == "1"
    response = StreamingHttpResponse(
        definition_chunks(batch, failed_only=failed_only), content_type="application/json"
    )
    name = f"batch-{batch.pk}{'-failed' if failed_only else ''}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def batch_results_json(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    batch = _get_batch(request, batch_id)
    response = StreamingHttpResponse(results_json_chunks(batch), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.json"'
    return response
