"""The batch history of a team, and the end-of-batch notices polled by every page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseStopPolling

from batch.actions import batch_offers
from batch.models import Batch
from batch.selectors import batches_for_team
from batch.services import batch_notices_seen
from batch.views.common import render_page, undo_context
from batch.wording import batch_outcome
from workouts.selectors import team_for_user

HISTORY_PAGE_SIZE = 25


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    team = team_for_user(user=request.user, slug=request.GET.get("team"))
    page = Paginator(batches_for_team(team=team), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    offers = batch_offers(page.object_list)
    rows = [
        {"batch": b, "outcome": batch_outcome(b), **undo_context(b, offers[b.pk])} for b in page.object_list
    ]
    return render_page(
        request, "batch/list.html", "history", {"team": team, "page": page, "rows": rows, "now": now}
    )


def _notice_ids(values: list[str]) -> list[int] | None:
    """Return the batch ids in a notice parameter, or None if one is not a positive integer."""
    # ASCII digits only ("²".isdigit() is true, int("²") is not), and within bigint.
    if len(values) > 50 or not all(v.isascii() and v.isdigit() and 0 < int(v) < 2**63 for v in values):
        return None
    return [int(v) for v in values]


@login_required
def batch_notifications(request: HttpRequest) -> HttpResponse:
    """GET: end-of-batch notices not seen yet, minus those already on the page (`shown`); 204 if none.

    Showing a notice does not mark it seen, so a notice shown just before a reload comes back. POST
    `seen`: the user dismissed it (opening the batch also counts, see batch_detail).
    """
    if request.method == "POST":
        seen = _notice_ids(request.POST.getlist("seen"))
        if not seen:
            return HttpResponseBadRequest("Which notice?", content_type="text/plain")
        batch_notices_seen(user=request.user, batch_ids=seen)
        if request.htmx:
            return HttpResponse("")  # 200 with nothing: the notice is swapped away (hx-swap="delete")
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("workouts:list")
        return redirect(back)
    if request.method != "GET":
        return HttpResponse(status=405)
    shown = _notice_ids(request.GET.getlist("shown"))
    if shown is None:
        return HttpResponseBadRequest("Bad notice ids.", content_type="text/plain")
    pending = (
        Batch.objects.filter(
            Q(options__notify_on_complete=True),
            created_by=request.user,
            status__in=Batch.FINAL_STATUSES,
            notified_at__isnull=True,
        )
        .exclude(pk__in=shown)
        .only(
            "id",
            "status",
            "succeeded",
            "failed",
            "skipped",
            "cancelled",
            "total_items",
            "description",
            "kind",
            "conflicted",
            "warned",
        )
    )
    batches = list(pending.order_by("-finished_at")[:5])
    # Idle (nothing of the user's still running that will notify): stop the poll with HTTP 286.
    running = Batch.objects.filter(
        Q(options__notify_on_complete=True), created_by=request.user, status__in=Batch.ACTIVE_STATUSES
    ).exists()
    if not batches:
        return HttpResponse(status=204) if running else HttpResponseStopPolling("")
    notices = [{"batch": b, "outcome": batch_outcome(b)} for b in batches]
    response = render(request, "batch/notifications.html", {"notices": notices})
    return response if running else HttpResponseStopPolling(response.content)
