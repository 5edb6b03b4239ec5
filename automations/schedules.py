"""Schedules: a recipe on an RFC 5545 RRULE in the club's zone, each occurrence fired exactly once.

Recurrence is computed on club wall-clock time (dateutil.rrule on naive local datetimes from DTSTART
in the club zone), then each occurrence is made aware in the club zone: "every Sunday 18:00" stays
18:00 across a DST change (its UTC instant moves by an hour).

Exactly once: firing an occurrence first inserts its ScheduleRun row; the unique (schedule,
occurrence) constraint in PostgreSQL lets exactly one ticker win, however many tickers, workers or
machines run at once, and however often. The schedule row is also locked (`skip_locked`) while a
ticker decides, so concurrent tickers do not even try the same schedule. The batch's requestId is
derived from the occurrence, so a ticker that died after submitting gets the same batch back.

Missed occurrences (downtime): policy `latest` (default) fires only the latest one that is due, once;
`skip` fires nothing that is later than the grace period (AUTOMATION_TICK_SECONDS × 2). Never a burst.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from dateutil.rrule import rrule, rrulestr
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from automations.actor import automation_actor
from automations.models import Notice, Recipe, Schedule, ScheduleRun
from automations.recipes import RecipeError, resolve_request
from batch.errors import IdempotencyConflict, InvalidRequest
from batch.quotas import QuotaExceeded
from batch.services import batch_submit
from webhooks.services import webhook_event_send
from workouts.selectors import role_in_team

log = logging.getLogger("automations")

MAX_RULE_LENGTH = 500
LOOKBACK = dt.timedelta(days=400)


class ScheduleError(ValueError):
    """A schedule that cannot be saved; the message says why (a 400 / form error)."""


def club_zone() -> Any:
    return timezone.get_default_timezone()


def parse_rule(text: str, start: dt.datetime) -> rrule:
    """Return the recurrence of an RRULE (without DTSTART) from `start`, on club wall-clock time."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > MAX_RULE_LENGTH:
        raise ScheduleError(f"rrule must be 1 to {MAX_RULE_LENGTH} characters, e.g. FREQ=WEEKLY;BYDAY=SU")
    if "DTSTART" in text.upper():
        raise ScheduleError("give the start separately, not as DTSTART in the rrule")
    local_start = timezone.localtime(start, club_zone()).replace(tzinfo=None)
    try:
        rule = rrulestr(text, dtstart=local_start, forceset=False, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"not an RFC 5545 RRULE: {exc}") from None
    if not isinstance(rule, rrule):
        raise ScheduleError("give one RRULE")
    if rule._freq > 4:  # MINUTELY (5) and SECONDLY (6): not a training plan
        raise ScheduleError("a schedule may repeat at most hourly")
    return rule


def aware(local: dt.datetime) -> dt.datetime:
    """A club wall-clock time as an instant (the earlier one when the clock goes back)."""
    return local.replace(tzinfo=club_zone())


