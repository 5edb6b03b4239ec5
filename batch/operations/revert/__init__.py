"""REVERT: undo one logged change (internal; built by batch/undo.py, never accepted from a request).

Generic over the change-log conventions:
- CREATED / ASSIGNED: the object is deleted if it is still at `version_after` (templates: and unused).
- UPDATED / ARCHIVED / RESTORED: `before` is written back and the version bumped, if the object is still
  at `version_after`.
- UNASSIGNED: the assignment is re-created from its `before` row image (same id) unless its
  (workout, player) pair has an assignment again.
- DELETED (permanent, undoable=False): never undone; the item ends SKIPPED with NOT_UNDOABLE.

An object changed since (version moved on) ends CONFLICT with what changed, unless `force`.

The medical gate re-checks (revert/gate.py) every revert that puts a player back on a workout (a
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

Layout: `steps` (the Step a revert decides on, and the CONFLICT it raises), `loading` (the chunk's
changes, locked objects and version chain), `executor` (RevertExecutor: check per item) and `writes`
(apply: runs of one kind per model, the undo's own change rows); the medical checks are the
RevertGate mixin in `batch/operations/revert/gate.py`. Importing this package registers the executor.
"""

from __future__ import annotations

from batch.operations.revert.executor import RevertExecutor
from batch.operations.revert.steps import Step, conflict, differing, has_version

__all__ = ["RevertExecutor", "Step", "conflict", "differing", "has_version"]
