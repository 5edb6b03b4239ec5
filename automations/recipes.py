"""Recipes: saved exchange-format requests with relative dates and saved workout filters.

A recipe's request is an ordinary batch request in which some strings are relative to the run:

- `@week+N HH:MM` — the Monday of the run's week (club zone) + N days, at that wall-clock time;
  `@day+N HH:MM` — the run's own day + N days. Without a time they give a date (`YYYY-MM-DD`).
- `@run` or `@run+P7D` / `@run-PT2H` — the run's instant shifted by an ISO 8601 duration.

An operation may carry `forEachWorkout` instead of fixed ids: a saved filter on the team's workouts,
`{"from": "@week+0", "to": "@week+7", "status": ["scheduled"], "type": ["STRENGTH"]}` (from inclusive,
to exclusive, days in the club zone). It expands to one operation per matching workout, with every
`"@workout"` in its data replaced by that workout's id and `-<id>` appended to its id.

Resolution gives a plain request, which goes through the ordinary dry run and submit: ids of deleted
objects give the usual per-item errors.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import Recipe
from batch.validation import ValidationReport, batch_validate
from workouts.calendar import at, local_day
from workouts.models import Workout
from workouts.selectors import role_in_team

RELATIVE = re.compile(r"^@(week|day)([+-]\d{1,3})?(?: (\d{1,2}):(\d{2}))?$")
RUN = re.compile(r"^@run(?:([+-])(P.+))?$")
DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
MAX_EXPANDED = 1000


class RecipeError(ValueError):
    """A recipe that cannot be saved or resolved; the message says why (a 400 / form error)."""


def duration(text: str) -> dt.timedelta:
    m = DURATION.match(text)
    if not m or text in ("P", "PT"):
        raise RecipeError(f"{text!r} is not an ISO 8601 duration such as P7D or PT2H")
    weeks, days, hours, minutes = (int(g or 0) for g in m.groups())
    return dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def resolve_value(text: str, *, run_at: dt.datetime) -> str:
    """Return one relative expression as an ISO date or instant (with the club's offset)."""
    m = RELATIVE.match(text)
    if m:
        base = local_day(run_at)
        if m.group(1) == "week":
            base = monday_of(base)
        day = base + dt.timedelta(days=int(m.group(2) or 0))
        if m.group(3) is None:
            return day.isoformat()
        hour, minute = int(m.group(3)), int(m.group(4))
        if hour > 23 or minute > 59:
            raise RecipeError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
        return at(day, dt.time(hour, minute)).isoformat()
    m = RUN.match(text)
    if m:
        shift = duration(m.group(2)) if m.group(2) else dt.timedelta()
        moment = run_at + shift if m.group(1) != "-" else run_at - shift
        return timezone.localtime(moment).isoformat()
    raise RecipeError(f"{text!r} is not a relative date (@week+N HH:MM, @day+N, @run+P7D)")


def substitute(
    value: Any, *, run_at: dt.datetime, workout_id: int | None = None, player_id: int | None = None
) -> Any:
    if isinstance(value, str):
        if value == "@workout":
            if workout_id is None:
                raise RecipeError('"@workout" is only allowed in an operation with forEachWorkout')
            return workout_id
        if value == "@player":
            if player_id is None:
                raise RecipeError('"@player" is only allowed in a recipe run when a player joins the team')
            return player_id
        if value.startswith("@"):
            return resolve_value(value, run_at=run_at)
        return value
    if isinstance(value, list):
        return [substitute(v, run_at=run_at, workout_id=workout_id, player_id=player_id) for v in value]
    if isinstance(value, dict):
        return {
            k: substitute(v, run_at=run_at, workout_id=workout_id, player_id=player_id)
            for k, v in value.items()
        }
    return value


def filter_workouts(team: Any, spec: Any, *, run_at: dt.datetime) -> list[int]:
    """Return the ids of the team's workouts a saved filter names (one query)."""
    if not isinstance(spec, dict):
        raise RecipeError("forEachWorkout must be an object: {from, to, status?, type?}")
    unknown = set(spec) - {"from", "to", "status", "type"}
    if unknown:
        raise RecipeError(f"forEachWorkout: unknown key(s) {', '.join(sorted(unknown))}")
    qs = Workout.objects.filter(team=team, archived_at__isnull=True)
    for key, lookup in (("from", "scheduled_start__gte"), ("to", "scheduled_start__lt")):
        if key in spec:
            text = resolve_value(str(spec[key]), run_at=run_at)
            moment = (
                dt.datetime.fromisoformat(text)
                if "T" in text
                else at(dt.date.fromisoformat(text), dt.time.min)
            )
            qs = qs.filter(**{lookup: moment})
    for key, field in (("status", "status__in"), ("type", "type__in")):
        if key in spec:
            values = spec[key] if isinstance(spec[key], list) else [spec[key]]
            qs = qs.filter(**{field: [str(v) for v in values]})
    return list(qs.order_by("scheduled_start", "pk").values_list("pk", flat=True)[: MAX_EXPANDED + 1])


def resolve_request(
    recipe_request: Any, *, team: Any, run_at: dt.datetime, player_id: int | None = None
) -> dict[str, Any]:
    """Return the plain exchange-format request of a recipe for a run at `run_at`."""
    if not isinstance(recipe_request, dict) or not isinstance(recipe_request.get("operations"), list):
        raise RecipeError("request must be an exchange-format object with an operations list")
    operations = []
    for op in recipe_request["operations"]:
        if not isinstance(op, dict):
            raise RecipeError("each operation must be an object")
        op = copy.deepcopy(op)
        spec = op.pop("forEachWorkout", None)
        if spec is None:
            operations.append(substitute(op, run_at=run_at, player_id=player_id))
            continue
        for workout_id in filter_workouts(team, spec, run_at=run_at):
            one = substitute(op, run_at=run_at, workout_id=workout_id, player_id=player_id)
            one["id"] = f"{op.get('id', 'op')}-{workout_id}"
            operations.append(one)
        if len(operations) > MAX_EXPANDED:
            raise RecipeError(f"the filters match more than {MAX_EXPANDED} workouts")
    out = {k: substitute(v, run_at=run_at) for k, v in recipe_request.items() if k != "operations"}
    out["operations"] = operations
    return out


def check_request(request: Any, *, team: Any, trigger: str = "") -> None:
    """Raise RecipeError if the request cannot be resolved (resolved at now, as a check)."""
    now = timezone.now()
    player_id = 1 if trigger else None
    resolve_request(request, team=team, run_at=now, player_id=player_id)
    # Operations a filter expands are checked once even when it matches no workout today.
    for op in request["operations"]:
        if isinstance(op, dict) and "forEachWorkout" in op:
            body = {k: v for k, v in op.items() if k != "forEachWorkout"}
            substitute(body, run_at=now, workout_id=1, player_id=player_id)


def check_may_edit(*, user: Any, team: Any) -> None:
    if role_in_team(user=user, team=team) is None:
        raise RecipeError(f"you are not a member of team {team.slug}")


@transaction.atomic
def recipe_create(
    *,
    user: Any,
    team: Any,
    name: str,
    request: Any,
    source_batch: Any = None,
    builtin: str = "",
    trigger: str = "",
) -> Recipe:
    """Save a recipe (version 1). Raises RecipeError for a bad name or request."""
    check_may_edit(user=user, team=team)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise RecipeError("name must be 1 to 120 characters")
    if trigger not in Recipe.Trigger.values:
        raise RecipeError(f"trigger must be one of: {', '.join(v for v in Recipe.Trigger.values if v)}")
    check_request(request, team=team, trigger=trigger)
    return Recipe.objects.create(
        team=team,
        name=name,
        request=request,
        created_by=user,
        source_batch=source_batch,
        builtin=builtin,
        trigger=trigger,
    )


@transaction.atomic
def recipe_update(*, user: Any, recipe: Recipe, name: str | None = None, request: Any = None) -> Recipe:
    """Change a recipe; a new request makes a new version (runs record the version they ran)."""
    check_may_edit(user=user, team=recipe.team)
    recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
    if name is not None:
        recipe.name = name.strip()[:120] or recipe.name
    if request is not None and request != recipe.request:
        check_request(request, team=recipe.team, trigger=recipe.trigger)
        recipe.request = request
        recipe.version += 1
    recipe.save()
    return recipe


def recipe_preview(
    *, user: Any, recipe: Recipe, run_at: dt.datetime | None = None
) -> tuple[dict[str, Any], ValidationReport]:
    """Return the resolved request and its dry run (writes nothing)."""
    raw = resolve_request(recipe.request, team=recipe.team, run_at=run_at or timezone.now())
    return raw, batch_validate(user=user, team=recipe.team, raw=raw)


# --- from a batch ------------------------------------------------------------------------------------

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def relative_to_week(value: Any, monday: dt.date) -> Any:
    """Turn the instants of a request into `@week+N HH:MM` relative to `monday`'s week."""
    if isinstance(value, str) and ISO_INSTANT.match(value):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        local = timezone.localtime(moment)
        return f"@week{(local.date() - monday).days:+d} {local:%H:%M}"
    if isinstance(value, list):
        return [relative_to_week(v, monday) for v in value]
    if isinstance(value, dict):
        return {k: relative_to_week(v, monday) for k, v in value.items()}
    return value


def request_from_batch(batch: Any) -> dict[str, Any]:
    """Return a recipe request from a batch's definition, dates relative to the week it ran."""
    import json

    from batch.export import definition_chunks

    definition = json.loads("".join(definition_chunks(batch)))
    monday = monday_of(local_day(batch.created_at))
    return {
        "operations": relative_to_week(definition["operations"], monday),
        "options": definition.get("options", {}),
        "metadata": {k: v for k, v in definition.get("metadata", {}).items() if k in ("description", "tags")},
    }


# --- built in: copy a week (or any date range) to the next week ----------------------------------------


def copy_range_request(
    *, start_offset: int = 0, days: int = 7, shift_days: int = 7, anchor: str = "week"
) -> dict[str, Any]:
    """Return the built-in recipe: duplicate the range's workouts `shift_days` later, with assignments.

    The range is `@<anchor>+start_offset` for `days` days: relative to the run's week (Monday) or day.
    """
    return {
        "operations": [
            {
                "id": "copy",
                "type": "DUPLICATE",
                "forEachWorkout": {
                    "from": f"@{anchor}{start_offset:+d}",
                    "to": f"@{anchor}{start_offset + days:+d}",
                    "status": ["draft", "scheduled"],
                },
                "data": {
                    "workoutId": "@workout",
                    "count": 1,
                    "namePattern": "{original}",
                    "dateShiftDays": shift_days,
                    "includeAssignments": True,
                },
            }
        ],
        "options": {"validateBeforeExecute": False},
        "metadata": {"description": f"Copy {days} day(s) of workouts {shift_days} day(s) later"},
    }
