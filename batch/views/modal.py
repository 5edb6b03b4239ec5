"""The operation modal: one form per operation type, its dry run (action=validate) and the run.

The request is built on the server from the session's selection; the dry run's report is shaped for
the template by `batch.views.dry_run.dry_run_context`, which the import page shares.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_htmx.http import HttpResponseClientRedirect

from batch.errors import ErrorCode, IdempotencyConflict, InvalidRequest
from batch.forms.base import OperationForm
from batch.forms.operations import OPERATION_FORMS
from batch.forms.options import OptionsForm
from batch.models import BatchPlan
from batch.plans import (
    PLAN_EXPIRED,
    PLAN_MISMATCH,
    PLAN_UNKNOWN,
    PLAN_USED,
    TARGETS_CHANGED,
    batch_plan_create,
    plan_for,
    without_invalid,
)
from batch.quotas import QuotaExceeded
from batch.services import existing_for_request
from batch.validation import batch_validate
from batch.views.common import FORM_ERROR_STATUS, page_submit, render_page
from batch.views.dry_run import dry_run_context
from batch.wording import plain
from medical.selectors import player_medical_status
from workouts.selectors import Selection, selected_workouts, team_for_user

PLAN_CODES = {PLAN_EXPIRED, PLAN_MISMATCH, PLAN_UNKNOWN, PLAN_USED, TARGETS_CHANGED}
ACK_NEEDED = "The dry run had warnings: tick “I have read the warnings” to run anyway."


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
    """GET: the modal for one operation type. POST action=validate: the dry run, pinned as a plan
    (`batch/plans.py`). action=run: submit that plan; action=run_valid: its valid operations only."""
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
        if action not in ("validate", "run", "run_valid"):
            return HttpResponseBadRequest("Unknown action.", content_type="text/plain")
        if action != "validate" and (
            done := existing_for_request(user=request.user, request_id=request.POST.get("request_id", ""))
        ):
            # A second click on Run (the first one used up the selection): the same batch.
            url = reverse("batch:detail", args=[done.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        plan = None
        if action != "validate" and request.POST.get("plan"):
            # Run what was validated, whatever the selection is by now (another tab, a filter).
            try:
                plan = plan_for(user=request.user, team=team, plan_id=request.POST["plan"])
            except InvalidRequest as exc:
                form.is_valid()
                form.add_error(None, plain(str(exc.problems[0])))
                context["players"] = _player_rows(form, team)
                return render_page(
                    request, "batch/operation.html", "modal", context, status=FORM_ERROR_STATUS
                )
            context.update(count=len(plan.targets), stale=False, targets=plan_preview(plan))
        elif action == "run_valid":
            return HttpResponseBadRequest(
                "Validate first: there is no dry run to run.", content_type="text/plain"
            )
        if form_class.needs_selection and not context["count"]:
            form.add_error(None, "Select at least one workout on the list first.")
        if form.is_valid() and options.is_valid():
            if plan is not None:
                targets = (
                    [(t["id"], t["version"]) for t in plan.targets] if form_class.needs_selection else []
                )
            else:
                targets = list(selected.values_list("pk", "version")) if form_class.needs_selection else []
            names = [row["name"] for row in (context["targets"] or {}).get("rows", [])]
            raw = _build_request(form, options, targets, names)
            if plan is not None:
                raw["metadata"] = plan.request.get("metadata") or raw["metadata"]
            if action == "validate":
                report = batch_validate(user=request.user, team=team, raw=raw)
                context.update(dry_run_context(report, team))
                if not report.problems:
                    invalid = [op_id for op_id, item in report.items.items() if item.errors]
                    pinned = batch_plan_create(user=request.user, team=team, raw=raw, invalid=invalid)
                    context["plan"] = pinned.pk
                    if invalid:
                        context["valid_n"] = len(without_invalid(raw, invalid)[0]["operations"])
            else:
                try:
                    batch = page_submit(
                        request,
                        team=team,
                        raw=raw,
                        source="web",
                        plan_id=plan.pk if plan is not None else None,
                        valid_only=action == "run_valid",
                    )
                except InvalidRequest as exc:
                    pinned_refusal = any(p.code in PLAN_CODES for p in exc.problems)
                    for problem in exc.problems[:20]:
                        if problem.code == ErrorCode.WARNINGS_NOT_ACKNOWLEDGED:
                            context["ack_error"] = ACK_NEEDED
                        else:
                            form.add_error(None, plain(str(problem)))
                    if not pinned_refusal:
                        # Keep the dry run (and its acknowledgement box) on screen next to the refusal.
                        context.update(
                            dry_run_context(batch_validate(user=request.user, team=team, raw=raw), team)
                        )
                        if plan is not None:
                            context["plan"] = plan.pk
                            if plan.invalid:
                                context["valid_n"] = len(without_invalid(raw, plan.invalid)[0]["operations"])
                    status = FORM_ERROR_STATUS
                except QuotaExceeded as exc:
                    form.add_error(None, exc.message)
                    status = FORM_ERROR_STATUS
                except IdempotencyConflict as exc:
                    form.add_error(
                        None,
                        f"This form was already run as batch {exc.batch.pk} with different choices; "
                        "open that batch, or reload the form to run a new one."
                        if exc.batch is not None
                        else "This form was already run for another team; reload the form to run it here.",
                    )
                    status = FORM_ERROR_STATUS
                else:
                    if form_class.needs_selection and (
                        plan is None or set(selected.values_list("pk", flat=True)) == {t for t, _ in targets}
                    ):
                        # A run uses up the selection; one another tab changed since is not this run's.
                        Selection().save(request.session, team)
                    url = reverse("batch:detail", args=[batch.pk])
                    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            status = FORM_ERROR_STATUS
    context["players"] = _player_rows(form, team)
    return render_page(request, "batch/operation.html", "modal", context, status=status)


TARGET_PREVIEW = 20


def target_preview(selected: Any, count: int) -> dict[str, Any]:
    """The first TARGET_PREVIEW selected workouts by name and date, and how many more (one query)."""
    rows = list(selected.values("pk", "name", "scheduled_start")[:TARGET_PREVIEW])
    return {"rows": rows, "more": max(count - len(rows), 0)}


def plan_preview(plan: BatchPlan) -> dict[str, Any]:
    """The pinned targets, as target_preview shows the selection's (no query)."""
    rows = [
        {
            "pk": t["id"],
            "name": t["name"],
            "scheduled_start": parse_datetime(t["start"]) if t["start"] else None,
        }
        for t in plan.targets[:TARGET_PREVIEW]
    ]
    return {"rows": rows, "more": max(len(plan.targets) - len(rows), 0)}
