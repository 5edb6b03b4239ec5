"""The batch page's buttons: cancel, undo, retry the failed, resume, and force an undo (with its
preview). Each is a POST that calls one service and goes back to a batch page with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize

from batch.actions import BatchActionRefused
from batch.quotas import QuotaExceeded
from batch.resume import batch_resume
from batch.retry import batch_retry_failed
from batch.selectors import force_undo_preview
from batch.services import batch_cancel
from batch.undo import batch_undo
from batch.views.common import force_offered, get_batch, post_only
from batch.wording import batch_outcome
from medical.roles import is_medic_or_staff


@login_required
def batch_cancel_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := post_only(request):
        return response
    batch = get_batch(request, batch_id)
    try:
        batch = batch_cancel(batch_id=batch.pk, user=request.user, channel="web")
    except BatchActionRefused as exc:
        messages.error(request, f"Cannot cancel batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.info(request, f"Batch {batch.pk}: cancel requested — items not started yet are cancelled.")
    return redirect("batch:detail", batch.pk)


@login_required
def batch_undo_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := post_only(request):
        return response
    batch = get_batch(request, batch_id)
    try:
        undo = batch_undo(batch_id=batch.pk, user=request.user, channel="web")
    except BatchActionRefused as exc:
        messages.error(request, f"Cannot undo batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Undoing batch {batch.pk}: its progress is below.")
    return redirect("batch:detail", undo.pk)


@login_required
def batch_retry_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    if response := post_only(request):
        return response
    batch = get_batch(request, batch_id)
    try:
        retry = batch_retry_failed(batch_id=batch.pk, user=request.user, channel="web")
    except (BatchActionRefused, QuotaExceeded) as exc:
        messages.error(request, f"Cannot retry batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Retrying the failed items of batch {batch.pk}.")
    return redirect("batch:detail", retry.pk)


@login_required
def batch_resume_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Run what a cancelled or stopped batch never ran, as a new linked batch."""
    if response := post_only(request):
        return response
    batch = get_batch(request, batch_id)
    try:
        resumed = batch_resume(batch_id=batch.pk, user=request.user, channel="web")
    except (BatchActionRefused, QuotaExceeded) as exc:
        messages.error(request, f"Cannot resume batch {batch.pk}: {exc.message}")
        return redirect("batch:detail", batch.pk)
    messages.success(request, f"Running the {resumed.total_items} remaining item(s) of batch {batch.pk}.")
    return redirect("batch:detail", resumed.pk)


@login_required
def batch_force_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    """GET: what forcing the undo would overwrite. POST: force it (owner or staff; a medic or staff
    member where it puts restricted players back on workouts)."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
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
