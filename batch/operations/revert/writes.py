"""The REVERT write step: the chunk's steps written as runs of one kind per model, then logged.

Each run is one statement (a delete, a bulk insert, or one VALUES update that returns the versions
the trigger wrote); deleting a workout created from a template gives the template's use back;
medical overrides are audited; every step but a no-op leaves the undo's own change row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import F as DbF
from django.db.models import Value
from django.db.models.functions import Greatest

from batch.models import BatchItem, OperationType
from batch.operations.base import ChangeRow, Context
from batch.operations.revert.gate import TEMPLATE, WORKOUT, A, RevertState, model_for
from batch.operations.revert.steps import Step, has_version
from batch.sql import values_update, values_update_versions
from medical.gate import medical_override_record


def apply_steps(items: Sequence[BatchItem], ctx: Context) -> dict[str, dict[str, Any]]:
    decided = ctx.state_as(RevertState).steps
    steps: list[tuple[BatchItem, Step]] = [(item, decided[item.op_id]) for item in items]
    run: list[Step] = []
    for _, step in steps:
        if run and (run[0].kind, run[0].key[0]) != (step.kind, step.key[0]):
            flush(run, ctx)
            run = []
        run.append(step)
    if run:
        flush(run, ctx)
    release_template_uses([s for _, s in steps if s.kind == "delete"])
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
        reverted = {"delete": "deleted", "insert": "recreated", "update": "restored"}.get(step.kind, "none")
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
            ctx.changes.append(log_row(item, step, ctx))
    return results


def flush(run: list[Step], ctx: Context) -> None:
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


def release_template_uses(deletes: list[Step]) -> None:
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


def log_row(item: BatchItem, step: Step, ctx: Context) -> ChangeRow:
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
