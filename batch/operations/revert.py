"""REVERT: undo one logged change (internal; built by batch/undo.py, never accepted from a request).

Generic over the change-log conventions:
- CREATED / ASSIGNED: the object is deleted if it is still at `version_after` (templates: and unused).
- UPDATED / ARCHIVED / RESTORED: `before` is written back and the version bumped, if the object is still
  at `version_after`.
- UNASSIGNED: the assignment is re-created from its `before` row image (same id) unless its
  (workout, player) pair has an assignment again.
- DELETED (permanent, undoable=False): never undone; the item ends SKIPPED with NOT_UNDOABLE.

An object changed since (version moved on) ends CONFLICT with what changed, unless `force`.

The medical gate re-checks (revert_gate.py) every revert that puts a player back on a workout (a
re-created or restored assignment) or restores a workout's earlier time or intensity, as things are
now: a blocked player ends the item CONFLICT with MEDICAL_RESTRICTION; a modified one goes back with
today's cap and substitutions. `force` overrides a medical block only when the undo's actor is a
medic or staff member, and every such override leaves an audit row.

Items run in reverse change order (the undo batch is sequential). Within a chunk, `check` works on an
in-memory image of each object so an object touched twice is restored step by step; the version a
revert writes is logged on the undo batch, so the revert of the object's earlier change (maybe in a
later chunk) expects that version instead of the original one. Queries per chunk: the changes, one
per model of the objects, the undo batch's own log for those objects, and for UNASSIGNED the
occupied pairs and surviving workouts/players; writes are grouped into runs of one kind per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import F as DbF
from django.db.models import Value
from django.db.models.functions import Greatest

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import ChangeRow, Context, Executor, jsonable, register
from batch.operations.revert_gate import (
    ASSIGNMENT,
    TEMPLATE,
    WORKOUT,
    A,
    Key,
    RevertGate,
    model_for,
    to_python,
)
from batch.sql import values_update, values_update_versions
from medical.compliance import PlayerVerdict
from medical.gate import (
    medical_override_record,
)


@dataclass
class Step:
    """What one revert does, decided in check and written in apply."""

    kind: str  # "delete", "insert", "update"
    key: Key
    change: BatchChange
    obj: models.Model
    version: int | None
    fields: list[str] = field(default_factory=list)
    forced: bool = False
    # Blocked players a medic or staff member put back anyway (audited in apply): (workout id, verdicts).
    medical_override: tuple[int, list[PlayerVerdict]] | None = None


def has_version(model: type[models.Model]) -> bool:
    return any(f.name == "version" for f in model._meta.concrete_fields)


def differing(obj: models.Model, image: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Return {attname: {expected, current}} for every field of `image` the object no longer has."""
    out = {}
    model = type(obj)
    for attname, expected in (image or {}).items():
        current = getattr(obj, attname, None)
        if to_python(model, attname, expected) != current:
            out[attname] = {"expected": expected, "current": jsonable(current)}
    return out


def conflict(
    change: BatchChange, message: str, *, expected: int | None, current: int | None, **details: Any
) -> ItemError:
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=message,
        details={
            "changeId": change.pk,
            "model": change.model,
            "objectId": change.object_id,
            "action": change.action,
            "expectedVersion": expected,
            "currentVersion": current,
            "conflict": "VERSION",
            **details,
        },
        recoverable=True,
        suggested_action="Review the object's current state; undo again with force to overwrite it.",
        status=BatchItem.Status.CONFLICT,
    )


