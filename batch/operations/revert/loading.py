"""What a chunk of reverts needs, loaded once: the changes, the live objects (locked), the version chain.

Queries per chunk: the changes, one per model of the objects, the undo batch's own log for those
objects, and for UNASSIGNED the occupied pairs and surviving workouts/players; one more when a
template's CREATE is reverted (is it used since?).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models

from batch.models import BatchChange, BatchItem
from batch.operations.base import Context
from batch.operations.revert.gate import ASSIGNMENT, TEMPLATE, WORKOUT, A, RevertState, model_for
from batch.operations.revert.steps import Key


def load_chunk(items: Sequence[BatchItem], ctx: Context) -> RevertState:
    """Return the chunk's changes, live objects (locked), version chain, pairs and used templates."""
    ids = [i.data["changeId"] for i in items]
    changes = (
        BatchChange.objects.filter(pk__in=ids, batch__team=ctx.team)
        .select_related("item")
        .only(*[f.name for f in BatchChange._meta.concrete_fields], "item__type", "item__data")
    )
    if ctx.batch is not None and ctx.batch.undo_of_id:
        changes = changes.filter(batch_id=ctx.batch.undo_of_id)
    by_id = {c.pk: c for c in changes}
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
    # Versions this undo already wrote for these objects (earlier chunks, earlier savepoints).
    chain: dict[Key, int | None] = {}
    if ctx.batch is not None and wanted:
        logged = BatchChange.objects.filter(batch=ctx.batch, object_id__in={k[1] for k in state})
        for label, oid, version in logged.order_by("pk").values_list("model", "object_id", "version_after"):
            if (label, oid) in state:
                chain[(label, oid)] = version
    for pending in ctx.changes:
        if pending.batch_id == getattr(ctx.batch, "pk", None) and (pending.model, pending.object_id) in state:
            chain[(pending.model, pending.object_id)] = pending.version_after
    # UNASSIGNED: which pairs are taken again, which workouts and players still exist.
    images = [c.before or {} for c in by_id.values() if c.action == A.UNASSIGNED]
    pairs: dict[tuple[int, int], models.Model] = {}
    workouts: dict[int, models.Model] = {}
    players: set[int] = set()
    if images:
        assignment = model_for(ASSIGNMENT)
        workout_ids = {i.get("workout_id") for i in images}
        player_ids = {i.get("player_id") for i in images}
        for row in assignment.objects.filter(workout_id__in=workout_ids, player_id__in=player_ids):
            pairs[(row.workout_id, row.player_id)] = row
        # What the rulebook asks of a workout a player goes back on (assign_refusal): its state.
        workouts = model_for(WORKOUT).objects.only("pk", "status", "archived_at").in_bulk(workout_ids)
        players = set(
            model_for("workouts.player").objects.filter(pk__in=player_ids).values_list("pk", flat=True)
        )
    for key, obj in state.items():
        if key[0] == ASSIGNMENT and obj is not None:
            pairs.setdefault((obj.workout_id, obj.player_id), obj)
    # Templates: in use by a workout (created since) means "used".
    template_ids = [c.object_id for c in by_id.values() if c.model == TEMPLATE and c.action == A.CREATED]
    used_templates = (
        set(
            model_for(WORKOUT)
            .objects.filter(template_id__in=template_ids)
            .values_list("template_id", flat=True)
        )
        if template_ids
        else set()
    )
    return RevertState(
        changes=by_id,
        objects=state,
        chain=chain,
        pairs=pairs,
        workouts=workouts,
        players=players,
        used_templates=used_templates,
    )
