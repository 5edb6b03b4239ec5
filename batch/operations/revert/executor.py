"""The REVERT executor: `check` decides each item's Step against the chunk's in-memory image.

`prepare` loads the chunk (loading.py) and the medical gate's needs (revert/gate.py); `apply`
writes the steps (writes.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem, OperationType
from batch.operations.base import Context, Executor, refused, register
from batch.operations.revert.gate import (
    ASSIGNMENT,
    TEMPLATE,
    WORKOUT,
    A,
    RevertGate,
    RevertState,
    model_for,
)
from batch.operations.revert.loading import load_chunk
from batch.operations.revert.steps import Key, Step, Undo, conflict, differing, has_version, to_python
from batch.operations.revert.writes import apply_steps
from workouts.rules import assign_refusal, move_refusal

MOVE_ATTNAMES = frozenset({"scheduled_start", "scheduled_end", "facility_id"})


@register
class RevertExecutor(RevertGate, Executor):
    type = OperationType.REVERT
    undoable = False  # an undo is not undone; redo is a new batch

    def prepare(self, items: Sequence[BatchItem], ctx: Context) -> None:
        state = ctx.state = load_chunk(items, ctx)
        self.prepare_gate(state, ctx)

    def check(self, item: BatchItem, ctx: Context) -> None:
        state = ctx.state_as(RevertState)
        change: BatchChange | None = state.changes.get(item.data["changeId"])
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
        obj = state.objects.get(key)
        undo = Undo(item, change, key, obj, force)
        if change.action == A.UNASSIGNED:
            step = self.check_recreate(undo, ctx)
        elif change.action in (A.CREATED, A.ASSIGNED):
            step = self.check_delete(undo, ctx)
        elif change.action in (A.UPDATED, A.ARCHIVED, A.RESTORED):
            step = self.check_restore(undo, ctx)
        else:
            raise ItemError(
                code=ErrorCode.NOT_UNDOABLE,
                message=f"no way to undo a {change.action!r} change",
                details={"changeId": change.pk},
                status=BatchItem.Status.SKIPPED,
            )
        state.steps[item.op_id] = step
        state.chain[step.key] = step.version

    def expected_version(self, change: BatchChange, key: Key, ctx: Context) -> int | None:
        return ctx.state_as(RevertState).chain.get(key, change.version_after)

    def verify(self, undo: Undo, obj: models.Model, ctx: Context) -> bool:
        """Raise CONFLICT if the object moved on since the batch (unless forced); return True if forced."""
        item, change, key, force = undo.item, undo.change, undo.key, undo.force
        state = ctx.state_as(RevertState)
        if has_version(type(obj)):
            expected = self.expected_version(change, key, ctx)
            if expected is None or obj.version == expected:
                return False
            changed = differing(obj, change.after) if key not in state.chain else {}
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

    def check_delete(self, undo: Undo, ctx: Context) -> Step:
        item, change, key, obj, force = undo.item, undo.change, undo.key, undo.obj, undo.force
        if obj is None:
            ctx.warn(item, f"{change.model} {change.object_id} is already gone", code="ALREADY_REVERTED")
            return Step("noop", key, change, obj, None)  # type: ignore[arg-type]
        forced = self.verify(undo, obj, ctx)
        state = ctx.state_as(RevertState)
        if key[0] == TEMPLATE and obj.pk in state.used_templates and not forced:
            if not force:
                raise conflict(
                    change,
                    f"template {obj.pk} is used by workouts created since",
                    expected=change.version_after,
                    current=getattr(obj, "version", None),
                    conflict="IN_USE",
                )
            forced = True
        state.objects[key] = None
        if key[0] == ASSIGNMENT:
            pair = (obj.workout_id, obj.player_id)
            if state.pairs.get(pair) is obj:
                del state.pairs[pair]
            state.roster.get(obj.workout_id, set()).discard(obj.player_id)
        return Step("delete", key, change, obj, None, forced=forced)

    def check_restore(self, undo: Undo, ctx: Context) -> Step:
        change, key, obj = undo.change, undo.key, undo.obj
        if obj is None:
            raise conflict(
                change,
                f"{change.model} {change.object_id} was deleted since the batch",
                expected=self.expected_version(change, key, ctx),
                current=None,
                conflict="DELETED",
            )
        forced = self.verify(undo, obj, ctx)
        restored = set(change.before or {})
        if key[0] == WORKOUT and MOVE_ATTNAMES & restored and "status" not in restored:
            # Moving it back is a move: a workout completed or cancelled since stays where it is.
            refusal = move_refusal(obj)
            if refusal is not None:
                raise refused(refusal, field_name="data.changeId", changeId=change.pk, workoutId=obj.pk)
        model = type(obj)
        names = []
        previous = {attname: getattr(obj, attname) for attname in (change.before or {})}
        for attname, value in (change.before or {}).items():
            setattr(obj, attname, to_python(model, attname, value))
            names.append(attname)
        try:
            override = self.gate_restore(undo, obj, ctx, names)
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

    def check_recreate(self, undo: Undo, ctx: Context) -> Step:
        item, change, key, obj, force = undo.item, undo.change, undo.key, undo.obj, undo.force
        state = ctx.state_as(RevertState)
        image = dict(change.before or {})
        pair = (image.get("workout_id"), image.get("player_id"))
        base = {"expected": None, "current": None}
        if pair[0] not in state.workouts or pair[1] not in state.players:
            missing = "workout" if pair[0] not in state.workouts else "player"
            raise conflict(
                change,
                f"cannot re-assign: {missing} {pair[0] if missing == 'workout' else pair[1]} is gone",
                **base,
                conflict="DELETED",
            )
        # As ASSIGN and the admin ask: not onto a workout cancelled or archived *since* — the state this
        # undo found, not the one it restores (undoing a restore archives the workout back, with the
        # player who was on it).
        workout = state.workouts[pair[0]]
        refusal = assign_refusal(workout)
        if refusal is not None:
            raise refused(refusal, field_name="data.changeId", changeId=change.pk, workoutId=pair[0])
        taken = state.pairs.get(pair) or obj
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
            verdicts, override = self.gate(item, change, ctx, pair[0], [pair[1]], force=force)
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
        verdicts, override = self.gate(item, change, ctx, pair[0], [pair[1]], force=force)
        names = list(values)
        self.apply_verdict(new, verdicts.get(pair[1]), names)
        state.objects[key] = new
        state.pairs[pair] = new
        state.roster.setdefault(pair[0], set()).add(pair[1])
        return Step("insert", key, change, new, values["version"], fields=names, medical_override=override)

    # --- apply: runs of one kind per model (writes.py) -----------------------------------------------

    def apply(self, items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
        return apply_steps(items, ctx)
