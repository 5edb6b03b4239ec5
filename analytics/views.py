"""The analytics dashboard (trainers: their teams; staff: the club) and its CSV downloads. Thin: the
filter form, the selectors, a template; every figure comes from analytics.selectors."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from analytics import charts
from analytics.forms import AnalyticsFilterForm, Scope, scope_of
from analytics.selectors import batch_errors, batch_series, batch_summary, batch_types, training_load
from hockeyhub.csvcells import csv_safe_row
from workouts.selectors import teams_for_user

TABLES = ("series", "types", "errors", "load-weeks", "load-players")


def _scope(request: HttpRequest, form: AnalyticsFilterForm) -> Scope:
    return scope_of(
        teams=teams_for_user(user=request.user),
        slug=form.cleaned_data["team"] or None,
        club_wide=request.user.is_staff,
    )


def _figures(scope: Scope, form: AnalyticsFilterForm) -> dict[str, Any]:
    first, last = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    group = form.cleaned_data["group"]
    args = {"team_ids": scope.team_ids, "first": first, "last": last}
    figures: dict[str, Any] = {
        "summary": batch_summary(**args),
        "series": batch_series(**args, group=group),
        "types": batch_types(**args),
        "errors": batch_errors(**args),
        "load": None,
        "load_error": form.load_range_error(),
    }
    if figures["load_error"] is None:
        figures["load"] = training_load(**args)
    return figures


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """GET: the figures for the filters; an htmx request gets the results fragment only."""
    form = AnalyticsFilterForm.from_query(request.GET)
    teams = teams_for_user(user=request.user).order_by("name")
    context: dict[str, Any] = {"form": form, "teams": teams, "query": request.GET.urlencode()}
    status = 200
    if form.is_valid():
        scope = _scope(request, form)
        figures = _figures(scope, form)
        context.update(
            figures,
            scope=scope,
            team=scope.team,
            group=form.cleaned_data["group"],
            first=form.cleaned_data["date_from"],
            last=form.cleaned_data["date_to"],
            charts=charts.for_dashboard(figures),
            tables=charts.tables_for_dashboard(figures),
        )
    else:
        # A full page says 400; an htmx filter change gets 422, which base.html's htmx config swaps in.
        status = 422 if request.htmx else 400
        context["error"] = form.first_error()
    template = "analytics/dashboard.html"
    if request.htmx:
        template += "#results"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    """GET: one of the dashboard's tables as CSV, for the same filters."""
    if table not in TABLES:
        return HttpResponse("No such table.", status=404, content_type="text/plain")
    form = AnalyticsFilterForm.from_query(request.GET)
    if not form.is_valid():
        return HttpResponse(form.first_error(), status=400, content_type="text/plain; charset=utf-8")
    scope = _scope(request, form)
    first, last = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    args = {"team_ids": scope.team_ids, "first": first, "last": last}
    if table.startswith("load") and form.load_range_error():
        return HttpResponse(form.load_range_error(), status=400, content_type="text/plain; charset=utf-8")
    if table == "series":
        rows = charts.series_rows(batch_series(**args, group=form.cleaned_data["group"]))
    elif table == "types":
        rows = charts.type_rows(batch_types(**args))
    elif table == "errors":
        rows = charts.error_rows(batch_errors(**args))
    elif table == "load-weeks":
        rows = charts.load_week_rows(training_load(**args))
    else:
        rows = charts.load_player_rows(training_load(**args))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(csv_safe_row(row) for row in rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"analytics-{table}-{scope.team.slug if scope.team else 'all'}-{first}-{last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
