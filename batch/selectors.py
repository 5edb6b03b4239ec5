"""Reads about batches: progress, results, history and the measured per-type costs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem, OperationType

# Milliseconds per operation for one runner, from bench/batch_bench.py on a 2-core machine (chunk size
# 250-500; see docs/operations.md); "_chunk" is the fixed cost of claiming and committing one chunk.
# Used until this installation has its own history (measured_costs).
DEFAULT_COSTS_MS: dict[str, float] = {
    OperationType.CREATE: 0.35,
    OperationType.UPDATE: 0.4,
    OperationType.DELETE: 0.5,
    OperationType.ARCHIVE: 0.4,
    OperationType.ASSIGN: 1.0,
    OperationType.SCHEDULE: 1.0,
    OperationType.DUPLICATE: 1.5,
    OperationType.TEMPLATE: 2.0,
    OperationType.REVERT: 0.6,
    "_chunk": 11.0,
}
COST_HISTORY_DAYS = 30


COST_CACHE_SECONDS = 60
_cost_cache: tuple[float, dict[str, float]] | None = None


def measured_costs() -> dict[str, float]:
    """Return ms per operation by type: recent history where there is some, defaults elsewhere.

    One aggregate query over recent succeeded items, at most once a minute per process (every submit
    and dry run asks; the answer moves slowly).
    """
    global _cost_cache
    now = time.monotonic()
    if _cost_cache is not None and now - _cost_cache[0] < COST_CACHE_SECONDS:
        return dict(_cost_cache[1])
    costs = dict(DEFAULT_COSTS_MS)
    since = timezone.now() - dt.timedelta(days=COST_HISTORY_DAYS)
    rows = (
        BatchItem.objects.filter(
            status=BatchItem.Status.SUCCEEDED, finished_at__gte=since, duration_ms__isnull=False
        )
        .values("type")
        .annotate(avg=Avg("duration_ms"))
    )
    for row in rows:
        costs[row["type"]] = max(float(row["avg"]), 0.05)
    _cost_cache = (now, costs)
    return dict(costs)


PROGRESS_FIELDS = (
    "id",
    "team_id",
    "created_by_id",
    "kind",
    "status",
    "description",
    "options",
    "total_items",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
    "conflicted",
    "total_chunks",
    "done_chunks",
    "created_at",
    "started_at",
    "last_progress_at",
    "queued_at",
    "finished_at",
    "cancel_requested_at",
    "undo_deadline",
    "undo_of_id",
    "retry_of_id",
    "error",
)


@dataclass(frozen=True)
class Progress:
    batch: Batch

    @property
    def processed(self) -> int:
        return self.batch.processed

    @property
    def remaining(self) -> int:
        return max(self.batch.total_items - self.processed, 0)

    @property
    def percent(self) -> float:
        total = self.batch.total_items
        return 100.0 if not total else round(100.0 * self.processed / total, 1)

    @property
    def ran(self) -> int:
        """Items that ran (cancelled ones never did)."""
        return self.processed - self.batch.cancelled

    @property
    def percent_shown(self) -> float:
        """The figure people see: the share that ran once a cancel took items away, else done."""
        total = self.batch.total_items
        if self.batch.cancelled and total:
            return round(100.0 * self.ran / total, 1)
        return self.percent

    def percent_of(self, count: int) -> float:
        total = self.batch.total_items
        return 0.0 if not total else round(100.0 * count / total, 2)

    @property
    def elapsed_seconds(self) -> float | None:
        start = self.batch.started_at
        if start is None:
            return None
        end = self.batch.finished_at or timezone.now()
        return max((end - start).total_seconds(), 0.001)

    @property
    def throughput(self) -> float | None:
        """Operations per second since the batch started."""
        elapsed = self.elapsed_seconds
        if not elapsed or not self.processed:
            return None
        return round(self.processed / elapsed, 1)

    @property
    def eta_seconds(self) -> float | None:
        rate = self.throughput
        if self.batch.is_final or not rate:
            return None
        return round(self.remaining / rate, 1)

    def as_dict(self) -> dict[str, Any]:
        b = self.batch
        return {
            "id": b.pk,
            "status": b.status,
            "total": b.total_items,
            "successful": b.succeeded,
            "failed": b.failed,
            "skipped": b.skipped,
            "cancelled": b.cancelled,
            "conflicts": b.conflicted,
            "remaining": self.remaining,
            "percent": self.percent,
            "throughput": self.throughput,
            "etaSeconds": self.eta_seconds,
            "chunks": {"done": b.done_chunks, "total": b.total_chunks},
        }


def current_operation(*, batch: Batch) -> dict[str, str] | None:
    """The next operation a runner will take (lowest pending position); one indexed query."""
    if batch.is_final:
        return None
    row = (
        BatchItem.objects.filter(batch_id=batch.pk, status=BatchItem.Status.PENDING)
        .order_by("chunk__level", "chunk__seq", "seq")
        .values("op_id", "type")
        .first()
    )
    return {"id": row["op_id"], "type": row["type"]} if row else None


def batch_progress(*, batch_id: int, team_ids: Any = None) -> Progress:
    """Return progress from the Batch row alone: one query, no joins."""
    qs = Batch.objects.only(*PROGRESS_FIELDS)
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    return Progress(qs.get(pk=batch_id))


def batches_for_team(*, team: Any) -> QuerySet[Batch]:
    return Batch.objects.filter(team=team).select_related("created_by", "undo_of").order_by("-created_at")


def batch_items(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    qs = BatchItem.objects.filter(batch=batch).defer("data").order_by("seq")
    if status:
        qs = qs.filter(status=status)
    return qs


def batch_items_for_people(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    """Return a batch's items as people read them: problems first (failed and conflicts, then skipped,
    cancelled, succeeded), grouped by the workout they are about, then in request order."""
    S = BatchItem.Status
    change_workout = (
        BatchChange.objects.filter(pk=OuterRef("change_id"))
        .annotate(
            w=Case(
                When(model=WORKOUT_MODEL, then=Cast("object_id", TextField())),
                default=Coalesce(
                    KT("after__workout_id"), KT("before__workout_id"), Value(""), output_field=TextField()
                ),
                output_field=TextField(),
            )
        )
        .values("w")[:1]
    )
    qs = batch_items(batch=batch, status=status).annotate(
        rank=Case(
            When(status__in=[S.FAILED, S.CONFLICT], then=Value(0)),
            When(status=S.SKIPPED, then=Value(1)),
            When(status=S.CANCELLED, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        change_id=Cast(KT("data__changeId"), BigIntegerField()),
        workout_key=Case(
            When(type=OperationType.REVERT, then=Subquery(change_workout)),
            default=Coalesce(
                KT("data__workoutId"), KT("result__workoutId"), Value(""), output_field=TextField()
            ),
            output_field=TextField(),
        ),
    )
    return qs.order_by("rank", "workout_key", "seq")


NAMED_SLICE = 2000


def named_items(items: QuerySet[BatchItem], *, team_id: int) -> Iterator[tuple[BatchItem, Named]]:
    """Yield (item, Named) streaming the queryset in slices of NAMED_SLICE (item_names per slice)."""
    chunk: list[BatchItem] = []
    for item in items.iterator(NAMED_SLICE):
        chunk.append(item)
        if len(chunk) >= NAMED_SLICE:
            names = item_names(chunk, team_id=team_id)
            yield from ((i, names[i.op_id]) for i in chunk)
            chunk = []
    if chunk:
        names = item_names(chunk, team_id=team_id)
        yield from ((i, names[i.op_id]) for i in chunk)


def batch_summary(*, batch: Batch, include_results: bool = True) -> dict[str, Any]:
    """Return the final summary shape: {id, status, summary, results[]}; results streamed per 2000."""
    summary: dict[str, Any] = {
        "id": batch.pk,
        "status": batch.status,
        "summary": {
            "total": batch.total_items,
            "successful": batch.succeeded,
            "failed": batch.failed,
            "skipped": batch.skipped,
            "cancelled": batch.cancelled,
            "conflicts": batch.conflicted,
        },
    }
    if batch.error:
        summary["error"] = batch.error
    if include_results:
        results = []
        items = batch_items(batch=batch).only(*RESULT_FIELDS)
        for item, named in named_items(items, team_id=batch.team_id):
            results.append(result_entry(item, named))
        summary["results"] = results
    return summary


RESULT_FIELDS = ("op_id", "type", "status", "data", "error", "result", "metadata", "retry_count")


def result_entry(item: BatchItem, named: Any) -> dict[str, Any]:
    """Return one item's result in the exchange shape (load the item with RESULT_FIELDS)."""
    entry: dict[str, Any] = {
        "id": item.op_id,
        "type": item.type,
        "status": item.status,
        "target": named.target.as_dict(),
    }
    if item.error:
        entry["error"] = item.error
    if item.result is not None:
        entry["result"] = item.result
    # The operation's own metadata comes back as it was sent (the exchange format's promise).
    if item.metadata:
        entry["metadata"] = item.metadata
    if item.retry_count:
        entry["retryCount"] = item.retry_count
    return entry


