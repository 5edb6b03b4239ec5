"""The batch page's buttons: cancel, undo, retry the failed, resume, and force an undo (with its
preview). Each is a POST that calls one service and goes back to a batch page with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from batch.actions import BatchActionRefused
from batch.models import Batch
from batch.quotas import QuotaExceeded
from batch.resume import batch_resume
from batch.retry import batch_retry_failed, batch_retry_skipped
from batch.selectors import force_undo_preview
from batch.services import batch_cancel
from batch.undo import batch_undo
from batch.views.common import force_offered, get_batch
from batch.wording import batch_outcome
from medical.roles import is_medic_or_staff


@dataclass(frozen=True)
class Action:
    """One button of the batch page: the service it calls, what it may refuse with, and what to say."""

    verb: str
    run: Callable[..., Batch]
    refusals: tuple[type[Exception], ...]
    said: Callable[[Batch, Batch], str]
    level: int = messages.SUCCESS
    goes_to_new: bool = True  # show the batch the action made (undo, retry, resume), else the same one


ACTIONS = {
    "cancel": Action(
        "cancel",
        batch_cancel,
        (BatchActionRefused,),
        lambda batch, _: f"Batch {batch.pk}: cancel requested — items not started yet are cancelled.",
        level=messages.INFO,
        goes_to_new=False,
    ),
    "undo": Action(
        "undo",
        batch_undo,
        (BatchActionRefused,),
        lambda batch, _: f"Undoing batch {batch.pk}: its progress is below.",
    ),
    "retry": Action(
        "retry",
        batch_retry_failed,
        (BatchActionRefused, QuotaExceeded),
        lambda batch, _: f"Retrying the failed items of batch {batch.pk}.",
    ),
    "retry_skipped": Action(
        "retry",
        batch_retry_skipped,
        (BatchActionRefused, QuotaExceeded),
        lambda batch, made: f"Retrying the {made.total_items} skipped item(s) of batch {batch.pk}.",
    ),
    "resume": Action(
        "resume",
        batch_resume,
        (BatchActionRefused, QuotaExceeded),
        lambda batch, made: f"Running the {made.total_items} remaining item(s) of batch {batch.pk}.",
    ),
}


@login_required
@require_POST
def batch_action(request: HttpRequest, batch_id: int, action: str) -> HttpResponse:
    """Cancel, undo, retry the failed or resume (what a cancelled or stopped batch never ran, as a new
    linked batch): one POST, one service, back to a batch page with a message."""
    button = ACTIONS[action]
    batch = get_batch(request, batch_id)
    try:
        made = button.run(batch_id=batch.pk, user=request.user, channel="web")
    except button.refusals as exc:
        messages.error(request, f"Cannot {button.verb} batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.add_message(request, button.level, button.said(batch, made))
    return redirect("batch:detail", made.pk if button.goes_to_new else batch.pk)


@login_required
@require_http_methods(["GET", "POST"])
def batch_force_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    """GET: what forcing the undo would overwrite. POST: force it (owner or staff; a medic or staff
    member where it puts restricted players back on workouts)."""
    batch = get_batch(request, batch_id)
    preview = force_undo_preview(batch=batch)
    offered = force_offered(request, batch) and bool(preview.possible)
    medical_ok = not preview.medical or is_medic_or_staff(user=request.user, team=batch.team)
    if request.method == "POST":
        if not offered:
            messages.error(request, "There is nothing to force: the undo left no edit it can overwrite.")
            return redirect("batch:detail", batch.pk)
        if not medical_ok:
            messages.error(
                request,
                "Forcing this undo puts players with medical restrictions back on workouts: "
                "a medic or staff member has to do it.",
            )
            return redirect("batch:force_undo", batch.pk)
        try:
            undo = batch_undo(batch_id=batch.pk, user=request.user, force=True, channel="web")
        except BatchActionRefused as exc:
            messages.error(request, f"Cannot force the undo: {exc.message}")
            return redirect("batch:detail", batch.pk)
        n = len(preview.possible)
        messages.success(request, f"Forcing the undo of {n} edited change{pluralize(n)}: progress below.")
        return redirect("batch:detail", undo.pk)
    context = {
        "batch": batch,
        "team": batch.team,
        "preview": preview,
        "offered": offered,
        "medical_ok": medical_ok,
        "outcome": batch_outcome(batch),
    }
    return render(request, "batch/force_undo.html", context)
