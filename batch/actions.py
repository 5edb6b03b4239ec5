"""What an ended batch offers next — undo, retry failed, resume the rest — and who may ask.

One home for the rules: the services (`batch/undo.py`, `batch/retry.py`, `batch/resume.py`) refuse
with the message of `undo_refusal` / `retry_refusal` / `resume_refusal`, and the screens offer an
action exactly when `batch_offers` (for one batch or a whole page) says so, so a button never leads
to an error. The follow-up batches themselves are built by `batch/followup.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from batch.errors import ErrorCode
from batch.models import Batch, BatchChange, BatchItem
from workouts.models import Membership
from workouts.selectors import role_in_team

# Items that never ran because the batch was cancelled or stopped: what a resume runs.
NEVER_RAN = Q(status=BatchItem.Status.CANCELLED) | Q(
    status=BatchItem.Status.SKIPPED, error__code=ErrorCode.STOPPED_ON_ERROR
)
# Items that failed, or never ran because an item they depend on failed: what a retry runs.
FAILED_HERE = Q(status=BatchItem.Status.FAILED) | Q(
    status=BatchItem.Status.SKIPPED, error__code=ErrorCode.DEPENDENCY_FAILED
)
# Items skipped where running them again can go differently: a clash with another booking or busy
# time, every part of a series skipped, a medical skip — the calendar and restrictions move on. Not a
# version conflict (the operation pins the version it expected), nor what a resume runs.
# One a retry of the batch already ran to success is done with.
RETRYABLE_SKIP = (
    Q(
        status=BatchItem.Status.SKIPPED,
        error__code__in=[ErrorCode.CONFLICT, ErrorCode.BUSY_TIME, ErrorCode.MEDICAL],
    )
    & ~Q(error__contains={"details": {"conflict": "VERSION"}})
    & ~Q(
        Exists(
            BatchItem.objects.filter(
                batch__retry_of_id=OuterRef("batch_id"),
                op_id=OuterRef("op_id"),
                status=BatchItem.Status.SUCCEEDED,
            )
        )
    )
)
REVERTED = (Batch.Status.UNDONE, Batch.Status.ROLLED_BACK)


class BatchActionRefused(Exception):
    """A batch action (undo, retry, resume) cannot be done; `message` says why, for the user."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UndoNotAllowed(BatchActionRefused):
    """The batch cannot be undone (still running, an undo itself, nothing undoable…)."""


class UndoWindowClosed(UndoNotAllowed):
    """The undo deadline has passed or the change log was purged."""

    def __init__(self, message: str, *, deadline: dt.datetime | None) -> None:
        self.deadline = deadline
        super().__init__(message)


class RetryNotAllowed(BatchActionRefused):
    """The batch has nothing to retry, or is of a kind that is not retried."""


class ResumeNotAllowed(BatchActionRefused):
    """The batch has nothing left that never ran, or was reverted as a whole."""


class BatchActionDenied(BatchActionRefused, PermissionDenied):
    """Only the batch's owner or a staff user may undo, retry or resume it."""


# --- who ---------------------------------------------------------------------------------------------


def acting_user(user: Any) -> Any:
    """Return the user when authenticated, else None (a management command or the engine itself)."""
    return user if getattr(user, "is_authenticated", False) else None


def started_by_automation(batch: Batch) -> bool:
    """Whether the automations user (settings.AUTOMATIONS_ACTOR_USERNAME) started the batch (one query)."""
    username = getattr(settings, "AUTOMATIONS_ACTOR_USERNAME", "")
    return bool(username) and batch.created_by.get_username() == username


def may_act(user: Any, batch: Batch, *, force: bool = False) -> bool:
    """Owner or staff; None (command line, engine) acts as the operator.

    A batch the automations user started belongs to its team: any member may act on it. With
    `force`, the team's medic may too (a forced undo the medical gate refuses needs one;
    `batch.undo.batch_undo` checks that the force is a medical one).
    """
    actor = acting_user(user)
    if user is None or (actor is not None and (actor.is_staff or actor.pk == batch.created_by_id)):
        return True
    if actor is None:
        return False
    role = role_in_team(user=actor, team=batch.team)
    if role is None:
        return False
    return started_by_automation(batch) or (force and role == Membership.Role.MEDIC)


def check_may_act(user: Any, batch: Batch, verb: str, *, member: bool = False, force: bool = False) -> None:
    """Raise BatchActionDenied unless `may_act`. With `member`, a non-staff owner must still belong to
    the team (new work is done in its name)."""
    actor = acting_user(user)
    if may_act(user, batch, force=force):
        if (
            member
            and actor is not None
            and not actor.is_staff
            and role_in_team(user=actor, team=batch.team) is None
        ):
            raise BatchActionDenied(f"You are no longer a member of team {batch.team.slug}.")
        return
    raise BatchActionDenied(
        f"Only the batch's owner or a staff user may {verb} batch {batch.pk}"
        + (" (or the team's medic, forcing an undo the medical gate refuses)." if force else ".")
    )


