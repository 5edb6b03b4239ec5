"""Force undo: what forcing a batch's undo would write back over later edits, and whom it touches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem, OperationType
from batch.selectors.names import ASSIGNMENT_MODEL, WORKOUT_MODEL, Target, _start, item_names
from batch.wording import human_day

# Fields whose restored value changes what a player is asked to do: the medical gate judges them.
MEDICAL_FIELDS = {
    WORKOUT_MODEL: {"scheduled_start", "scheduled_end", "intensity", "type"},
    ASSIGNMENT_MODEL: {"load_percent", "role", "status", "medical_verdict", "modifications", "workout_id"},
}


@dataclass(frozen=True)
class Overwrite:
    """One change a forced undo would write back over someone's later edit."""

    change_id: int
    target: Target
    action: str  # what the forced step does: "restore", "delete", "re-assign"
    fields: tuple[tuple[str, Any, Any], ...]  # (field, value now, value after the force)
    possible: bool  # False: the object is gone, forcing cannot bring it back
    medical: bool  # the player concerned has a restriction in effect


@dataclass(frozen=True)
class ForcePreview:
    undo: Batch | None
    overwrites: tuple[Overwrite, ...] = ()

    @property
    def possible(self) -> list[Overwrite]:
        return [o for o in self.overwrites if o.possible]

    @property
    def medical(self) -> bool:
        """Whether the force touches a player with a restriction in effect (needs a medic or staff)."""
        return any(o.medical and o.possible for o in self.overwrites)


def field_label(name: str) -> str:
    """A model field as pages name it: `facility_id` -> "facility"."""
    return name.removesuffix("_id").replace("_", " ")


def _same(obj: Any, name: str, now: Any, value: Any) -> bool:
    try:
        return obj._meta.get_field(name).to_python(value) == now
    except Exception:  # noqa: BLE001 - an odd image value: show it rather than hide the difference
        return str(now) == str(value)


def show_value(value: Any) -> Any:
    """A value for people: local times, blanks as a dash (the force-undo preview, the dry run and
    the results show changes the same way)."""
    parsed = _start(value) if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" else value
    if isinstance(parsed, dt.datetime):
        local = timezone.localtime(parsed)
        return f"{human_day(local.date())}, {local:%H:%M}"
    if value in (None, ""):
        return "—"
    return value


def force_undo_preview(*, batch: Batch) -> ForcePreview:
    """Return what forcing the undo of `batch` would overwrite: the changes its latest (finished) undo
    left alone, each compared with the object's current state. Read-only; about eight queries.
    """
    from django.apps import apps

    from medical.selectors import active_restrictions_by_player
    from workouts.models import Assignment

    undo = batch.undos.order_by("-pk").first()
    if undo is None or not undo.is_final:
        return ForcePreview(undo=undo)
    left = list(
        BatchItem.objects.filter(
            batch=undo,
            type=OperationType.REVERT,
            status__in=[BatchItem.Status.CONFLICT, BatchItem.Status.FAILED],
        )
        .order_by("seq")
        .only("op_id", "type", "data", "result", "error")
    )
    names = item_names(left, team_id=batch.team_id)
    change_ids = [i.data.get("changeId") for i in left]
    changes = {c.pk: c for c in BatchChange.objects.filter(pk__in=change_ids, batch=batch)}
    by_model: dict[str, set[int]] = {}
    for change in changes.values():
        by_model.setdefault(change.model, set()).add(change.object_id)
    current: dict[tuple[str, int], Any] = {}
    for label, ids in by_model.items():
        model = apps.get_model(label)
        for obj in model.objects.filter(pk__in=ids):
            current[(label, obj.pk)] = obj
    # Re-assignments over an assignment made since: the pair's current row.
    pairs = {
        (c.before or {}).get("workout_id"): (c.before or {}).get("player_id")
        for c in changes.values()
        if c.action == BatchChange.Action.UNASSIGNED
    }
    taken = {
        (a.workout_id, a.player_id): a
        for a in Assignment.objects.filter(workout_id__in=list(pairs), player_id__in=list(pairs.values()))
    }
    player_ids: set[int] = set()
    for change in changes.values():
        if change.model == ASSIGNMENT_MODEL:
            image = change.before or change.after or {}
            obj = current.get((change.model, change.object_id))
            pid = getattr(obj, "player_id", None) or image.get("player_id")
            if pid:
                player_ids.add(pid)
    restricted = set(active_restrictions_by_player(player_ids=player_ids)) if player_ids else set()
    # Workouts whose restored time or load would change what restricted players on them are asked to do.
    workout_ids = [oid for label, oid in current if label == WORKOUT_MODEL]
    gated_workouts = set(
        Assignment.objects.filter(workout_id__in=workout_ids, medical_verdict__in=["modified", "blocked"])
        .values_list("workout_id", flat=True)
        .distinct()
    )

    overwrites = []
    for item in left:
        change = changes.get(item.data.get("changeId"))
        if change is None:
            continue
        obj = current.get((change.model, change.object_id))
        fields: list[tuple[str, Any, Any]] = []
        medical_fields = MEDICAL_FIELDS.get(change.model, set())
        possible = True
        touches_medical = False
        if change.action == BatchChange.Action.UNASSIGNED:
            image = change.before or {}
            existing = taken.get((image.get("workout_id"), image.get("player_id")))
            action = "re-assign"
            if existing is not None:
                for name in ("role", "load_percent", "status", "medical_verdict"):
                    now, then = getattr(existing, name, None), image.get(name)
                    if now != then:
                        fields.append((field_label(name), show_value(now), show_value(then)))
            touches_medical = True
            player = image.get("player_id")
        elif change.action in (BatchChange.Action.CREATED, BatchChange.Action.ASSIGNED):
            action = "delete"
            possible = obj is not None
            for name, value in (change.after or {}).items():
                now = getattr(obj, name, None) if obj is not None else None
                if obj is not None and str(now) != str(value) and name not in ("version", "updated_at"):
                    fields.append((field_label(name), now, "deleted"))
            # Taking a player off, or a workout away, never asks more of a restricted player.
            player = None
        else:
            action = "restore"
            possible = obj is not None
            for name, value in (change.before or {}).items():
                now = getattr(obj, name, None) if obj is not None else None
                if obj is not None and _same(obj, name, now, value):
                    continue
                fields.append((field_label(name), show_value(now), show_value(value)))
                touches_medical = touches_medical or name in medical_fields
            player = getattr(obj, "player_id", None) if change.model == ASSIGNMENT_MODEL else None
        medical = bool(touches_medical and player and player in restricted)
        if change.model == WORKOUT_MODEL and touches_medical and obj is not None:
            medical = obj.pk in gated_workouts
        overwrites.append(
            Overwrite(
                change_id=change.pk,
                target=names[item.op_id].target,
                action=action,
                fields=tuple(fields),
                possible=possible,
                medical=medical,
            )
        )
    return ForcePreview(undo=undo, overwrites=tuple(overwrites))
