"""Trigger: a restriction takes effect, so that player's planned sessions are judged again.

Any path that saves a MedicalRestriction (admin, ORM, a command, the API) fires `post_save`; the
handler enqueues `automations.tasks.restriction_job` once the transaction commits. So does the tick
on the day a restriction reaches its effective date. The job (`restriction_react`) judges the player's
assignments to future workouts inside the restriction's window with the one medical gate
(`medical.gate`), and submits one ordinary batch, started by the automations user, that takes the
player off the workouts where the gate blocks and records the gate's substitutions and load cap where
it modifies. Undoable for 24 hours like any batch.

Idempotent: a reaction row per (restriction, version) with a unique key in PostgreSQL; the version is
a fingerprint of the restriction's rules and dates, so saving it unchanged, or the same event twice,
changes nothing. The batch's requestId carries the same key, so a job that died after submitting and
runs again gets the same batch back. A restriction that is cleared or shortened puts nobody back:
the trainers get a notice offering to undo the earlier batch instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from automations.actor import automation_actor
from automations.models import Notice, RestrictionReaction
from automations.queueing import enqueue_job
from batch.errors import InvalidRequest
from batch.models import Batch
from batch.quotas import QuotaExceeded
from batch.services import batch_submit
from batch.wording import human_day
from medical.compliance import BLOCKED, MODIFIED
from medical.gate import MedicalGate, planned_workouts
from medical.models import RULE_FIELDS, MedicalRestriction
from workouts.calendar import at, local_day
from workouts.models import Assignment, Membership, Workout

log = logging.getLogger("automations")

RESTRICTION_JOB = "automations.tasks.restriction_job"
FINGERPRINT_FIELDS = ("player_id", "status", *RULE_FIELDS)
# Workouts nobody will train in any more: nothing to take anyone off.
DONE_STATUSES = ("completed", "cancelled", "archived")


def fingerprint(restriction: MedicalRestriction) -> str:
    """Return the restriction's version: a hash of what the gate reads (not its notes or title)."""
    values = {name: getattr(restriction, name) for name in FINGERPRINT_FIELDS}
    raw = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def restriction_saved(sender: Any, instance: MedicalRestriction, raw: bool = False, **kwargs: Any) -> None:
    """post_save: react once the save has committed (never inside the saver's transaction)."""
    if raw or not settings.AUTOMATIONS_RESTRICTION_TRIGGER:  # loaddata; or turned off
        return
    pk = instance.pk
    transaction.on_commit(lambda: enqueue_reaction(restriction_id=pk))


def enqueue_reaction(*, restriction_id: int, occasion: str = "") -> str:
    return enqueue_job(RESTRICTION_JOB, restriction_id, occasion, description=f"restriction {restriction_id}")