def locked_batch(batch_id: int, verb: str) -> Batch:
    """Return the batch under its row lock (call inside a transaction)."""
    try:
        return Batch.objects.select_for_update(of=("self",)).select_related("team").get(pk=batch_id)
    except Batch.DoesNotExist:
        raise BatchActionRefused(f"There is no batch {batch_id} to {verb}.") from None


def fmt(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M %Z")


# --- what each batch offers (bulk: a constant number of queries for any number of batches) --------


@dataclass(frozen=True)
class Facts:
    """What the refusals need to know about a batch beyond its own row."""

    latest_undo: Batch | None = None
    has_undoable_changes: bool = False
    running_retry: int | None = None
    resumed_as: int | None = None
    remaining: int = 0
    retryable_skips: int = 0


def load_facts(batches: Iterable[Batch]) -> dict[int, Facts]:
    """Return each batch's Facts: at most five queries, whatever the number of batches."""
    batches = [b for b in batches if b.is_final and b.kind != Batch.Kind.UNDO]
    ids = [b.pk for b in batches]
    if not ids:
        return {}
    latest: dict[int, Batch] = {}
    for undo in Batch.objects.filter(undo_of_id__in=ids).order_by("undo_of_id", "-pk").distinct("undo_of_id"):
        latest[undo.undo_of_id] = undo
    undoable = set(
        BatchChange.objects.filter(batch_id__in=[b.pk for b in batches if b.succeeded], undoable=True)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    failed = [b.pk for b in batches if b.failed or b.skipped]
    retries = dict(
        Batch.objects.filter(retry_of_id__in=failed, status__in=Batch.ACTIVE_STATUSES).values_list(
            "retry_of_id", "pk"
        )
    )
    resumes = dict(Batch.objects.filter(resume_of_id__in=ids).values_list("resume_of_id", "pk"))
    maybe_left = [b.pk for b in batches if b.cancelled or b.skipped]
    counts = {
        batch_id: (n, skips)
        for batch_id, n, skips in (
            BatchItem.objects.filter(NEVER_RAN | RETRYABLE_SKIP, batch_id__in=maybe_left)
            .values("batch_id")
            .annotate(n=Count("pk", filter=NEVER_RAN), skips=Count("pk", filter=RETRYABLE_SKIP))
            .values_list("batch_id", "n", "skips")
            if maybe_left
            else []
        )
    }
    return {
        pk: Facts(
            latest_undo=latest.get(pk),
            has_undoable_changes=pk in undoable,
            running_retry=retries.get(pk),
            resumed_as=resumes.get(pk),
            remaining=counts.get(pk, (0, 0))[0],
            retryable_skips=counts.get(pk, (0, 0))[1],
        )
        for pk in ids
    }


def unreverted_changes(undo: Batch) -> list[int]:
    """Return the change ids an undo left alone (CONFLICT or FAILED), for a forced second pass."""
    rows = BatchItem.objects.filter(
        batch=undo, status__in=[BatchItem.Status.CONFLICT, BatchItem.Status.FAILED]
    ).values_list("data", flat=True)
    return [data["changeId"] for data in rows]


def facts_of(batch: Batch) -> Facts:
    return load_facts([batch]).get(batch.pk, Facts())


def window_refusal(batch: Batch, *, now: dt.datetime | None = None) -> UndoWindowClosed | None:
    """Return why the undo window is closed, or None while it is open."""
    deadline = batch.undo_deadline
    if batch.purged_at is not None:
        return UndoWindowClosed(
            f"Batch {batch.pk} can no longer be undone: its undo window closed"
            + (f" on {fmt(deadline)}" if deadline else "")
            + " and its change log was purged.",
            deadline=deadline,
        )
    if deadline is None or (now or timezone.now()) > deadline:
        return UndoWindowClosed(
            f"Batch {batch.pk} can no longer be undone: the undo window closed on "
            f"{fmt(deadline) if deadline else 'its end'} "
            f"({settings.BATCH_UNDO_WINDOW_HOURS} hours after the batch ended).",
            deadline=deadline,
        )
    return None


def undo_refusal(
    batch: Batch, facts: Facts | None = None, *, force: bool = False, now: dt.datetime | None = None
) -> UndoNotAllowed | None:
    """Return why `batch_undo` would not start an undo now, or None if it would.

    Whatever ran is undoable, however the batch ended (completed, with errors, cancelled, stopped).
    With `force` after an earlier undo: only once it ended leaving changes alone.
    """
    if batch.kind == Batch.Kind.UNDO:
        return UndoNotAllowed(
            f"Batch {batch.pk} is itself an undo and cannot be undone; "
            "to redo, submit the operations again as a new batch."
        )
    if not batch.is_final:
        return UndoNotAllowed(
            f"Batch {batch.pk} is still {batch.get_status_display().lower()}; "
            "wait for it to end (or cancel it) before undoing it."
        )
    if batch.status in REVERTED:
        return UndoNotAllowed(f"Batch {batch.pk} was already {batch.get_status_display().lower()}.")
    closed = window_refusal(batch, now=now)
    if closed is not None:
        return closed
    facts = facts or facts_of(batch)
    latest = facts.latest_undo
    if latest is not None:
        if not force:
            return UndoNotAllowed(f"Batch {batch.pk} is already being undone (batch {latest.pk}).")
        if not latest.is_final:
            return UndoNotAllowed(f"The undo of batch {batch.pk} (batch {latest.pk}) is still running.")
        if not (latest.conflicted or latest.failed):
            return UndoNotAllowed(f"The undo of batch {batch.pk} left nothing to force.")
        return None
    if not facts.has_undoable_changes:
        return UndoNotAllowed(f"Batch {batch.pk} changed nothing that can be undone.")
    return None


def follow_up_refusal(batch: Batch, verb: str, error: type[BatchActionRefused]) -> BatchActionRefused | None:
    """What retry and resume both require: an ended batch that is neither an undo nor rolled back."""
    if batch.kind == Batch.Kind.UNDO:
        return error(f"Batch {batch.pk} is an undo; undo the original again (with force) instead.")
    if not batch.is_final:
        return error(f"Batch {batch.pk} is still running; {verb} it when it has ended.")
    return None


def retry_base_refusal(batch: Batch) -> RetryNotAllowed | None:
    """What refuses any retry of a batch: who may act and when (follow_up_refusal), or a revert."""
    refused = follow_up_refusal(batch, "retry", RetryNotAllowed)
    if refused is not None:
        return refused  # type: ignore[return-value]
    if batch.status in REVERTED:
        return RetryNotAllowed(
            f"Batch {batch.pk} was {batch.get_status_display().lower()}: its successful work was "
            "reverted too, so submit the whole batch again instead."
        )
    return None


def retry_refusal(batch: Batch, facts: Facts | None = None) -> RetryNotAllowed | None:
    """Return why `batch_retry_failed` would not start a retry, or None if it would.

    A failed item always has its dependencies succeeded, so `failed > 0` is exactly "something to retry".
    """
    refused = retry_base_refusal(batch)
    if refused is not None:
        return refused
    if batch.failed == 0:
        return RetryNotAllowed(f"Batch {batch.pk} has no failed items to retry.")
    running = (facts or facts_of(batch)).running_retry
    if running is not None:
        return RetryNotAllowed(f"Batch {batch.pk} is being retried (batch {running}).")
    return None


def retry_skipped_refusal(batch: Batch, facts: Facts | None = None) -> RetryNotAllowed | None:
    """Return why `batch_retry_skipped` would not start a retry, or None if it would."""
    refused = retry_base_refusal(batch)
    if refused is not None:
        return refused
    facts = facts or facts_of(batch)
    if facts.retryable_skips == 0:
        return RetryNotAllowed(
            f"Batch {batch.pk} has no skipped items that could go differently now "
            "(clashes, busy time or medical skips)."
        )
    if facts.running_retry is not None:
        return RetryNotAllowed(f"Batch {batch.pk} is being retried (batch {facts.running_retry}).")
    return None


def resume_refusal(batch: Batch, facts: Facts | None = None) -> ResumeNotAllowed | None:
    """Return why `batch_resume` would not start a resume, or None if it would.

    An undone batch may still be resumed (cancel, undo what ran, then run the rest after all); a rolled
    back one may not: rollbackOnError promised all or nothing.
    """
    refused = follow_up_refusal(batch, "resume", ResumeNotAllowed)
    if refused is not None:
        return refused  # type: ignore[return-value]
    if batch.status == Batch.Status.ROLLED_BACK:
        return ResumeNotAllowed(
            f"Batch {batch.pk} was rolled back as a whole (rollbackOnError); submit it again instead."
        )
    facts = facts or facts_of(batch)
    if facts.resumed_as is not None:
        return ResumeNotAllowed(
            f"Batch {batch.pk} was resumed as batch {facts.resumed_as}; resume that one for what is left."
        )
    if facts.remaining == 0:
        return ResumeNotAllowed(f"Batch {batch.pk} has nothing left that did not run.")
    return None


@dataclass(frozen=True)
class Offers:
    """What the screens offer for one batch; `resume` is the number of items a resume would run."""

    undo: bool
    force_undo: bool
    retry: bool
    resume: int
    retry_skipped: int = 0  # skipped items a retry could change (0: not offered)


def batch_offers(batches: Iterable[Batch]) -> dict[int, Offers]:
    """Return the offers of many batches (a history page) in at most five queries."""
    batches = list(batches)
    facts = load_facts(batches)
    out = {}
    for batch in batches:
        known = facts.get(batch.pk, Facts())
        out[batch.pk] = Offers(
            undo=undo_refusal(batch, known) is None,
            force_undo=known.latest_undo is not None and undo_refusal(batch, known, force=True) is None,
            retry=retry_refusal(batch, known) is None,
            resume=known.remaining if resume_refusal(batch, known) is None else 0,
            retry_skipped=known.retryable_skips if retry_skipped_refusal(batch, known) is None else 0,
        )
    return out


def can_force_undo(batch: Batch) -> bool:
    """Whether an undo of this batch ended leaving edited objects alone, so "undo with force" can work."""
    return batch_offers([batch])[batch.pk].force_undo
