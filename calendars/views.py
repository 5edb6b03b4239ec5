"""The Calendars page (imported busy time, feed links with QR codes) and the feeds themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendars.feeds import feed_rows, feed_state, feed_window, feed_workouts, render_feed
from calendars.forms import FeedForm, SubscribeForm, UploadForm
from calendars.ics import CalendarFileError
from calendars.models import FeedToken, ImportedCalendar
from calendars.selectors import calendars_for_team, feed_for_token, feeds_for_team
from calendars.services import (
    CalendarRefused,
    feed_token_get_or_create,
    feed_token_revoke,
    feed_token_rotate,
    imported_calendar_delete,
    imported_calendar_import,
    imported_calendar_subscribe,
)
from calendars.tokens import feed_path
from workouts.models import Team
from workouts.selectors import team_for_user, teams_for_user


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6, border=2)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 — generated here, no user markup


def _back_to_page(team: Team, anchor: str = "") -> HttpResponse:
    return redirect(f"{reverse('calendars:page')}?team={team.slug}{anchor}")


def _name_and_owner(form: UploadForm | SubscribeForm, team: Team) -> dict[str, Any]:
    """An imported calendar's name and owner: the facility the form chose, or else the page's team."""
    facility = form.cleaned_data["facility"]
    return {"name": form.cleaned_data["name"], "team": None if facility else team, "facility": facility}


def _page(
    request: HttpRequest,
    team,
    form: UploadForm,
    feed_form: FeedForm,
    status: int = 200,
    subscribe_form: SubscribeForm | None = None,
) -> HttpResponse:
    feeds = []
    for feed in feeds_for_team(team=team):
        path = feed_path(feed)
        url = request.build_absolute_uri(path) if path else None
        webcal = url and "webcal://" + url.split("://", 1)[1]
        feeds.append({"feed": feed, "url": url, "webcal": webcal, "qr": qr_svg(url) if url else ""})
    context = {
        "team": team,
        "calendars": calendars_for_team(team=team),
        "feeds": feeds,
        "form": form,
        "feed_form": feed_form,
        "subscribe_form": subscribe_form or SubscribeForm(),
    }
    response = render(request, "calendars/page.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page shows secret feed links
    return response


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """GET: the page; POST: import an uploaded .ics (re-importing a calendar of the same name)."""
    team = team_for_user(user=request.user, slug=request.GET.get("team") or request.POST.get("team"))
    form = UploadForm(request.POST or None, request.FILES or None)
    feed_form = FeedForm(team=team)
    if request.method == "GET":
        return _page(request, team, UploadForm(), feed_form)
    if not form.is_valid():
        return _page(request, team, form, feed_form, status=422)
    try:
        result = imported_calendar_import(
            user=request.user, data=form.cleaned_data["file"], **_name_and_owner(form, team)
        )
    except CalendarFileError as exc:
        form.add_error("file", f"This file cannot be imported: {exc.message}. Nothing was imported.")
        return _page(request, team, form, feed_form, status=422)
    except CalendarRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _page(request, team, form, feed_form, status=422)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _page(request, team, form, feed_form, status=403)
    messages.success(request, f"Imported {result.summary()}.")
    return _back_to_page(team)


@login_required
@require_POST
def calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.POST.get("team"))
    calendar = get_object_or_404(calendars_for_team(team=team), pk=calendar_id)
    try:
        imported_calendar_delete(user=request.user, calendar=ImportedCalendar.objects.get(pk=calendar.pk))
    except PermissionDenied as exc:
        raise Http404(str(exc)) from None
    messages.success(request, f"Calendar {calendar.name} deleted; its busy time is gone.")
    return _back_to_page(team)


@login_required
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.POST.get("team"))
    form = FeedForm(request.POST, team=team)
    if not form.is_valid():
        return _page(request, team, UploadForm(), form, status=422)
    try:
        feed_token_get_or_create(
            user=request.user,
            kind=form.cleaned_data["kind"],
            team=team,
            player=form.cleaned_data["player"],
            facility=form.cleaned_data["facility"],
        )
    except CalendarRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _page(request, team, UploadForm(), form, status=422)
    return _back_to_page(team, "#feeds")


@login_required
@require_POST
def calendar_subscribe(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.POST.get("team"))
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _page(request, team, UploadForm(), FeedForm(team=team), status=422, subscribe_form=form)
    try:
        calendar = imported_calendar_subscribe(
            user=request.user, url=form.cleaned_data["url"], **_name_and_owner(form, team)
        )
    except CalendarRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _page(request, team, UploadForm(), FeedForm(team=team), status=422, subscribe_form=form)
    messages.success(request, f"Subscribed to {calendar.name}; the first sync is on its way.")
    return _back_to_page(team)


def _feed(request: HttpRequest, feed_id: int) -> FeedToken:
    teams = teams_for_user(user=request.user).values("pk")
    return get_object_or_404(
        FeedToken.objects.select_related("team", "player", "facility").filter(
            team__in=teams, revoked_at__isnull=True
        ),
        pk=feed_id,
    )


def _feed_change(
    request: HttpRequest, feed_id: int, change: Callable[..., Any], done: Callable[[FeedToken], str]
) -> HttpResponse:
    """Rotate or revoke one of the user's live feed links, say so, and go back to the page's feeds."""
    feed = _feed(request, feed_id)
    change(user=request.user, feed=feed)
    messages.success(request, done(feed))
    return _back_to_page(feed.team, "#feeds")


@login_required
@require_POST
def feed_rotate(request: HttpRequest, feed_id: int) -> HttpResponse:
    return _feed_change(
        request,
        feed_id,
        feed_token_rotate,
        lambda feed: f"New link for the {feed.subject} feed; the old link no longer works.",
    )


@login_required
@require_POST
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    return _feed_change(
        request, feed_id, feed_token_revoke, lambda feed: f"The {feed.subject} feed link is revoked."
    )


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind a secret URL: no login (calendar apps cannot log in); 404 unless live.

    Two queries when unchanged (the token, an aggregate) and a 304; three when rendered.
    """
    request.log_path = reverse("calendars:feed", args=["TOKEN"])  # type: ignore[attr-defined]
    found = feed_for_token(token)
    if found is None:
        raise Http404("No such calendar feed.")
    window = feed_window()
    etag, changed = feed_state(found, window)
    quoted = f'"{etag}"'
    last_modified = int(changed.timestamp()) if changed else None
    response = get_conditional_response(request, etag=quoted, last_modified=last_modified)
    if response is None:
        rows = feed_rows(feed_workouts(found, window))
        base = request.build_absolute_uri("/").rstrip("/")
        response = HttpResponse(render_feed(found, rows, window=window, link_base=base))
        response["Content-Type"] = "text/calendar; charset=utf-8"
        response["Content-Disposition"] = f'inline; filename="{found.kind}-{found.pk}.ics"'
    response["ETag"] = quoted
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
