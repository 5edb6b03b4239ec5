"""The "Plan the week" page: the problem form, the plan on the calendar beside what is already there,
why not for each session that does not fit, and a link into the import page's dry run and Run."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from batch.views.common import FORM_ERROR_STATUS
from batch.views.transfer import stage_import
from planner.forms import WeekForm, next_monday, problem_from, session_forms
from planner.planning import PlanResult, plan_week
from planner.problem import PlannerProblemError
from planner.selectors import workouts_between
from workouts.selectors import team_for_user


@login_required
@require_http_methods(["GET", "POST"])
def plan_page(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    team = team_for_user(user=request.user, slug=params.get("team"))
    data = request.POST if request.method == "POST" else None
    week = WeekForm(data, initial={"date_from": next_monday()})
    sessions = session_forms(team, data)
    context: dict[str, Any] = {"team": team, "week_form": week, "session_forms": sessions}
    if request.method == "GET":
        return render(request, "planner/plan.html", context)
    if not (week.is_valid() and all(f.is_valid() for f in sessions)):
        return render(request, "planner/plan.html", context, status=FORM_ERROR_STATUS)
    raw = problem_from(team, week, sessions)
    if not raw["sessions"]:
        context["problems"] = ["Name at least one session to place."]
        return render(request, "planner/plan.html", context, status=FORM_ERROR_STATUS)
    try:
        result = plan_week(user=request.user, raw=raw)
    except PlannerProblemError as exc:
        context["problems"] = exc.messages
        return render(request, "planner/plan.html", context, status=FORM_ERROR_STATUS)
    if result.request["operations"]:
        token = stage_import(request, raw=result.request, name="the week's plan", source="planner")
        context["dry_run_url"] = f"{reverse('batch:import')}?team={team.slug}&token={token}"
    placed = sum(s.placed for s in result.sessions)
    context.update(
        result=result,
        calendar=_calendar(result, week.cleaned_data),
        placed_count=placed,
        request_json=json.dumps(result.request, indent=2),
        unplaced_count=len(result.sessions) - placed,
    )
    return render(request, "planner/plan.html", context)


def _calendar(result: PlanResult, week: dict[str, Any]) -> list[tuple[dt.date, list[dict[str, Any]]]]:
    """Each day of the plan with what is already there and what the plan adds, by start time."""
    first, last = week["date_from"], week["date_to"]
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    by_day: dict[dt.date, list[dict[str, Any]]] = {d: [] for d in days}
    moved = {o.index for o in result.sessions if o.moved}
    moved_ids = {s.workout_id for i, s in enumerate(result.problem.sessions) if i in moved and s.workout_id}
    for w in workouts_between(team=result.team, first=first, last=last):
        start = timezone.localtime(w.scheduled_start)
        by_day.setdefault(start.date(), []).append(
            {
                "start": start,
                "end": timezone.localtime(w.scheduled_end) if w.scheduled_end else None,
                "name": w.name,
                "where": w.facility.name if w.facility else "",
                "planned": False,
                "moving": w.pk in moved_ids,
                "workout_id": w.pk,
            }
        )
    for o in result.sessions:
        if o.placed and o.moved is not False:
            start = timezone.localtime(o.start)
            by_day.setdefault(start.date(), []).append(
                {
                    "start": start,
                    "end": timezone.localtime(o.end),
                    "name": o.name,
                    "where": o.facility,
                    "planned": True,
                    "players": len(o.player_ids),
                    "left_out": len(o.blocked_players),
                }
            )
    return [(d, sorted(by_day[d], key=lambda e: e["start"])) for d in days]