def restrictions_taking_effect(*, day: dt.date) -> list[int]:
    """Enqueue a reaction for each active restriction whose effective date is `day`; return their ids."""
    if not settings.AUTOMATIONS_RESTRICTION_TRIGGER:
        return []
    # Those already handled for this day are left out: the tick runs every minute.
    ids = list(
        MedicalRestriction.objects.filter(effective_date=day, status=MedicalRestriction.Status.ACTIVE)
        .exclude(automation_reactions__key__endswith=f":{day.isoformat()}")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_reaction(restriction_id=pk, occasion=day.isoformat())
    return ids


@dataclass
class Judgement:
    """What the gate said about one player's future sessions inside one restriction's window."""

    blocked: list[Workout] = field(default_factory=list)
    modified: list[Workout] = field(default_factory=list)
    # workout id -> the player's assignment, and the other players' assignments on it
    mine: dict[int, Assignment] = field(default_factory=dict)
    others: dict[int, list[Assignment]] = field(default_factory=lambda: defaultdict(list))
    summaries: dict[int, str] = field(default_factory=dict)


def window_bounds(
    restriction: MedicalRestriction, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None]:
    """Return the instants the restriction's window covers from now on (end None: open-ended)."""
    start = max(at(restriction.effective_date, dt.time.min), now)
    end = at(restriction.expiry_date + dt.timedelta(days=1), dt.time.min) if restriction.expiry_date else None
    return start, end


def judge(restriction: MedicalRestriction, *, now: dt.datetime) -> Judgement:
    """Judge the player's assignments to future workouts in the window (a constant number of queries)."""
    out = Judgement()
    start, end = window_bounds(restriction, now)
    if end is not None and end <= start:
        return out
    workouts = Workout.objects.filter(
        team_id=restriction.player.team_id,
        scheduled_start__gte=start,
        archived_at__isnull=True,
        assignments__player_id=restriction.player_id,
    ).exclude(status__in=DONE_STATUSES)
    if end is not None:
        workouts = workouts.filter(scheduled_start__lt=end)
    workouts = {w.pk: w for w in workouts.select_related("created_by").order_by("scheduled_start", "pk")}
    if not workouts:
        return out
    for a in Assignment.objects.filter(workout_id__in=workouts).order_by("workout_id", "id"):
        if a.player_id == restriction.player_id:
            out.mine[a.workout_id] = a
        else:
            out.others[a.workout_id].append(a)
    planned = planned_workouts(workouts)
    gate = MedicalGate(player_ids=[restriction.player_id], dates={p.on_date for p in planned.values()})
    for pk, workout in workouts.items():
        if pk not in planned or pk not in out.mine:
            continue
        verdict = gate.judge(planned[pk], [restriction.player_id])[restriction.player_id]
        if verdict.verdict == BLOCKED:
            out.blocked.append(workout)
        elif verdict.verdict == MODIFIED:
            mine = out.mine[pk]
            if mine.medical_verdict == MODIFIED and mine.modifications == list(verdict.substitutions):
                continue  # already recorded
            out.modified.append(workout)
        else:
            continue
        out.summaries[pk] = verdict.summary()
    return out


def entry(a: Assignment) -> dict[str, Any]:
    return {"playerId": a.player_id, "role": a.role, "loadPercent": a.load_percent}


def reaction_request(restriction: MedicalRestriction, judgement: Judgement, *, key: str) -> dict[str, Any]:
    """Return the batch request: per blocked workout, the roster without the player; per modified one,
    the player again so the gate records its substitutions and load cap on the assignment."""
    operations = []
    for w in judgement.blocked:
        operations.append(
            {
                "id": f"off-{w.pk}",
                "type": "ASSIGN",
                "data": {
                    "workoutId": w.pk,
                    "assignments": [entry(a) for a in judgement.others.get(w.pk, [])],
                    "removeExisting": True,
                },
            }
        )
    for w in judgement.modified:
        operations.append(
            {
                "id": f"modify-{w.pk}",
                "type": "ASSIGN",
                "data": {"workoutId": w.pk, "assignments": [entry(judgement.mine[w.pk])]},
            }
        )
    player = restriction.player
    return {
        "operations": operations,
        # Per-item errors (a workout edited meanwhile) must not stop the others.
        "options": {"validateBeforeExecute": False, "notifyOnComplete": False},
        "metadata": {
            "requestId": f"restriction-{restriction.pk}-{key}"[:100],
            "description": (
                f"Medical restriction #{restriction.pk} takes effect for {player.name}: "
                f"off {len(judgement.blocked)} session(s), modified in {len(judgement.modified)}"
            )[:300],
            "source": "automation",
            "tags": ["automation", "restriction", f"restriction:{restriction.pk}"],
        },
    }


def session_words(w: Workout) -> str:
    when = timezone.localtime(w.scheduled_start)
    return f"{w.name} ({human_day(when.date())} {when:%H:%M})"


def trainers_of(workouts: list[Workout], team: Any) -> list[Any]:
    """Return who planned these workouts (members of the team), or the team's trainers if nobody did."""
    members = set(Membership.objects.filter(team=team, user__is_active=True).values_list("user_id", "role"))
    member_ids = {uid for uid, _ in members}
    owners = {w.created_by for w in workouts if w.created_by is not None and w.created_by_id in member_ids}
    if owners:
        return sorted(owners, key=lambda u: u.pk)
    from django.contrib.auth import get_user_model

    trainer_ids = [uid for uid, role in members if role == Membership.Role.TRAINER]
    return list(get_user_model().objects.filter(pk__in=trainer_ids).order_by("pk"))


def notify(*, users: list[Any], team: Any, title: str, body: str, batch: Batch | None, undo: bool) -> int:
    Notice.objects.bulk_create(
        [
            Notice(user=u, team=team, title=title[:200], body=body, batch=batch, offers_undo=undo)
            for u in users
        ]
    )
    return len(users)


def restriction_react(
    *, restriction_id: int, occasion: str = "", now: dt.datetime | None = None
) -> dict[str, Any]:
    """Handle one event about a restriction; return what was done (JSON-safe, for the job's result)."""
    now = now or timezone.now()
    restriction = MedicalRestriction.objects.select_related("player__team").filter(pk=restriction_id).first()
    if restriction is None:
        return {"restriction": restriction_id, "outcome": "gone"}
    key = fingerprint(restriction) + (f":{occasion}" if occasion else "")
    team = restriction.player.team
    try:
        with transaction.atomic():
            reaction = RestrictionReaction.objects.create(restriction=restriction, key=key, team=team)
    except IntegrityError:
        reaction = RestrictionReaction.objects.get(restriction=restriction, key=key)
        if reaction.outcome != RestrictionReaction.Outcome.PENDING:
            return {"restriction": restriction_id, "outcome": "duplicate", "reaction": reaction.pk}
        # A job that died half-way: go on (the batch's requestId returns the batch it submitted).
    window = [
        restriction.effective_date.isoformat(),
        restriction.expiry_date.isoformat() if restriction.expiry_date else None,
    ]
    lifted = lifted_notices(restriction, reaction=reaction, window=window)
    active = restriction.status == MedicalRestriction.Status.ACTIVE
    judgement = judge(restriction, now=now) if active else Judgement()
    batch = None
    error = ""
    if judgement.blocked or judgement.modified:
        actor = automation_actor(team=team)
        raw = reaction_request(restriction, judgement, key=key)
        try:
            batch = batch_submit(user=actor, team=team, raw=raw, source="automation", channel="automation")
        except (InvalidRequest, QuotaExceeded) as exc:
            error = str(exc)
            log.warning("restriction %s: batch refused: %s", restriction_id, error)
    outcome = (
        RestrictionReaction.Outcome.FAILED
        if error
        else RestrictionReaction.Outcome.BATCH
        if batch is not None
        else RestrictionReaction.Outcome.LIFTED
        if lifted
        else RestrictionReaction.Outcome.NOTHING
    )
    with transaction.atomic():
        # Only the job that moves the row out of PENDING tells anyone (two jobs may get here).
        claimed = RestrictionReaction.objects.filter(
            pk=reaction.pk, outcome=RestrictionReaction.Outcome.PENDING
        ).update(
            outcome=outcome,
            batch=batch,
            details={
                "window": window,
                "blocked": [w.pk for w in judgement.blocked],
                "modified": [w.pk for w in judgement.modified],
                "error": error,
            },
        )
        notified = 0
        if claimed:
            for notice in lifted:
                notified += notify(team=team, **notice)
            if batch is not None or error:
                notified += notify_trainers(restriction, judgement, batch=batch, error=error)
    return {
        "restriction": restriction_id,
        "reaction": reaction.pk,
        "outcome": outcome if claimed else "duplicate",
        "batch": batch.pk if batch is not None else None,
        "blocked": [w.pk for w in judgement.blocked],
        "modified": [w.pk for w in judgement.modified],
        "notices": notified,
    }


def notify_trainers(
    restriction: MedicalRestriction, judgement: Judgement, *, batch: Batch | None, error: str
) -> int:
    """Tell the trainers of the affected workouts, naming player and sessions (never clinical notes)."""
    player = restriction.player
    workouts = judgement.blocked + judgement.modified
    lines = []
    if judgement.blocked:
        lines.append(
            f"Taken off {len(judgement.blocked)} session(s): "
            + "; ".join(session_words(w) for w in judgement.blocked)
            + "."
        )
    if judgement.modified:
        lines.append(
            "Stays on with modifications: "
            + "; ".join(f"{session_words(w)} — {judgement.summaries[w.pk]}" for w in judgement.modified)
        )
    if error:
        title = f"{player.name} has a new medical restriction: the change could not be made"
        lines.append(f"The batch was refused: {error}. Please review these sessions.")
    else:
        title = f"{player.name} has a medical restriction ({restriction.get_severity_display().lower()})"
        lines.append(f"Batch {batch.pk} made the change; undo it within 24 hours if it is wrong.")
    return notify(
        users=trainers_of(workouts, restriction.player.team),
        team=restriction.player.team,
        title=title,
        body="\n".join(lines),
        batch=batch,
        undo=batch is not None,
    )


def lifted_notices(
    restriction: MedicalRestriction, *, reaction: RestrictionReaction, window: list[str | None]
) -> list[dict[str, Any]]:
    """Return the notices for earlier batches of this restriction that its new state no longer covers
    (cleared, or shortened): nobody is put back by itself, the notice offers undo."""
    earlier = (
        RestrictionReaction.objects.filter(
            restriction=restriction, outcome=RestrictionReaction.Outcome.BATCH, batch__isnull=False
        )
        .exclude(pk=reaction.pk)
        .exclude(batch__status__in=(Batch.Status.UNDONE, Batch.Status.ROLLED_BACK))
        .select_related("batch")
    )
    active = restriction.status == MedicalRestriction.Status.ACTIVE
    notices = []
    for old in earlier:
        old_start, old_end = old.details.get("window", [None, None])
        shortened = (
            not active
            or (old_start is not None and window[0] > old_start)
            or (window[1] is not None and (old_end is None or window[1] < old_end))
        )
        if not shortened:
            continue
        what = "was cleared" if not active else "was shortened"
        workouts = list(
            Workout.objects.filter(pk__in=old.details.get("blocked", [])).select_related("created_by")
        )
        if not workouts:
            continue
        notices.append(
            {
                "users": trainers_of(workouts, restriction.player.team),
                "title": f"{restriction.player.name}'s medical restriction {what}",
                "body": (
                    f"Nobody is put back by itself. Batch {old.batch_id} took {restriction.player.name} off: "
                    + "; ".join(session_words(w) for w in workouts)
                    + f". Undo batch {old.batch_id} to put them back."
                ),
                "batch": old.batch,
                "undo": True,
            }
        )
    return notices


def restrictions_taking_effect_once(*, now: dt.datetime) -> list[int]:
    """Enqueue today's effective-date reactions; a ticker every minute enqueues many jobs, but each
    restriction's reaction for today is one unique row, so only the first changes anything."""
    return restrictions_taking_effect(day=local_day(now))


# --- a player joins a team ----------------------------------------------------------------------------

PLAYER_JOB = "automations.tasks.player_joined_job"


def player_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    """post_save on Player: a new player of a team with "player joined" recipes runs them (on commit)."""
    from automations.models import Recipe

    if raw or not created:
        return
    if not Recipe.objects.filter(team_id=instance.team_id, trigger=Recipe.Trigger.PLAYER_JOINED).exists():
        return
    pk = instance.pk
    transaction.on_commit(
        lambda: enqueue_job(PLAYER_JOB, pk, description=f"player {pk} joined")  # noqa: B023
    )


def player_joined(*, player_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Run the team's "player joined" recipes for the player: one batch each, started by the automations
    user. Idempotent: the requestId names recipe, version and player, so a second run returns the batch."""
    from automations.models import Recipe
    from automations.recipes import RecipeError, resolve_request
    from workouts.models import Player

    player = Player.objects.select_related("team").filter(pk=player_id).first()
    if player is None:
        return []
    out = []
    for recipe in Recipe.objects.filter(team=player.team, trigger=Recipe.Trigger.PLAYER_JOINED).order_by(
        "pk"
    ):
        row: dict[str, Any] = {"recipe": recipe.pk, "player": player_id, "batch": None, "error": None}
        try:
            raw = resolve_request(
                recipe.request, team=player.team, run_at=now or timezone.now(), player_id=player_id
            )
            metadata = dict(raw.get("metadata") or {})
            metadata.update(
                requestId=f"joined-{recipe.pk}-v{recipe.version}-{player_id}",
                source="automation",
                description=f"{recipe.name}: {player.name} joined {player.team.name}"[:300],
            )
            raw["metadata"] = metadata
            if raw["operations"]:
                batch = batch_submit(
                    user=automation_actor(team=player.team),
                    team=player.team,
                    raw=raw,
                    source="automation",
                    channel="automation",
                )
                row["batch"] = batch.pk
        except (RecipeError, InvalidRequest, QuotaExceeded) as exc:
            row["error"] = str(exc)
            log.warning("player %s joined: recipe %s refused: %s", player_id, recipe.pk, exc)
        out.append(row)
    return out
