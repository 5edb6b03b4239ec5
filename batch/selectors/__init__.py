"""Reads about batches: progress, results, history and the measured per-type costs.

By role: `costs` (measured ms per operation type, cached per process; the cache is
`batch.selectors.costs._cost_cache`), `progress` (one batch's progress, a team's history), `names`
(which workout and player each item is about), `results` (items, the summary and result entries) and
`force_undo` (what a forced undo would overwrite). The names below are re-exported for
`batch.selectors` importers.
"""

from __future__ import annotations

from batch.selectors.costs import COST_CACHE_SECONDS, COST_HISTORY_DAYS, DEFAULT_COSTS_MS, measured_costs
from batch.selectors.force_undo import MEDICAL_FIELDS, ForcePreview, Overwrite, force_undo_preview
from batch.selectors.names import (
    ASSIGNMENT_MODEL,
    PLAYER_RESULT_KEYS,
    TEMPLATE_MODEL,
    WORKOUT_MODEL,
    Named,
    Target,
    item_names,
    item_targets,
)
from batch.selectors.progress import (
    PROGRESS_FIELDS,
    Progress,
    batch_progress,
    batches_for_team,
    current_operation,
)
from batch.selectors.results import (
    NAMED_SLICE,
    ItemRow,
    batch_items,
    batch_items_for_people,
    batch_summary,
    named_items,
    problem_counts,
    summary_chunks,
)

__all__ = [
    "ASSIGNMENT_MODEL",
    "COST_CACHE_SECONDS",
    "COST_HISTORY_DAYS",
    "DEFAULT_COSTS_MS",
    "MEDICAL_FIELDS",
    "NAMED_SLICE",
    "PLAYER_RESULT_KEYS",
    "PROGRESS_FIELDS",
    "TEMPLATE_MODEL",
    "WORKOUT_MODEL",
    "ForcePreview",
    "ItemRow",
    "Named",
    "Overwrite",
    "Progress",
    "Target",
    "batch_items",
    "batch_items_for_people",
    "batch_progress",
    "batch_summary",
    "batches_for_team",
    "current_operation",
    "force_undo_preview",
    "item_names",
    "item_targets",
    "measured_costs",
    "named_items",
    "problem_counts",
    "summary_chunks",
]
