"""Names: which workout (and player) each item is about, for people, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from batch.models import BatchChange, OperationType

# Result keys that list player ids (ASSIGN), and how the screens say them.
PLAYER_RESULT_KEYS = {
    "assigned": "Assigned",
    "updated": "Changed",
    "removed": "Taken off",
    "excluded": "Left out",
}
WORKOUT_MODEL = "workouts.workout"
ASSIGNMENT_MODEL = "workouts.assignment"
TEMPLATE_MODEL = "workouts.workouttemplate"


@dataclass(frozen=True)
class Target:
    """What one item is about, named for people: a workout (with its date), or a template.

    `player` is set for an undo step on one player's assignment; `gone` when the workout no longer
    exists (its name then comes from the change log).
    """

    id: int | None
    name: str
    start: dt.datetime | None = None
    kind: str = "workout"
    player: str = ""
    gone: bool = False

    @property
    def date(self) -> str | None:
        return timezone.localdate(self.start).isoformat() if self.start else None

    def as_dict(self) -> dict[str, Any]:
        """The exchange format's `target`: {id, name, date} (date: local ISO date, or null)."""
        return {"id": self.id, "name": self.name, "date": self.date}


@dataclass(frozen=True)
class Named:
    """An item's target, the workouts it created (copies, occurrences) and the players it assigned,
    changed or took off (ASSIGN), by name."""

    target: Target
    created: tuple[Target, ...] = ()
    players: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (("assigned", names), ("removed", names))


PLAIN: dict[str, Any] = {}  # the plan of an item with nothing to name but its workout (see ItemRow.plain)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _start(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed
    return None


def _player_name(first: str, last: str, number: int | None) -> str:
    name = f"{first} {last}".strip()
    return f"#{number} {name}" if number is not None else name


