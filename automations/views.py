"""Pages for trainers: automations (recipes, schedules, runs, notices), a recipe, copy a week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automations.forms import CopyRangeForm, RecipeForm, ScheduleForm
from automations.models import Notice, Recipe, Schedule, ScheduleRun
from automations.recipes import (
    RecipeError,
    copy_range_request,
    monday_of,
    recipe_create,
    recipe_preview,
    request_from_batch,
    resolve_request,
)
from automations.schedules import ScheduleError, next_runs, schedule_create, schedule_pause
from automations.selectors import notices_for_user, recipes_for_team, runs_for_team, schedules_for_team
from batch.errors import InvalidRequest
from batch.quotas import QuotaExceeded
from batch.services import batch_submit
from batch.validation import batch_validate
from batch.views.common import get_batch
from batch.views.modal import dry_run_context
from workouts.calendar import at, local_day
from workouts.selectors import team_for_user, teams_for_user


def get_recipe(request: HttpRequest, pk: int) -> Recipe:
    return get_object_or_404(
        Recipe.objects.filter(team__in=teams_for_user(user=request.user)).select_related("team"), pk=pk
    )


@login_required
@require_GET
def automation_index(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    context = {
        "team": team,
        "recipes": recipes_for_team(team=team),
        "schedules": schedules_for_team(team=team),
        "runs": runs_for_team(team=team),
        "notices": notices_for_user(user=request.user, team=team),
    }
    return render(request, "automations/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def recipe_new(request: HttpRequest) -> HttpResponse:
    """A recipe from a batch's results page (`?from_batch=`), or from a pasted request."""
    batch = None
    source = request.GET.get("from_batch") or request.POST.get("from_batch")
    if source:
        if not source.isdigit():
            return HttpResponseBadRequest("Which batch?", content_type="text/plain")
        batch = get_batch(request, int(source))
        team = batch.team
    else:
        team = team_for_user(user=request.user, slug=request.GET.get("team") or request.POST.get("team"))
    form = RecipeForm(request.POST or None, initial={"name": batch.description[:120] if batch else ""})
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["request"] or (request_from_batch(batch) if batch else None)
        if body is None:
            form.add_error("request", "Paste an exchange-format request, or start from a batch.")
        else:
            try:
                recipe = recipe_create(
                    user=request.user,
                    team=team,
                    name=form.cleaned_data["name"],
                    request=body,
                    source_batch=batch,
                )
            except RecipeError as exc:
                form.add_error("request", str(exc))
            else:
                messages.success(
                    request, f"Recipe “{recipe.name}” saved. Preview it, run it, or schedule it."
                )
                return redirect("automations:recipe", recipe.pk)
    status = 400 if request.method == "POST" else 200
    context = {"team": team, "form": form, "batch": batch}
    return render(request, "automations/recipe_new.html", context, status=status)


def recipe_page(
    request: HttpRequest, recipe: Recipe, *, extra: dict[str, Any] | None = None, status: int = 200
):
    schedules = list(recipe.schedules.order_by("pk"))
    context = {
        "team": recipe.team,
        "recipe": recipe,
        "schedules": schedules,
        "runs": list(
            ScheduleRun.objects.filter(schedule__recipe=recipe)
            .select_related("batch")
            .order_by("-occurrence", "-pk")[:30]
        ),
        "schedule_form": ScheduleForm(
            initial={"start": timezone.localtime().replace(second=0, microsecond=0)}
        ),
        **(extra or {}),
    }
    return render(request, "automations/recipe.html", context, status=status)


@login_required
@require_GET
def recipe_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return recipe_page(request, get_recipe(request, pk))


@login_required
@require_POST
def recipe_run(request: HttpRequest, pk: int) -> HttpResponse:
    """POST preview=1: the usual dry run of the resolved request. Otherwise run it now, as the user."""
    recipe = get_recipe(request, pk)
    try:
        if request.POST.get("preview"):
            _, report = recipe_preview(user=request.user, recipe=recipe)
            return recipe_page(request, recipe, extra=dry_run_context(report, recipe.team))
        raw = resolve_request(recipe.request, team=recipe.team, run_at=timezone.now())
        raw.setdefault("metadata", {})
        raw["metadata"].setdefault("description", f"Recipe: {recipe.name}"[:300])
        batch = batch_submit(user=request.user, team=recipe.team, raw=raw, source="recipe")
    except RecipeError as exc:
        messages.error(request, f"The recipe cannot run: {exc}")
        return redirect("automations:recipe", recipe.pk)
    except (InvalidRequest, QuotaExceeded) as exc:
        messages.error(request, f"The batch was refused: {exc}")
        return redirect("automations:recipe", recipe.pk)
    return redirect("batch:detail", batch.pk)