@register
class RevertExecutor(RevertGate, Executor):
    type = OperationType.REVERT
    undoable = False  # an undo is not undone; redo is a new batch

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        ids = [i.data["changeId"] for i in items]
        changes = (
            BatchChange.objects.filter(pk__in=ids, batch__team=ctx.team)
            .select_related("item")
            .only(*[f.name for f in BatchChange._meta.concrete_fields], "item__type", "item__data")
        )
        if ctx.batch is not None and ctx.batch.undo_of_id:
            changes = changes.filter(batch_id=ctx.batch.undo_of_id)
        by_id = {c.pk: c for c in changes}
        ctx.cache["changes"] = by_id
        wanted: dict[str, set[int]] = {}
        for change in by_id.values():
            wanted.setdefault(change.model, set()).add(change.object_id)
        # The live objects, locked for the chunk (one query per model).
        state: dict[Key, models.Model | None] = {}
        for label, object_ids in wanted.items():
            model = model_for(label)
            rows = model.objects.filter(pk__in=object_ids).select_for_update(of=("self",)).order_by("pk")
            found = {obj.pk: obj for obj in rows}
            for oid in object_ids:
                state[(label, oid)] = found.get(oid)
        ctx.cache["state"] = state
        ctx.cache["present"] = {key: obj is not None for key, obj in state.items()}
        # Versions this undo already wrote for these objects (earlier chunks, earlier savepoints).
        chain: dict[Key, int | None] = {}
        if ctx.batch is not None and wanted:
            logged = BatchChange.objects.filter(batch=ctx.batch, object_id__in={k[1] for k in state})
            for label, oid, version in logged.order_by("pk").values_list(
                "model", "object_id", "version_after"
            ):
                if (label, oid) in state:
                    chain[(label, oid)] = version
        for pending in ctx.changes:
            if (
                pending.batch_id == getattr(ctx.batch, "pk", None)
                and (pending.model, pending.object_id) in state
            ):
                chain[(pending.model, pending.object_id)] = pending.version_after
        ctx.cache["chain"] = chain
        # UNASSIGNED: which pairs are taken again, which workouts and players still exist.
        images = [c.before or {} for c in by_id.values() if c.action == A.UNASSIGNED]
        pairs: dict[tuple[int, int], models.Model] = {}
        ctx.cache["workouts"] = ctx.cache["players"] = set()
        if images:
            assignment = model_for(ASSIGNMENT)
            workout_ids = {i.get("workout_id") for i in images}
            player_ids = {i.get("player_id") for i in images}
            for row in assignment.objects.filter(workout_id__in=workout_ids, player_id__in=player_ids):
                pairs[(row.workout_id, row.player_id)] = row
            ctx.cache["workouts"] = set(
                model_for(WORKOUT).objects.filter(pk__in=workout_ids).values_list("pk", flat=True)
            )
            ctx.cache["players"] = set(
                model_for("workouts.player").objects.filter(pk__in=player_ids).values_list("pk", flat=True)
            )
        for key, obj in state.items():
            if key[0] == ASSIGNMENT and obj is not None:
                pairs.setdefault((obj.workout_id, obj.player_id), obj)
        ctx.cache["pairs"] = pairs
        # Templates: in use by a workout (created since) means "used".
        template_ids = [c.object_id for c in by_id.values() if c.model == TEMPLATE and c.action == A.CREATED]
        ctx.cache["used_templates"] = (
            set(
                model_for(WORKOUT)
                .objects.filter(template_id__in=template_ids)
                .values_list("template_id", flat=True)
            )
            if template_ids
            else set()
        )
        ctx.cache["steps"] = {}
        self.prepare_gate(list(by_id.values()), state, ctx)

    def check(self, item: BatchItem, ctx: Context) -> None:
        change: BatchChange | None = ctx.cache["changes"].get(item.data["changeId"])
        force = bool(item.data.get("force"))
        if change is None:
            raise ItemError(
                code=ErrorCode.NOT_FOUND,
                message=f"change {item.data['changeId']} is no longer in the change log (purged?)",
                details={"changeId": item.data["changeId"]},
                suggested_action="Changes are kept until the undo deadline; this one cannot be undone.",
            )
        if not change.undoable:
            raise ItemError(
                code=ErrorCode.NOT_UNDOABLE,
                message=f"{change.model} {change.object_id} was {change.get_action_display().lower()}; "
                "that cannot be undone",
                details={"changeId": change.pk, "model": change.model, "objectId": change.object_id},
                suggested_action="Re-create it by hand if it is still needed.",
                status=BatchItem.Status.SKIPPED,
            )
        key: Key = (change.model, change.object_id)
        obj = ctx.cache["state"].get(key)
        if change.action == A.UNASSIGNED:
            step = self.check_recreate(item, change, key, obj, ctx, force)
        elif change.action in (A.CREATED, A.ASSIGNED):
            step = self.check_delete(item, change, key, obj, ctx, force)
        elif change.action in (A.UPDATED, A.ARCHIVED, A.RESTORED):
            step = self.check_restore(item, change, key, obj, ctx, force)
        else:
            raise ItemError(
                code=ErrorCode.NOT_UNDOABLE,
                message=f"no way to undo a {change.action!r} change",
                details={"changeId": change.pk},
                status=BatchItem.Status.SKIPPED,
            )
        ctx.cache["steps"][item.op_id] = step
        ctx.cache["chain"][step.key] = step.version

    def expected_version(self, change: BatchChange, key: Key, ctx: Context) -> int | None:
        chain = ctx.cache["chain"]
        return chain.get(key, change.version_after)

    def verify(
        self, item: BatchItem, change: BatchChange, key: Key, obj: models.Model, ctx: Context, force: bool
    ) -> bool:
        """Raise CONFLICT if the object moved on since the batch (unless forced); return True if forced."""
        if has_version(type(obj)):
            expected = self.expected_version(change, key, ctx)
            if expected is None or obj.version == expected:
                return False
            changed = differing(obj, change.after) if key not in ctx.cache["chain"] else {}
            message = (
                f"{change.model} {change.object_id} was changed since the batch "
                f"(version {obj.version}, expected {expected})"
            )
            current = obj.version
        else:
            changed = differing(obj, change.after)
            if not changed:
                return False
            expected = current = None
            message = f"{change.model} {change.object_id} was changed since the batch: {', '.join(changed)}"
        if not force:
            raise conflict(change, message, expected=expected, current=current, changedFields=changed)
        ctx.warn(item, message + "; forced", code=ErrorCode.VERSION_CONFLICT)
        return True

    def check_delete(
        self,
        item: BatchItem,
        change: BatchChange,
        key: Key,
        obj: models.Model | None,
        ctx: Context,
        force: bool,
    ) -> Step:
        if obj is None:
            ctx.warn(item, f"{change.model} {change.object_id} is already gone", code="ALREADY_REVERTED")
            return Step("noop", key, change, obj, None)  # type: ignore[arg-type]
        forced = self.verify(item, change, key, obj, ctx, force)
        if key[0] == TEMPLATE and obj.pk in ctx.cache["used_templates"] and not forced:
            if not force:
                raise conflict(
                    change,
                    f"template {obj.pk} is used by workouts created since",
                    expected=change.version_after,
                    current=getattr(obj, "version", None),
                    conflict="IN_USE",
                )
            forced = True
        ctx.cache["state"][key] = None
        if key[0] == ASSIGNMENT:
            pair = (obj.workout_id, obj.player_id)
            if ctx.cache["pairs"].get(pair) is obj:
                del ctx.cache["pairs"][pair]
            ctx.cache.get("roster", {}).get(obj.workout_id, set()).discard(obj.player_id)
        return Step("delete", key, change, obj, None, forced=forced)

    def check_restore(
        self,
        item: BatchItem,
        change: BatchChange,
        key: Key,
        obj: models.Model | None,
        ctx: Context,
        force: bool,
    ) -> Step:
        if obj is None:
            raise conflict(
                change,
                f"{change.model} {change.object_id} was deleted since the batch",
                expected=self.expected_version(change, key, ctx),
                current=None,
                conflict="DELETED",
            )
        forced = self.verify(item, change, key, obj, ctx, force)
        model = type(obj)
        names = []
        previous = {attname: getattr(obj, attname) for attname in (change.before or {})}
        for attname, value in (change.before or {}).items():
            setattr(obj, attname, to_python(model, attname, value))
            names.append(attname)
        try:
            override = self.gate_restore(item, change, key, obj, ctx, force, names)
        except ItemError:
            for attname, value in previous.items():  # the chunk's image stays as the database has it
                setattr(obj, attname, value)
            raise
        version = None
        if has_version(model):
            obj.version += 1
            version = obj.version
        return Step(
            "update", key, change, obj, version, fields=names, forced=forced, medical_override=override
        )

    def check_recreate(
        self,
        item: BatchItem,
        change: BatchChange,
        key: Key,
        obj: models.Model | None,
        ctx: Context,
        force: bool,
    ) -> Step:
        image = dict(change.before or {})
        pair = (image.get("workout_id"), image.get("player_id"))
        base = {"expected": None, "current": None}
        if pair[0] not in ctx.cache["workouts"] or pair[1] not in ctx.cache["players"]:
            missing = "workout" if pair[0] not in ctx.cache["workouts"] else "player"
            raise conflict(
                change,
                f"cannot re-assign: {missing} {pair[0] if missing == 'workout' else pair[1]} is gone",
                **base,
                conflict="DELETED",
            )
        taken = ctx.cache["pairs"].get(pair) or obj
        model = model_for(change.model)
        if taken is not None:
            if not force:
                raise conflict(
                    change,
                    f"player {pair[1]} has an assignment to workout {pair[0]} again",
                    **base,
                    conflict="EXISTS",
                    existingId=taken.pk,
                )
            # Forced: the existing assignment takes the before-image's values, with today's verdict
            # (the old load and verdict may no longer be safe).
            verdicts, override = self.gate(
                item,
                change,
                ctx,
                workout=self.workout_now(pair[0], ctx),
                workout_id=pair[0],
                player_ids=[pair[1]],
                force=force,
            )
            ctx.warn(item, f"assignment {taken.pk} overwritten with the removed one's values; forced")
            names = [a for a in image if a not in ("version", "id")]
            for attname in names:
                setattr(taken, attname, to_python(model, attname, image[attname]))
            self.apply_verdict(taken, verdicts.get(pair[1]), names)
            taken.version += 1
            return Step(
                "update",
                (change.model, taken.pk),
                change,
                taken,
                taken.version,
                names,
                forced=True,
                medical_override=override,
            )
        values = {a: to_python(model, a, v) for a, v in image.items() if a != "id"}
        values["version"] = int(image.get("version") or 0) + 1
        new = model(pk=change.object_id, **values)
        verdicts, override = self.gate(
            item,
            change,
            ctx,
            workout=self.workout_now(pair[0], ctx),
            workout_id=pair[0],
            player_ids=[pair[1]],
            force=force,
        )
        names = list(values)
        self.apply_verdict(new, verdicts.get(pair[1]), names)
        ctx.cache["state"][key] = new
        ctx.cache["pairs"][pair] = new
        ctx.cache.get("roster", {}).setdefault(pair[0], set()).add(pair[1])
        return Step("insert", key, change, new, values["version"], fields=names, medical_override=override)

    # --- apply: runs of one kind per model ----------------------------------------------------------

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        steps: list[tuple[BatchItem, Step]] = [(item, ctx.cache["steps"][item.op_id]) for item in items]
        run: list[Step] = []
        for _, step in steps:
            if run and (run[0].kind, run[0].key[0]) != (step.kind, step.key[0]):
                self.flush(run, ctx)
                run = []
            run.append(step)
        if run:
            self.flush(run, ctx)
        self.release_template_uses([s for _, s in steps if s.kind == "delete"])
        for item, step in steps:
            if step.medical_override is not None:
                workout_id, verdicts = step.medical_override
                medical_override_record(
                    actor=ctx.user,
                    team=ctx.team,
                    verdicts=verdicts,
                    workout_id=workout_id,
                    channel="worker",
                    reason=f"forced undo (batch {getattr(ctx.batch, 'undo_of_id', None)}, {item.op_id})",
                )
        results = {}
        for item, step in steps:
            change = step.change
            reverted = {"delete": "deleted", "insert": "recreated", "update": "restored"}.get(
                step.kind, "none"
            )
            results[item.op_id] = {
                "id": step.key[1],
                "model": change.model,
                "objectId": step.key[1],
                "changeId": change.pk,
                "undid": change.action,
                "reverted": reverted,
                "version": step.version,
                "fields": sorted(step.fields),
                "forced": step.forced or step.medical_override is not None,
                "medicalOverride": step.medical_override is not None,
            }
            if step.kind != "noop":
                ctx.changes.append(self.log_row(item, step, ctx))
        return results

    def flush(self, run: list[Step], ctx: Context) -> None:
        kind, label = run[0].kind, run[0].key[0]
        model = model_for(label)
        if kind == "delete":
            model.objects.filter(pk__in=[s.key[1] for s in run]).delete()
        elif kind == "insert":
            model.objects.bulk_create([s.obj for s in run])
        elif kind == "update":
            by_pk: dict[int, models.Model] = {}
            columns: set[str] = set()
            for step in run:
                by_pk[step.obj.pk] = step.obj  # touched twice: written once, in its final state
                columns.update(model._meta.get_field(a).name for a in step.fields)
            if has_version(model):
                columns.add("version")
            if any(f.name == "updated_at" for f in model._meta.concrete_fields):
                columns.add("updated_at")
                for obj in by_pk.values():
                    obj.updated_at = ctx.now
            names = sorted(columns)
            rows = [
                {"pk": pk, **{n: getattr(obj, model._meta.get_field(n).attname) for n in names}}
                for pk, obj in by_pk.items()
            ]
            if not has_version(model):
                values_update(model, rows, names)
                return
            # Log what the row really holds (the version trigger has the last word); the object's
            # last step in this run carries the written version.
            versions = values_update_versions(model, rows, names)
            for step in reversed(run):
                if step.obj.pk in versions:
                    step.version = versions.pop(step.obj.pk)

    def release_template_uses(self, deletes: list[Step]) -> None:
        """A CREATE from a template counted a use; deleting its workout gives the use back."""
        uses: dict[int, int] = {}
        for step in deletes:
            change = step.change
            template_id = getattr(step.obj, "template_id", None)
            if (
                change.model == WORKOUT
                and change.action == A.CREATED
                and template_id
                and change.item.type == OperationType.CREATE
                and (change.item.data or {}).get("templateId")
            ):
                uses[template_id] = uses.get(template_id, 0) + 1
        template = model_for(TEMPLATE)
        for template_id, count in uses.items():
            template.objects.filter(pk=template_id).update(
                usage_count=Greatest(DbF("usage_count") - count, Value(0))
            )

    def log_row(self, item: BatchItem, step: Step, ctx: Context) -> ChangeRow:
        """The undo's own change row: informational, and the version chain for later reverts."""
        change = step.change
        action = {"delete": A.DELETED, "insert": A.ASSIGNED, "update": A.RESTORED}[step.kind]
        if step.kind == "update" and change.action == A.RESTORED:
            action = A.ARCHIVED
        elif step.kind == "update":
            action = A.UPDATED
        return ChangeRow(
            batch_id=ctx.batch.pk if ctx.batch is not None else None,
            item_id=item.pk,
            model=step.key[0],
            object_id=step.key[1],
            action=action,
            before=change.after if step.kind == "update" else None,
            after=change.before if step.kind != "delete" else None,
            version_after=step.version,
            undoable=False,
        )