def item_names(items: Iterable[Any], *, team_id: int) -> dict[str, Named]:
    """Return {op_id: Named} for items of one team: BatchItems or dry-run drafts (op_id, type, data,
    result). The workout an item is about is `data.workoutId`, else the one it created; an undo step
    names the object its change touched. At most seven queries, whatever the number of items.
    """
    from workouts.models import Assignment, Player, Workout, WorkoutTemplate

    items = list(items)
    change_ids = {
        cid
        for item in items
        if item.type == OperationType.REVERT and (cid := _int((item.data or {}).get("changeId")))
    }
    changes: dict[int, dict[str, Any]] = {}
    if change_ids:
        rows = BatchChange.objects.filter(pk__in=change_ids, batch__team_id=team_id).values(
            "pk", "model", "object_id", "before", "after"
        )
        changes = {row["pk"]: row for row in rows}
    # Assignments whose change image does not name its workout and player (an update of load or role).
    bare = [
        c["object_id"]
        for c in changes.values()
        if c["model"] == ASSIGNMENT_MODEL and "workout_id" not in ((c["after"] or c["before"]) or {})
    ]
    pairs: dict[int, tuple[int, int]] = {}
    if bare:
        pairs = {
            pk: (w, p)
            for pk, w, p in Assignment.objects.filter(pk__in=bare, workout__team_id=team_id).values_list(
                "pk", "workout_id", "player_id"
            )
        }
    plan: dict[str, dict[str, Any]] = {}
    workouts: dict[int, Target] = {}  # filled from the items where their query brought the workout
    plain_targets: dict[str, int] = {}
    workout_ids: set[int] = set()
    template_ids: set[int] = set()
    player_ids: set[int] = set()
    for item in items:
        known = getattr(item, "workout", None)  # (id, name, start) read with the item (ItemRow)
        if known is not None and getattr(item, "plain", False):
            # The common case at scale: about one workout, found, and nothing else to name.
            plan[item.op_id] = PLAIN
            if known[0] not in workouts:
                workouts[known[0]] = Target(id=known[0], name=known[1], start=known[2])
            plain_targets[item.op_id] = known[0]
            continue
        data = item.data if isinstance(item.data, dict) else {}
        result = getattr(item, "result", None)
        result = result if isinstance(result, dict) else {}
        entry: dict[str, Any] = {"created": [i for i in result.get("createdIds") or [] if _int(i)]}
        entry["players"] = {
            key: [p for p in result.get(key) or [] if _int(p)]
            for key in PLAYER_RESULT_KEYS
            if isinstance(result.get(key), list)
        }
        if item.type == OperationType.REVERT:
            change = changes.get(_int(data.get("changeId")) or 0)
            if change is not None:
                image = (change["after"] or change["before"]) or {}
                if change["model"] == WORKOUT_MODEL:
                    entry["workout"] = change["object_id"]
                elif change["model"] == ASSIGNMENT_MODEL:
                    workout, player = pairs.get(
                        change["object_id"], (_int(image.get("workout_id")), _int(image.get("player_id")))
                    )
                    entry.update(workout=workout, player=player, assignment=change["object_id"])
                elif change["model"] == TEMPLATE_MODEL:
                    entry["template"] = change["object_id"]
                    entry["fallback"] = image.get("name")
        elif item.type == OperationType.TEMPLATE:
            entry["template"] = _int(result.get("templateId"))
            entry["fallback"] = data.get("name")
        else:
            entry["workout"] = _int(data.get("workoutId")) or _int(result.get("workoutId"))
            if item.type == OperationType.CREATE:
                workout = data.get("workout") if isinstance(data.get("workout"), dict) else {}
                entry["fallback"] = workout.get("name")
                entry["fallback_start"] = _start(workout.get("scheduledStart"))
                entry["template"] = _int(data.get("templateId"))
                entry["create"] = True
        if known is not None and known[0] == entry.get("workout"):
            if known[0] not in workouts:
                workouts[known[0]] = Target(id=known[0], name=known[1], start=known[2])
        elif entry.get("workout"):
            workout_ids.add(entry["workout"])
        workout_ids.update(entry["created"])
        if entry.get("template"):
            template_ids.add(entry["template"])
        if entry.get("player"):
            player_ids.add(entry["player"])
        for ids in entry["players"].values():
            player_ids.update(ids)
        plan[item.op_id] = entry

    workout_ids -= set(workouts)
    if workout_ids:
        for pk, name, start in Workout.objects.filter(pk__in=workout_ids, team_id=team_id).values_list(
            "pk", "name", "scheduled_start"
        ):
            workouts[pk] = Target(id=pk, name=name, start=start)
        missing = workout_ids - set(workouts)
        if missing:
            # Deleted since (permanently, or by an undo): the change log kept its name and date.
            images = BatchChange.objects.filter(
                model=WORKOUT_MODEL, object_id__in=missing, batch__team_id=team_id
            ).values_list("object_id", "before", "after")
            for pk, before, after in images:
                image = before if isinstance(before, dict) and "name" in before else after
                if pk not in workouts and isinstance(image, dict) and image.get("name"):
                    workouts[pk] = Target(
                        id=pk, name=image["name"], start=_start(image.get("scheduled_start")), gone=True
                    )
    templates = (
        dict(WorkoutTemplate.objects.filter(pk__in=template_ids, team_id=team_id).values_list("pk", "name"))
        if template_ids
        else {}
    )
    roster = Player.objects.filter(pk__in=player_ids, team_id=team_id)  # no query when empty
    players = {
        pk: _player_name(first, last, number)
        for pk, first, last, number in roster.values_list("pk", "first_name", "last_name", "jersey_number")
    }

    named: dict[str, Named] = {}
    for op_id, entry in plan.items():
        if entry is PLAIN:
            named[op_id] = Named(target=workouts[plain_targets[op_id]])
            continue
        wid = entry.get("workout")
        if wid and wid in workouts:
            target = workouts[wid]
        elif wid:
            target = Target(id=wid, name="A workout that no longer exists", gone=True)
        elif entry.get("create"):
            # A CREATE that made nothing: named after its request.
            template_name = templates.get(entry.get("template") or 0, "a template")
            target = Target(
                id=None,
                name=entry.get("fallback") or f"New workout from {template_name}",
                start=entry.get("fallback_start"),
            )
        elif entry.get("template") or entry.get("fallback"):
            tid = entry.get("template")
            target = Target(
                id=tid if tid in templates else None,
                name=templates.get(tid or 0) or entry.get("fallback") or "A template",
                kind="template",
            )
        else:
            target = Target(id=None, name="—", kind="none")
        if entry.get("player"):
            target = Target(
                id=target.id,
                name=target.name,
                start=target.start,
                kind=target.kind,
                gone=target.gone,
                player=players.get(entry["player"], "a player no longer on the roster"),
            )
        created = tuple(workouts[i] for i in entry["created"] if i in workouts)
        who = tuple(
            (PLAYER_RESULT_KEYS[key], tuple(players.get(p, "a player no longer on the roster") for p in ids))
            for key, ids in entry["players"].items()
            if ids
        )
        named[op_id] = Named(target=target, created=created, players=who)
    return named


def item_targets(items: Iterable[Any], *, team_id: int) -> dict[str, dict[str, Any]]:
    """Return {op_id: {id, name, date}}: the `target` of each item's result (see item_names)."""
    return {op_id: named.target.as_dict() for op_id, named in item_names(items, team_id=team_id).items()}