def occurrences(schedule: Schedule, *, after: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Return the schedule's occurrences in (after, until] as instants, in order."""
    rule = parse_rule(schedule.rrule, schedule.start)
    zone = club_zone()
    lo = timezone.localtime(after, zone).replace(tzinfo=None) - dt.timedelta(days=1)
    hi = timezone.localtime(until, zone).replace(tzinfo=None) + dt.timedelta(days=1)
    out = [aware(d) for d in rule.between(lo, hi, inc=True)]
    return [d for d in out if after < d <= until]


def next_runs(rule_text: str, start: dt.datetime, *, after: dt.datetime, count: int = 5) -> list[dt.datetime]:
    """Return the next `count` occurrences after `after` (for the form and the API)."""
    rule = parse_rule(rule_text, start)
    zone = club_zone()
    cursor = timezone.localtime(after, zone).replace(tzinfo=None) - dt.timedelta(hours=3)
    out: list[dt.datetime] = []
    while len(out) < count:
        nxt = rule.after(cursor, inc=False)
        if nxt is None:
            break
        cursor = nxt
        instant = aware(nxt)
        if instant > after:
            out.append(instant)
    return out


def next_run_of(schedule: Schedule, *, after: dt.datetime) -> dt.datetime | None:
    runs = next_runs(schedule.rrule, schedule.start, after=after, count=1)
    return runs[0] if runs else None


@transaction.atomic
def schedule_create(
    *, user: Any, recipe: Recipe, rrule_text: str, start: dt.datetime, missed: str = Schedule.Missed.LATEST
) -> Schedule:
    """Save a schedule for a recipe. Raises ScheduleError for a bad rule, start or policy."""
    if role_in_team(user=user, team=recipe.team) is None:
        raise ScheduleError(f"you are not a member of team {recipe.team.slug}")
    if missed not in Schedule.Missed.values:
        raise ScheduleError('missed must be "latest" or "skip"')
    if timezone.is_naive(start):
        start = timezone.make_aware(start, club_zone())
    parse_rule(rrule_text, start)
    now = timezone.now()
    schedule = Schedule(
        recipe=recipe,
        rrule=rrule_text.strip().removeprefix("RRULE:"),
        start=start,
        missed=missed,
        owner=user,
        # Occurrences before the schedule existed are not "missed".
        last_occurrence=max(now, start - dt.timedelta(seconds=1)),
    )
    schedule.next_run_at = next_run_of(schedule, after=schedule.last_occurrence)
    schedule.save()
    return schedule


def schedule_pause(*, user: Any, schedule: Schedule, paused: bool) -> Schedule:
    """Pause or resume. Resuming does not catch up what fell due while paused."""
    if role_in_team(user=user, team=schedule.recipe.team) is None:
        raise ScheduleError("you are not a member of this team")
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().select_related("recipe").get(pk=schedule.pk)
        schedule.paused = paused
        if not paused:
            now = timezone.now()
            schedule.last_occurrence = max(schedule.last_occurrence or now, now)
            schedule.next_run_at = next_run_of(schedule, after=schedule.last_occurrence)
        schedule.save(update_fields=["paused", "last_occurrence", "next_run_at"])
    return schedule


# --- the tick ------------------------------------------------------------------------------------------


def grace() -> dt.timedelta:
    return dt.timedelta(seconds=2 * settings.AUTOMATION_TICK_SECONDS)


def automation_tick(*, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Fire every occurrence due at `at` (default now); return one dict per run or skip."""
    at = at or timezone.now()
    out: list[dict[str, Any]] = []
    due = list(
        Schedule.objects.filter(paused=False, next_run_at__isnull=False, next_run_at__lte=at).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        out.extend(tick_schedule(schedule_id=pk, at=at))
    return out


def tick_schedule(*, schedule_id: int, at: dt.datetime) -> list[dict[str, Any]]:
    """Claim and fire what is due for one schedule (another ticker holding it: nothing)."""
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True)
            .select_related("recipe__team", "owner")
            .filter(pk=schedule_id, paused=False)
            .first()
        )
        if schedule is None:
            return []
        after = schedule.last_occurrence or (schedule.start - dt.timedelta(seconds=1))
        due = occurrences(schedule, after=after, until=at)
        if not due:
            schedule.next_run_at = next_run_of(schedule, after=max(after, at))
            schedule.save(update_fields=["next_run_at"])
            return []
        latest = due[-1]
        fire = latest if (schedule.missed == Schedule.Missed.LATEST or at - latest <= grace()) else None
        skipped = [d for d in due if d != fire]
        claimed = None
        if fire is not None:
            try:
                with transaction.atomic():
                    claimed = ScheduleRun.objects.create(
                        schedule=schedule, occurrence=fire, recipe_version=schedule.recipe.version
                    )
            except IntegrityError:
                claimed = None  # fired already (a ticker without the lock, e.g. `--at` by hand)
        # Only the last missed one is recorded as skipped: a long gap writes one row, not thousands.
        if skipped and skipped[-1] != fire:
            ScheduleRun.objects.get_or_create(
                schedule=schedule,
                occurrence=skipped[-1],
                defaults={"status": ScheduleRun.Status.SKIPPED, "recipe_version": schedule.recipe.version},
            )
        schedule.last_occurrence = latest
        schedule.next_run_at = next_run_of(schedule, after=max(latest, at))
        schedule.save(update_fields=["last_occurrence", "next_run_at"])
    out = [
        {
            "schedule": schedule.pk,
            "occurrence": timezone.localtime(d).isoformat(),
            "status": "skipped",
            "batch": None,
        }
        for d in skipped[-1:]
    ]
    if claimed is not None:
        out.append(fire_run(schedule=schedule, run=claimed))
    return out


def fire_run(*, schedule: Schedule, run: ScheduleRun) -> dict[str, Any]:
    """Submit the recipe's batch for a claimed occurrence (outside any transaction, like any submit)."""
    recipe = schedule.recipe
    team = recipe.team
    batch = None
    error = ""
    try:
        raw = resolve_request(recipe.request, team=team, run_at=run.occurrence)
        metadata = dict(raw.get("metadata") or {})
        metadata.update(
            requestId=f"schedule-{schedule.pk}-{run.occurrence.timestamp():.0f}",
            source="automation",
            description=(
                f"{recipe.name} (schedule {schedule.pk}, {timezone.localtime(run.occurrence):%Y-%m-%d %H:%M})"
            )[:300],
            tags=[*(metadata.get("tags") or []), "automation", f"schedule:{schedule.pk}"][:20],
        )
        raw["metadata"] = metadata
        batch = batch_submit(
            user=automation_actor(team=team), team=team, raw=raw, source="automation", channel="automation"
        )
    except (RecipeError, InvalidRequest, QuotaExceeded, IdempotencyConflict) as exc:
        error = str(exc) or exc.__class__.__name__
        if isinstance(exc, InvalidRequest):
            error = "; ".join(p.message for p in exc.problems)[:2000] or error
    with transaction.atomic():
        run.status = ScheduleRun.Status.FAILED if error else ScheduleRun.Status.SUBMITTED
        run.batch = batch
        run.error = error
        run.save(update_fields=["status", "batch", "error"])
        if error:
            failure_notify(schedule=schedule, run=run)
    return {
        "schedule": schedule.pk,
        "recipe": recipe.pk,
        "occurrence": timezone.localtime(run.occurrence).isoformat(),
        "status": run.status,
        "batch": batch.pk if batch is not None else None,
        "error": error or None,
    }


def failure_notify(*, schedule: Schedule, run: ScheduleRun) -> None:
    """Tell the owner (a notice) and the team's webhooks (`automation.failed`), in the run's transaction."""
    recipe = schedule.recipe
    when = timezone.localtime(run.occurrence)
    Notice.objects.create(
        user=schedule.owner,
        team=recipe.team,
        title=f"Automation “{recipe.name}” failed for {when:%a %d %b %H:%M}",
        body=run.error,
    )
    webhook_event_send(
        team=recipe.team,
        event="automation.failed",
        data={
            "schedule": schedule.pk,
            "recipe": recipe.pk,
            "recipeName": recipe.name,
            "occurrence": run.occurrence.isoformat(),
            "error": run.error,
        },
    )


def run_json(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True)
