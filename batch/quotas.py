"""Quotas on new batch work, enforced where batches are created, so pages, commands and the API obey them.

Four limits (settings, 0 turns one off; see docs/operations.md):

- BATCH_QUOTA_ACTIVE_PER_TEAM: batches of a team not yet final (queued, running, cancelling, rolling back);
- BATCH_QUOTA_ACTIVE_PER_USER: the same, per user across all their teams;
- BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY: operations submitted by a team since local midnight
  (TIME_ZONE);
- BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE: batches a user submitted in the last 60 seconds.

Undo and rollback batches are neither checked nor counted: they only take back work that was already
counted, and refusing them would leave a team stuck with changes it wants gone (rollbackOnError starts
inside the engine's finalize and cannot wait). Retries, and anything else that adds work, count.

The authoritative check runs inside the transaction that writes the batch, under PostgreSQL advisory
locks for the user and the team (always in that order), so two simultaneous submits cannot both take
the last slot. A cheaper check without locks runs before validation, so a refused request does not
first pay for a dry run.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from batch.models import Batch
from hockeyhub.audit import Auditor
from hockeyhub.models import AuditEvent

# Single-bigint advisory keys: a namespace in the high 32 bits, the id in the low ones. The runner's
# slot locks use the two-int4 key space, which PostgreSQL keeps apart from this one.
USER_LOCK_NAMESPACE = 0x4855  # "HU"
TEAM_LOCK_NAMESPACE = 0x4854  # "HT"
MIN_RETRY_AFTER = 1
ACTIVE_RETRY_AFTER_BOUNDS = (5, 600)


class Quota:
    ACTIVE_PER_TEAM = "active_batches_per_team"
    ACTIVE_PER_USER = "active_batches_per_user"
    OPERATIONS_PER_TEAM_PER_DAY = "operations_per_team_per_day"
    SUBMISSIONS_PER_USER_PER_MINUTE = "submissions_per_user_per_minute"


class QuotaExceeded(Exception):
    """A batch was refused by a quota. `retry_after` is the number of seconds worth waiting.

    Pages show `message` as a form error, commands exit 4 with it, the API answers 429 with
    `Retry-After: retry_after`. Nothing was written except the audit row (see quota_refusal_record).
    """

    code = "QUOTA_EXCEEDED"

    def __init__(
        self, *, quota: str, message: str, retry_after: int, limit: int, current: int, requested: int
    ):
        self.quota = quota
        self.message = message
        self.retry_after = max(int(retry_after), MIN_RETRY_AFTER)
        self.limit = limit
        self.current = current
        self.requested = requested
        super().__init__(message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "quota": self.quota,
            "message": self.message,
            "retryAfter": self.retry_after,
            "limit": self.limit,
            "current": self.current,
            "requested": self.requested,
        }


@dataclass(frozen=True)
class Limits:
    active_per_team: int
    active_per_user: int
    operations_per_team_per_day: int
    submissions_per_user_per_minute: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            active_per_team=settings.BATCH_QUOTA_ACTIVE_PER_TEAM,
            active_per_user=settings.BATCH_QUOTA_ACTIVE_PER_USER,
            operations_per_team_per_day=settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY,
            submissions_per_user_per_minute=settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE,
        )


def counted_batches() -> Any:
    """Batches that count against quotas: everything but undo and rollback batches."""
    return Batch.objects.exclude(kind=Batch.Kind.UNDO)


def quota_check(*, user: Any, team: Any, operations: int, now: dt.datetime | None = None) -> None:
    """Raise QuotaExceeded when a new batch of `operations` by `user` for `team` is over a limit.

    Up to four small indexed queries. Without the locks of quota_lock this is only a pre-check.
    """
    limits = Limits.from_settings()
    now = now or timezone.now()
    user_id = getattr(user, "pk", None)
    counted = counted_batches()

    if limits.submissions_per_user_per_minute and user_id is not None:
        window_start = now - dt.timedelta(seconds=60)
        recent = list(
            counted.filter(created_by_id=user_id, created_at__gt=window_start)
            .order_by("created_at")
            .values_list("created_at", flat=True)[: limits.submissions_per_user_per_minute]
        )
        if len(recent) >= limits.submissions_per_user_per_minute:
            # The oldest submission in the window leaves it first.
            wait = math.ceil((recent[0] + dt.timedelta(seconds=60) - now).total_seconds())
            raise QuotaExceeded(
                quota=Quota.SUBMISSIONS_PER_USER_PER_MINUTE,
                message=(
                    f"You have started {len(recent)} batches in the last minute, the most allowed "
                    f"({limits.submissions_per_user_per_minute}). Try again in {_human(wait)}."
                ),
                retry_after=wait,
                limit=limits.submissions_per_user_per_minute,
                current=len(recent),
                requested=1,
            )

    active = counted.filter(status__in=Batch.ACTIVE_STATUSES)
    who = {Quota.ACTIVE_PER_USER: "You already have", Quota.ACTIVE_PER_TEAM: f"Team {team.name} already has"}
    scopes = (
        (
            Quota.ACTIVE_PER_USER,
            limits.active_per_user if user_id is not None else 0,
            {"created_by_id": user_id},
        ),
        (Quota.ACTIVE_PER_TEAM, limits.active_per_team, {"team": team}),
    )
    for quota, limit, scope in scopes:
        running = list(active.filter(**scope).only("estimate", "queued_at", "started_at")) if limit else []
        if limit and len(running) >= limit:
            raise QuotaExceeded(
                quota=quota,
                message=f"{who[quota]} {len(running)} batches queued or running, the most allowed ({limit}). "
                "Wait for one to finish, or cancel one.",
                retry_after=_active_retry_after(running, now),
                limit=limit,
                current=len(running),
                requested=1,
            )

    if limits.operations_per_team_per_day:
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        used = counted.filter(team=team, created_at__gte=midnight).aggregate(n=Sum("total_items"))["n"] or 0
        if used + operations > limits.operations_per_team_per_day:
            tomorrow = midnight + dt.timedelta(days=1)
            # Local midnight: a DST change makes the day 23 or 25 hours long.
            next_midnight = timezone.make_aware(dt.datetime.combine(tomorrow.date(), dt.time()))
            wait = math.ceil((next_midnight - now).total_seconds())
            left = max(limits.operations_per_team_per_day - used, 0)
            raise QuotaExceeded(
                quota=Quota.OPERATIONS_PER_TEAM_PER_DAY,
                message=(
                    f"Team {team.name} has used {used:,} of its {limits.operations_per_team_per_day:,} "
                    f"operations for today; this batch has {operations:,}"
                    + (f" and only {left:,} are left" if left else "")
                    + f". The count starts again at midnight (in {_human(wait)})"
                    + ("; a smaller batch may fit now." if left else ".")
                ),
                retry_after=wait,
                limit=limits.operations_per_team_per_day,
                current=used,
                requested=operations,
            )


def quota_lock(*, user: Any, team: Any) -> None:
    """Serialise batch creation per user and per team until the transaction ends (user first)."""
    with connection.cursor() as cursor:
        if getattr(user, "pk", None) is not None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [(USER_LOCK_NAMESPACE << 32) + user.pk])
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [(TEAM_LOCK_NAMESPACE << 32) + team.pk])


def quota_enforce(*, user: Any, team: Any, operations: int) -> None:
    """The authoritative check: call inside the transaction that writes the batch."""
    quota_lock(user=user, team=team)
    quota_check(user=user, team=team, operations=operations)


def quota_refusal_record(
    *, exc: QuotaExceeded, user: Any, team: Any, channel: str, kind: str = "normal"
) -> None:
    """Audit a refusal. Call outside the refused transaction, so the row survives its rollback."""
    audit = Auditor(actor=user, team=team, channel=channel)
    audit(
        AuditEvent.Action.BATCH_QUOTA_REFUSED,
        team,
        purpose=exc.quota,
        details={**exc.as_dict(), "kind": kind},
    )


def _active_retry_after(batches: list[Any], now: dt.datetime) -> int:
    """Seconds until the active batch expected to end first ends (from its estimate), bounded."""
    low, high = ACTIVE_RETRY_AFTER_BOUNDS
    remaining = []
    for batch in batches:
        seconds = (batch.estimate or {}).get("seconds")
        since = batch.started_at or batch.queued_at
        if isinstance(seconds, (int, float)) and since is not None:
            remaining.append(seconds - (now - since).total_seconds())
    if not remaining:
        return 30
    return int(min(max(math.ceil(min(remaining)), low), high))


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{max(seconds, 1)} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