@login_required
@require_GET
def schedule_preview(request: HttpRequest) -> HttpResponse:
    """The next five runs of a rule being typed (htmx; also a plain page)."""
    form = ScheduleForm(request.GET)
    runs: list[dt.datetime] = []
    error = ""
    if form.is_valid():
        start = form.cleaned_data["start"]
        try:
            runs = next_runs(
                form.cleaned_data["rrule"], start, after=max(timezone.now(), start - dt.timedelta(seconds=1))
            )
        except ScheduleError as exc:
            error = str(exc)
    else:
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    return render(request, "automations/_next_runs.html", {"runs": runs, "error": error})


@login_required
@require_POST
def schedule_new(request: HttpRequest, pk: int) -> HttpResponse:
    recipe = get_recipe(request, pk)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule = schedule_create(
                user=request.user,
                recipe=recipe,
                rrule_text=form.cleaned_data["rrule"],
                start=form.cleaned_data["start"],
                missed=form.cleaned_data["missed"] or Schedule.Missed.LATEST,
            )
        except ScheduleError as exc:
            form.add_error("rrule", str(exc))
        else:
            when = timezone.localtime(schedule.next_run_at) if schedule.next_run_at else None
            messages.success(
                request, f"Scheduled. Next run: {when:%a %d %b %Y %H:%M}." if when else "Scheduled."
            )
            return redirect("automations:recipe", recipe.pk)
    return recipe_page(request, recipe, extra={"schedule_form": form}, status=400)


@login_required
@require_POST
def schedule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(
        Schedule.objects.filter(recipe__team__in=teams_for_user(user=request.user)), pk=pk
    )
    try:
        schedule = schedule_pause(user=request.user, schedule=schedule, paused=not schedule.paused)
    except ScheduleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Paused." if schedule.paused else "Resumed; missed runs are not caught up.")
    return redirect("automations:recipe", schedule.recipe_id)


@login_required
@require_POST
def notice_seen(request: HttpRequest, pk: int) -> HttpResponse:
    Notice.objects.filter(pk=pk, user=request.user, seen_at__isnull=True).update(seen_at=timezone.now())
    if request.htmx:
        return HttpResponse("")
    return redirect("automations:index")


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    """Unseen notices of every team of the user (the base page loads it once); 204 when none."""
    notices = list(
        Notice.objects.filter(user=request.user, seen_at__isnull=True)
        .select_related("batch")
        .order_by("-created_at")[:5]
    )
    if not notices:
        return HttpResponse(status=204)
    return render(request, "automations/_notices.html", {"notices": notices})


@login_required
@require_http_methods(["GET", "POST"])
def copy_range(request: HttpRequest) -> HttpResponse:
    """The built-in recipe: copy a week (or any date range) later, with its players, as one batch."""
    team = team_for_user(user=request.user, slug=request.GET.get("team") or request.POST.get("team"))
    initial_start = monday_of(local_day(timezone.now()))
    if request.GET.get("week"):
        try:
            year, week = request.GET["week"].split("-W")
            initial_start = dt.date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            return HttpResponseBadRequest("Which week? (e.g. 2026-W50)", content_type="text/plain")
    form = CopyRangeForm(request.POST or None, initial={"start": initial_start, "days": 7, "shift": 7})
    context: dict[str, Any] = {"team": team, "form": form}
    if request.method == "POST" and form.is_valid():
        start, days, shift = (form.cleaned_data[k] for k in ("start", "days", "shift"))
        body = copy_range_request(days=days, shift_days=shift, anchor="day")
        run_at = at(start, dt.time(12, 0))
        raw = resolve_request(body, team=team, run_at=run_at)
        raw["metadata"]["description"] = (
            f"Copy {start:%a %d %b}–{start + dt.timedelta(days=days - 1):%a %d %b} {shift} day(s) later"
        )
        if not raw["operations"]:
            form.add_error("start", "There are no workouts to copy in these days.")
        elif request.POST.get("action") == "save":
            week_body = copy_range_request(
                start_offset=start.weekday(), days=days, shift_days=shift, anchor="week"
            )
            recipe = recipe_create(
                user=request.user,
                team=team,
                name=raw["metadata"]["description"][:120],
                request=week_body,
                builtin="copy_range",
            )
            return redirect("automations:recipe", recipe.pk)
        elif request.POST.get("action") == "run":
            try:
                batch = batch_submit(user=request.user, team=team, raw=raw, source="recipe")
            except (InvalidRequest, QuotaExceeded) as exc:
                messages.error(request, f"The batch was refused: {exc}")
            else:
                return redirect("batch:detail", batch.pk)
        else:
            context.update(dry_run_context(batch_validate(user=request.user, team=team, raw=raw), team))
            context["copies"] = len(raw["operations"])
    return render(request, "automations/copy_range.html", context)
