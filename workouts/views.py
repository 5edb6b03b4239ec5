"""Workout pages: a team-scoped list (whose table htmx can swap alone) and a detail page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from workouts.forms import SORTS, WorkoutFilterForm
from workouts.models import Assignment, Workout, WorkoutExercise
from workouts.selectors import role_in_team, team_for_user, teams_for_user, workouts_for_team

PAGE_SIZE = 50


def _filtered(qs: QuerySet[Workout], filters: dict[str, Any]) -> QuerySet[Workout]:
    """Apply the list filters; archived workouts only show when asked for by status."""
    status = filters.get("status")
    if status == Workout.Status.ARCHIVED:
        qs = qs.filter(archived_at__isnull=False)
    elif status and status != "all":
        qs = qs.filter(status=status, archived_at__isnull=True)
    elif status != "all":
        qs = qs.filter(archived_at__isnull=True)
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    tz = timezone.get_current_timezone()
    if filters.get("date_from"):
        qs = qs.filter(scheduled_start__gte=dt.datetime.combine(filters["date_from"], dt.time.min, tzinfo=tz))
    if filters.get("date_to"):
        end = dt.datetime.combine(filters["date_to"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(scheduled_start__lt=end)
    if filters.get("q"):
        term = filters["q"]
        qs = qs.filter(Q(name__icontains=term) | Q(notes__icontains=term) | Q(facility__name__icontains=term))
    return qs.order_by(*SORTS[filters.get("sort") or "start"])


@login_required
@require_GET
def workout_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    form = WorkoutFilterForm(request.GET)
    workouts = _filtered(workouts_for_team(team=team), form.filters)
    page = Paginator(workouts, PAGE_SIZE).get_page(request.GET.get("page"))
    template_name = "workouts/list.html"
    if request.htmx and not request.htmx.boosted:
        template_name += "#table"
    context = {
        "team": team,
        "form": form,
        "page": page,
        "sort": form.filters.get("sort") or "start",
        "role": role_in_team(user=request.user, team=team),
    }
    response = render(request, template_name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


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