# --- Names: which workout (and player) each item is about -------------------------------------------

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
    workout_ids: set[int] = set()
    template_ids: set[int] = set()
    player_ids: set[int] = set()
    for item in items:
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
        if entry.get("workout"):
            workout_ids.add(entry["workout"])
        workout_ids.update(entry["created"])
        if entry.get("template"):
            template_ids.add(entry["template"])
        if entry.get("player"):
            player_ids.add(entry["player"])
        for ids in entry["players"].values():
            player_ids.update(ids)
        plan[item.op_id] = entry

    workouts: dict[int, Target] = {}
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


# --- Force undo: what it would overwrite -------------------------------------------------------------

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


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ")


def _same(obj: Any, name: str, now: Any, value: Any) -> bool:
    try:
        return obj._meta.get_field(name).to_python(value) == now
    except Exception:  # noqa: BLE001 - an odd image value: show it rather than hide the difference
        return str(now) == str(value)


def _show(value: Any) -> Any:
    """A value for people: local times, blanks as a dash."""
    parsed = _start(value) if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" else value
    if isinstance(parsed, dt.datetime):
        return timezone.localtime(parsed).strftime("%a %-d %b %Y, %H:%M")
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
                        fields.append((_label(name), _show(now), _show(then)))
            touches_medical = True
            player = image.get("player_id")
        elif change.action in (BatchChange.Action.CREATED, BatchChange.Action.ASSIGNED):
            action = "delete"
            possible = obj is not None
            for name, value in (change.after or {}).items():
                now = getattr(obj, name, None) if obj is not None else None
                if obj is not None and str(now) != str(value) and name not in ("version", "updated_at"):
                    fields.append((_label(name), now, "deleted"))
            # Taking a player off, or a workout away, never asks more of a restricted player.
            player = None
        else:
            action = "restore"
            possible = obj is not None
            for name, value in (change.before or {}).items():
                now = getattr(obj, name, None) if obj is not None else None
                if obj is not None and _same(obj, name, now, value):
                    continue
                fields.append((_label(name), _show(now), _show(value)))
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
