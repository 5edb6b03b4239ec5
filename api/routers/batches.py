"""/api/v1/batches: validate, submit, history, state, results, export, and the batch actions.

Thin: parse, call one service or selector, present. Another team's batch is a 404, as on the pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import Header, Query, Router, Status
from pydantic import Field

from api.auth import principal
from api.body import read_json, with_idempotency_key
from api.exchange import REQUEST_BODY
from api.pagination import PageQuery, TeamPageQuery, keyset_page
from api.presenters import batch_dict, batches_dicts, results_dicts
from api.problems import ApiProblem
from api.schemas import BatchOut, BatchPage, Problem, ResultPage, ValidationOut
from batch.export import definition_chunks, rerun_refusal, results_csv_chunks, results_json_chunks
from batch.models import Batch, BatchItem, OperationType
from batch.plans import batch_plan_create
from batch.resume import batch_resume
from batch.retry import batch_retry_failed
from batch.selectors import batch_items
from batch.services import batch_cancel, batch_submit
from batch.undo import batch_undo
from batch.validation import batch_validate

router = Router(tags=["batches"])

ERRORS = frozenset({400, 401, 403, 404, 422, 429})
ACTION_ERRORS = frozenset({400, 401, 403, 404, 409, 429})
BATCH_FIELDS = ("team", "created_by")


def visible_batches(request: HttpRequest) -> QuerySet[Batch]:
    return Batch.objects.filter(team__in=principal(request).teams()).select_related(*BATCH_FIELDS)


def get_batch(request: HttpRequest, batch_id: int) -> Batch:
    return get_object_or_404(visible_batches(request), pk=batch_id)


@router.post(
    "/validate",
    response={200: ValidationOut, ERRORS: Problem},
    openapi_extra=REQUEST_BODY,
    summary="Dry run: validate a request without writing anything",
)
def validate(request: HttpRequest, team: str | None = None):
    """Everything the engine checks before running (per operation: errors, warnings, conflicts with
    what the strategy would do, medical verdicts) and an estimate. Always 200 with `valid`; a request
    the caller may not submit for this team answers 403."""
    who = principal(request)
    target_team = who.team(team)
    raw = read_json(request)
    report = batch_validate(user=who.user, team=target_team, raw=raw)
    body = report.as_dict()
    if any(p["code"] == "PERMISSION_DENIED" for p in body["problems"]):
        from api.problems import invalid_request

        return invalid_request(request, report.problems)
    if not body["problems"]:
        # Pin what was judged: a submit with ?plan=<planId> runs exactly this, or is refused naming
        # the workouts that changed since (batch/plans.py).
        invalid = [op_id for op_id, item in report.items.items() if item.errors]
        plan = batch_plan_create(user=who.user, team=target_team, raw=raw, invalid=invalid)
        body.update(planId=str(plan.pk), fingerprint=plan.fingerprint, planExpiresAt=plan.expires_at)
    return body


@router.post(
    "",
    response={202: BatchOut, ERRORS | {409}: Problem},
    openapi_extra=REQUEST_BODY,
    summary="Submit a batch (202 Accepted; poll it, or get a webhook when it ends)",
)
def submit(
    request: HttpRequest,
    response: HttpResponse,
    team: str | None = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=100),
    plan: str | None = Query(None, max_length=64, description="planId of a dry run: run exactly that"),
):
    """Validates, stores and queues the batch. The same Idempotency-Key (or metadata.requestId) with the
    same body answers the same batch (`Idempotent-Replayed: true`); with a different body, 409.
    With `plan` (a validation's planId) the body must be the validated request and its workouts
    unchanged since, else 422 naming them."""
    who = principal(request)
    target_team = who.team(team)
    raw = with_idempotency_key(read_json(request, lazy=True), idempotency_key)
    batch = batch_submit(user=who.user, team=target_team, raw=raw, source="api", channel="api", plan_id=plan)
    response["Location"] = f"/api/v1/batches/{batch.pk}"
    if getattr(batch, "replayed", False):
        response["Idempotent-Replayed"] = "true"
    batch = Batch.objects.select_related(*BATCH_FIELDS).get(pk=batch.pk)
    return Status(202, batch_dict(batch, with_current=True))


class HistoryFilters(TeamPageQuery):
    status: Batch.Status | None = None
    kind: Batch.Kind | None = None
    type: OperationType | None = Field(None, description="Batches with at least one operation of this type")
    createdBy: str | None = Field(None, max_length=150, description="Username, or `me`")
    createdFrom: dt.date | None = Field(None, description="Created on or after this day (local)")
    createdTo: dt.date | None = Field(None, description="Created on or before this day (local)")


@router.get("", response={200: BatchPage, ERRORS: Problem}, summary="Batch history, newest first")
def history(request: HttpRequest, filters: Query[HistoryFilters]):
    who = principal(request)
    qs = visible_batches(request)
    if filters.team:
        qs = qs.filter(team=who.team(filters.team))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.type:
        qs = qs.filter(Exists(BatchItem.objects.filter(batch=OuterRef("pk"), type=filters.type)))
    if filters.createdBy:
        qs = (
            qs.filter(created_by=who.user)
            if filters.createdBy == "me"
            else qs.filter(created_by__username=filters.createdBy)
        )
    if filters.createdFrom:
        qs = qs.filter(created_at__date__gte=filters.createdFrom)
    if filters.createdTo:
        qs = qs.filter(created_at__date__lte=filters.createdTo)
    return keyset_page(qs, filters, present=batches_dicts)


@router.get("/{int:batch_id}", response={200: BatchOut, ERRORS: Problem}, summary="State and progress")
def detail(request: HttpRequest, batch_id: int):
    """Progress with the guide's fields (percentComplete, completed, inProgress, failed, successRate,
    currentOperation), throughput and ETA. Poll it; it costs two small queries."""
    return batch_dict(get_batch(request, batch_id), with_current=True)


class ResultFilters(PageQuery):
    status: BatchItem.Status | None = None


@router.get(
    "/{int:batch_id}/results",
    response={200: ResultPage, ERRORS: Problem},
    summary="Per-operation results, in request order",
)
def results(request: HttpRequest, batch_id: int, filters: Query[ResultFilters]):
    """Each with its target {type, id, name, date}, result, error (code, message, suggestedAction) and
    the operation's metadata."""
    batch = get_batch(request, batch_id)
    qs = batch_items(batch=batch, status=filters.status).defer(None)
    return keyset_page(
        qs,
        filters,
        present=lambda rows: results_dicts(rows, team_id=batch.team_id),
        key="seq",
        descending=False,
    )


