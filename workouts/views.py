"""Workout pages: a team-scoped list (whose table htmx can swap alone) and a detail page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from workouts.calendar import at, busy_periods
from workouts.forms import MAX_SELECTED_IDS, SelectionForm, WeekForm, WorkoutFilterForm
from workouts.models import Assignment, Team, Workout, WorkoutExercise
from workouts.selectors import (
    DEFAULT_SORT,
    NoTeamYet,
    Selection,
    role_in_team,
    selected_workouts,
    team_for_user,
    teams_for_user,
    workouts_filtered,
    workouts_for_team,
    workouts_in_week,
)

PAGE_SIZE = 50


FILTER_KEYS = tuple(name for name in WorkoutFilterForm.base_fields if name != "sort")


def _filter_key(params: QueryDict) -> str:
    """Return the querystring that names a filtered set: the filter fields only (page, team, sort and
    anything else a link carries along, like htmx's inherited action=sync, don't change it)."""
    return urlencode(sorted((k, v) for k, v in params.items() if v and k in FILTER_KEYS))


def _list_context(request: HttpRequest, team: Team, params: QueryDict) -> dict[str, Any]:
    """Return the list's context: filtered page plus the session selection state (two extra queries)."""
    form = WorkoutFilterForm(params)
    workouts = workouts_filtered(workouts_for_team(team=team), form.filters)
    page = Paginator(workouts, PAGE_SIZE).get_page(params.get("page"))
    selection = Selection.from_request(request, team)
    page_ids = [w.pk for w in page.object_list]
    view = _filter_key(params)
    stale = not selection.belongs_to(view)
    if selection.empty:
        selected_on_page: set[int] = set()
        selected_count = 0
    elif stale or not page_ids:
        # Made under another filter: counted, never shown as ticked boxes nor acted on from here.
        selected_on_page = set()
        selected_count = selected_workouts(team=team, selection=selection).count()
    else:
        selected_on_page = set(
            selected_workouts(team=team, selection=selection)
            .filter(pk__in=page_ids)
            .values_list("pk", flat=True)
        )
        selected_count = selected_workouts(team=team, selection=selection).count()
    return {
        "team": team,
        "form": form,
        "page": page,
        "params": params,
        "page_ids": ",".join(str(i) for i in page_ids),
        "sort": form.filters.get("sort") or DEFAULT_SORT,
        "selected_on_page": selected_on_page,
        "selected_count": selected_count,
        "matching_count": page.paginator.count,
        "selection_query": params.urlencode(),
        "all_matching": selection.query is not None and selection.query == view and not stale,
        "operations": OPERATION_BUTTONS,
        "view": view,
        "stale": stale,
        "stale_url": _view_url(team, selection.view_key or "") if stale else "",
    }


def _view_url(team: Team, view: str) -> str:
    """The list under the filter a selection was made under."""
    query = QueryDict(view, mutable=True)
    query["team"] = team.slug
    return f"{reverse('workouts:list')}?{query.urlencode()}"


# (url slug, label) of the batch operations offered on a selection.
OPERATION_BUTTONS = (
    ("assign", "Assign players"),
    ("schedule", "Schedule"),
    ("duplicate", "Duplicate"),
    ("update", "Edit"),
    ("archive", "Archive / restore"),
    ("template", "Save as template"),
    ("delete", "Delete"),
)


@login_required
@require_GET
def workout_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    template_name = "workouts/list.html"
    if request.htmx and not request.htmx.boosted:
        template_name += "#table"
    context = _list_context(request, team, request.GET)
    context["role"] = role_in_team(user=request.user, team=team)
    context["announce"] = bool(request.htmx)
    response = render(request, template_name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def workout_select(request: HttpRequest) -> HttpResponse:
    """Change the session selection: sync one page's checkboxes, select all matching, or clear."""
    team = team_for_user(user=request.user, slug=request.POST.get("team"))
    form = SelectionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Invalid selection: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            content_type="text/plain",
        )
    data = form.cleaned_data
    params = QueryDict(data["query"] or "", mutable=True)
    params["team"] = team.slug
    selection = Selection.from_request(request, team)
    view = _filter_key(params)
    if data["action"] == "clear":
        selection = Selection()
    elif data["action"] == "all":
        selection = Selection(query=view, view=view)
    else:
        if not selection.belongs_to(view):
            # Ticking a box under another filter starts a new selection there.
            selection = Selection()
        selection.view = view
        checked = set(data["ids"])
        on_page = set(data["page_ids"]) | checked
        unchecked = on_page - checked
        if selection.query is None:
            selection.included = (selection.included - unchecked) | checked
        else:
            selection.excluded = (selection.excluded - checked) | unchecked
            selection.included = (selection.included - unchecked) | checked
    if max(len(selection.included), len(selection.excluded)) > MAX_SELECTED_IDS:
        return HttpResponseBadRequest(
            f"A selection holds at most {MAX_SELECTED_IDS} ticked workouts; use “select all matching”.",
            content_type="text/plain",
        )
    selection.save(request.session, team)
    if not request.htmx:
        return redirect(f"{reverse('workouts:list')}?{params.urlencode()}")
    context = _list_context(request, team, params)
    context["announce"] = True
    name = "workouts/list.html#selection_bar" if data["action"] == "sync" else "workouts/list.html#table"
    return render(request, name, context)


@login_required
@require_GET
def workout_calendar(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    form = WeekForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad week: " + " ".join(form.errors["week"]), content_type="text/plain")
    monday = form.cleaned_data["week"]
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    by_day: dict[dt.date, list[Workout]] = {d: [] for d in days}
    for workout in workouts_in_week(team=team, monday=monday):
        by_day.setdefault(timezone.localtime(workout.scheduled_start).date(), []).append(workout)
    # Busy time from imported calendars (games, facility bookings), on each day it touches.
    busy_by_day: dict[dt.date, list[Any]] = {d: [] for d in days}
    low, high = at(days[0], dt.time.min), at(days[-1] + dt.timedelta(days=1), dt.time.min)
    for period in busy_periods(team_id=team.pk, facility_ids=None, low=low, high=high):
        for d in days:
            if period.start < at(d + dt.timedelta(days=1), dt.time.min) and at(d, dt.time.min) < period.end:
                busy_by_day[d].append(period)

    def iso(d: dt.date) -> str:
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"

    context = {
        "team": team,
        "days": [(d, by_day.get(d, []), busy_by_day[d]) for d in days],
        "week": iso(monday),
        "prev_week": iso(monday - dt.timedelta(days=7)),
        "next_week": iso(monday + dt.timedelta(days=7)),
        "today": timezone.localdate(),
        "sunday": days[-1],
        "monday": monday,
    }
    return render(request, "workouts/calendar.html", context)


@login_required
@require_GET
def workout_detail(request: HttpRequest, workout_id: int) -> HttpResponse:
    workout = (
        Workout.objects.filter(pk=workout_id, team__in=teams_for_user(user=request.user))
        .select_related("team", "facility", "template", "created_by", "source_workout")
        .prefetch_related(
            Prefetch(
                "workout_exercises",
                queryset=WorkoutExercise.objects.select_related("exercise").order_by("order"),
            ),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("player").order_by(
                    "player__last_name", "player__first_name"
                ),
            ),
        )
        .first()
    )
    if workout is None:
        raise Http404("No such workout.")
    context = {"team": workout.team, "workout": workout}
    return render(request, "workouts/detail.html", context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 page (the root urls' handler404); for a user in no team yet, a page that says how to get
    one instead."""
    if isinstance(exception, NoTeamYet):
        return render(request, "no_team.html", status=404)
    return defaults.page_not_found(request, exception)
