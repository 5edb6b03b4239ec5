"""What the batch pages share: the user's batches (another team's is a 404), rendering a page or its
htmx fragment, which actions a batch's page offers, and submitting a batch from a page.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from batch.actions import Offers, batch_offers, can_force_undo, may_act, window_refusal
from batch.models import Batch
from batch.services import batch_submit
from workouts.selectors import teams_for_user

FORM_ERROR_STATUS = 422  # swapped by htmx (see responseHandling in base.html), shown as form errors


def visible_batches(request: HttpRequest) -> Any:
    return Batch.objects.filter(team__in=teams_for_user(user=request.user))


def get_batch(request: HttpRequest, batch_id: int) -> Batch:
    structlog.contextvars.bind_contextvars(batch_id=batch_id)  # on this request's log lines
    return get_object_or_404(visible_batches(request).select_related("team", "created_by"), pk=batch_id)


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    name = f"{template}#{partial}" if request.htmx and not request.htmx.boosted else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def may_cancel(request: HttpRequest, batch: Batch) -> bool:
    """Whether to offer the cancel button: the owner or staff (batch_cancel enforces the same rule)."""
    return request.user.is_staff or batch.created_by_id == request.user.pk


def undo_context(batch: Batch, offers: Offers | None = None) -> dict[str, Any]:
    """Undo availability and the window's end, from the one rulebook (`batch.actions`)."""
    offers = offers or batch_offers([batch])[batch.pk]
    closed = (
        batch.kind != Batch.Kind.UNDO
        and batch.is_final
        and window_refusal(batch) is not None
        and batch.status not in (Batch.Status.UNDONE, Batch.Status.ROLLED_BACK)
    )
    return {
        "undo_available": offers.undo,
        "undo_deadline": batch.undo_deadline,
        "undo_closed": closed,
        "force_available": offers.force_undo,
        "retry_available": offers.retry,
        "resume_remaining": offers.resume,
        "retry_skipped": offers.retry_skipped,
    }


def _may_act(request: HttpRequest, batch: Batch) -> bool:
    """Owner or staff: who may undo, force, retry or resume a batch (as the services check)."""
    return may_act(request.user, batch)


def page_offers(request: HttpRequest, batch: Batch, undo_state: dict[str, Any]) -> set[str]:
    """The recovery actions this batch's page offers the user (suggested actions name only these)."""
    offers = set()
    if batch.is_final and _may_act(request, batch):
        if undo_state["retry_available"]:
            offers.add("retry")
        if undo_state["undo_available"]:
            offers.add("undo")
        if undo_state["force_available"]:
            offers.add("force_undo")
        if undo_state["resume_remaining"]:
            offers.add("resume")
        if undo_state.get("retry_skipped"):
            offers.add("retry_skipped")
    return offers


def force_offered(request: HttpRequest, batch: Batch) -> bool:
    """Force undo is offered to the owner when the latest undo left changes alone, in the window."""
    return may_act(request.user, batch, force=True) and can_force_undo(batch)


def page_submit(
    request: HttpRequest, *, team: Any, raw: Any, source: str, plan_id: Any, valid_only: bool = False
) -> Batch:
    """Submit a batch from a page: the signed-in user, the web channel, the "I have read the warnings" box."""
    return batch_submit(
        user=request.user,
        team=team,
        raw=raw,
        source=source,
        channel="web",
        warnings_acknowledged=bool(request.POST.get("acknowledge")),
        plan_id=plan_id,
        valid_only=valid_only,
    )