@router.get(
    "/{int:batch_id}/export",
    response={200: dict, ERRORS | {409}: Problem},
    summary="The batch's definition (exchange format) or its results as CSV/JSON",
    openapi_extra={
        "responses": {
            200: {
                "description": "definition: an exchange-format request; results: CSV or JSON",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def export(
    request: HttpRequest,
    batch_id: int,
    what: Literal["definition", "results"] = "definition",
    failedOnly: bool = False,  # noqa: N803
    format: Literal["json", "csv"] = "json",  # noqa: A002
):
    """`what=definition` is valid input for POST /batches; with `failedOnly=true` it holds what a retry
    would run (failed, and skipped where a new try can go differently; 409 when there is none), refs
    to operations that succeeded replaced by their results. `what=results` streams the
    results as JSON or CSV."""
    batch = get_batch(request, batch_id)
    if what == "definition":
        if format != "json":
            raise ApiProblem(400, "BAD_REQUEST", "A definition is exported as JSON only.")
        if failedOnly and (refused := rerun_refusal(batch)):
            raise ApiProblem(409, "NOTHING_TO_RUN", refused)
        response = StreamingHttpResponse(
            definition_chunks(batch, failed_only=failedOnly), content_type="application/json"
        )
        name = f"batch-{batch.pk}{'-failed' if failedOnly else ''}.json"
    elif format == "csv":
        response = StreamingHttpResponse(results_csv_chunks(batch), content_type="text/csv")
        name = f"batch-{batch.pk}-results.csv"
    else:
        response = StreamingHttpResponse(results_json_chunks(batch), content_type="application/json")
        name = f"batch-{batch.pk}-results.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _action_route(name: str, *, summary: str) -> Callable:
    """POST /batches/{id}/<name>: an action on one batch, answered 202 with the batch to watch."""
    return router.post(
        f"/{{int:batch_id}}/{name}", response={202: BatchOut, ACTION_ERRORS: Problem}, summary=summary
    )


def _act(request: HttpRequest, batch_id: int, action: Callable[..., Batch], **options: Any) -> Status:
    """Run a batch action (cancel, undo, retry, resume) as the caller on a batch they see; answer 202
    with the batch to watch: the same one for a cancel, the one the action started otherwise."""
    who = principal(request)
    batch = get_batch(request, batch_id)
    started = action(batch_id=batch.pk, user=who.user, channel="api", **options)
    return Status(202, batch_dict(get_batch(request, started.pk), with_current=True))


@_action_route("cancel", summary="Cancel: no new chunk starts; what has not run ends CANCELLED")
def cancel(request: HttpRequest, batch_id: int):
    return _act(request, batch_id, batch_cancel)


@_action_route("undo", summary="Undo within the undo window (owner or staff); answers the undo batch")
def undo(request: HttpRequest, batch_id: int, force: bool = False):
    return _act(request, batch_id, batch_undo, force=force)


@_action_route("retry", summary="Retry the failed operations as a new batch (owner or staff)")
def retry(request: HttpRequest, batch_id: int):
    return _act(request, batch_id, batch_retry_failed)


@_action_route(
    "resume", summary="Resume what a cancelled or stopped batch never ran, as a new batch (owner or staff)"
)
def resume(request: HttpRequest, batch_id: int):
    return _act(request, batch_id, batch_resume)
