"""Pinned targets: what was validated is what runs.

`batch_plan_create` stores a dry run's promise (`BatchPlan`): the request it judged, a fingerprint of
its operations and options, and every target workout with its version at validation. `plan_check`
(called by `batch_submit` for a run that names a plan) refuses a run whose request is not the validated
one, a plan of another user, an expired or used one, and — naming them — targets whose version moved,
or that were archived or deleted, since. The modal and the API (`?plan=`) use the same check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from batch.errors import InvalidRequest, RequestProblem
from batch.models import BatchPlan
from workouts.models import Workout

PLAN_LIFETIME = dt.timedelta(hours=1)
PLAN_KEPT_AFTER_EXPIRY = dt.timedelta(days=1)  # then deleted when the user validates again
NAMED = 10  # a refusal names this many changed workouts, then "and N more"

# Problem codes of a refused pinned run (each says what to do in its message).
PLAN_UNKNOWN = "PLAN_NOT_FOUND"
PLAN_EXPIRED = "PLAN_EXPIRED"
PLAN_USED = "PLAN_ALREADY_RUN"
PLAN_MISMATCH = "PLAN_MISMATCH"
TARGETS_CHANGED = "CHANGED_SINCE_VALIDATION"


def request_fingerprint(raw: Any) -> str:
    """SHA-256 of the request's operations and options (canonical JSON). Metadata (requestId,
    description, timestamp) is left out: it names a submission, not what it does."""
    body = raw if isinstance(raw, dict) else {"operations": raw}
    canonical = json.dumps(
        {"operations": body.get("operations"), "options": body.get("options") or {}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def target_ids(raw: Any) -> list[int]:
    """The workout ids the request's operations name (`workoutId`, `workoutIds`), in order, once."""
    operations = raw.get("operations") if isinstance(raw, dict) else raw
    ids: dict[int, None] = {}
    for op in operations if isinstance(operations, list) else []:
        data = op.get("data") if isinstance(op, dict) else None
        if not isinstance(data, dict):
            continue
        named = [data.get("workoutId"), *(data.get("workoutIds") or [])]
        for pk in named:
            if isinstance(pk, int) and not isinstance(pk, bool):
                ids[pk] = None
    return list(ids)


def batch_plan_create(*, user: Any, team: Any, raw: Any, invalid: list[str] | None = None) -> BatchPlan:
    """Pin a validated request: its targets with their versions now (one query), for PLAN_LIFETIME.

    Targets outside the team or missing are not pinned (the dry run already reported them).
    Also deletes the user's plans that expired more than a day ago (one indexed DELETE).
    """
    now = timezone.now()
    BatchPlan.objects.filter(user=user, expires_at__lt=now - PLAN_KEPT_AFTER_EXPIRY).delete()
    ids = target_ids(raw)
    rows = {
        pk: (version, name, start)
        for pk, version, name, start in Workout.objects.filter(team=team, pk__in=ids).values_list(
            "pk", "version", "name", "scheduled_start"
        )
    }
    targets = [
        {
            "id": pk,
            "version": rows[pk][0],
            "name": rows[pk][1],
            "start": rows[pk][2].isoformat() if rows[pk][2] else None,
        }
        for pk in ids
        if pk in rows
    ]
    return BatchPlan.objects.create(
        team=team,
        user=user,
        fingerprint=request_fingerprint(raw),
        request=raw,
        targets=targets,
        invalid=list(invalid or []),
        expires_at=now + PLAN_LIFETIME,
    )


def _refuse(message: str, code: str) -> InvalidRequest:
    return InvalidRequest([RequestProblem(message, code=code)])


def plan_for(*, user: Any, team: Any, plan_id: Any) -> BatchPlan:
    """Return the user's unexpired, unused plan for this team; raise InvalidRequest saying why not."""
    try:
        key = uuid.UUID(str(plan_id))
        plan = BatchPlan.objects.get(pk=key, user=user, team=team)
    except (ValueError, BatchPlan.DoesNotExist):
        # Another user's plan is answered like an unknown one: a plan id is not a way to learn others' work.
        raise _refuse(
            f"validation {plan_id} is not one of your dry runs for team {team.slug}: validate again",
            PLAN_UNKNOWN,
        ) from None
    if plan.expires_at <= timezone.now():
        raise _refuse(
            f"this dry run expired at {timezone.localtime(plan.expires_at):%H:%M} "
            f"(a dry run holds for {int(PLAN_LIFETIME.total_seconds() // 60)} minutes): validate again",
            PLAN_EXPIRED,
        )
    if plan.batch_id is not None:
        raise _refuse(
            f"this dry run was already run as batch {plan.batch_id}: validate again to run it once more",
            PLAN_USED,
        )
    return plan


def changed_targets(plan: BatchPlan) -> list[dict[str, Any]]:
    """The plan's targets whose version moved (edited or archived) or that are gone since (one query)."""
    pinned = {t["id"]: t for t in plan.targets}
    now = {
        pk: (version, archived_at)
        for pk, version, archived_at in Workout.objects.filter(
            pk__in=list(pinned), team_id=plan.team_id
        ).values_list("pk", "version", "archived_at")
    }
    changed = []
    for pk, target in pinned.items():
        if pk not in now:
            changed.append({**target, "why": "deleted"})
        elif now[pk][0] != target["version"]:
            changed.append({**target, "why": "archived" if now[pk][1] else "edited"})
    return changed


def describe(target: dict[str, Any]) -> str:
    start = parse_datetime(target["start"]) if target.get("start") else None
    when = f" {timezone.localtime(start):%a %-d %b}" if start else ""
    return f"{target['name']}{when} ({target['why']})"


def plan_check(*, user: Any, team: Any, plan_id: Any, raw: Any) -> BatchPlan:
    """Return the plan if `raw` is what it validated and none of its targets changed since.

    Raises InvalidRequest: unknown / another user's / expired / used plan; a request that is not the
    validated one; "N workouts changed since you validated: validate again", naming them.
    """
    plan = plan_for(user=user, team=team, plan_id=plan_id)
    if request_fingerprint(raw) != plan.fingerprint:
        raise _refuse(
            "this is not the request you validated (the operations or options differ): validate again",
            PLAN_MISMATCH,
        )
    changed = changed_targets(plan)
    if changed:
        n = len(changed)
        named = "; ".join(describe(t) for t in changed[:NAMED]) + (
            f"; and {n - NAMED} more" if n > NAMED else ""
        )
        raise InvalidRequest(
            [
                RequestProblem(
                    f"{n} workout{pluralize(n)} changed since you validated: validate again ({named})",
                    code=TARGETS_CHANGED,
                )
            ]
        )
    return plan


def without_invalid(raw: dict[str, Any], invalid: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The request without the operations the dry run found errors in, nor those depending on them
    (transitively); and the op ids left out, in request order."""
    dropped = set(invalid)
    operations = [op for op in raw.get("operations") or [] if isinstance(op, dict)]
    grew = True
    while grew:
        grew = False
        for op in operations:
            if op.get("id") not in dropped and set(op.get("dependencies") or []) & dropped:
                dropped.add(op.get("id"))
                grew = True
    kept = [op for op in operations if op.get("id") not in dropped]
    left_out = [op.get("id") for op in operations if op.get("id") in dropped]
    return {**raw, "operations": kept}, left_out
