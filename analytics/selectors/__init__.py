"""Reads of analytics: batch figures from the roll-ups, training load from workouts and medical."""

from analytics.selectors.batches import (
    GROUPS,
    batch_errors,
    batch_series,
    batch_summary,
    batch_types,
)
from analytics.selectors.load import TrainingLoad, training_load

__all__ = [
    "GROUPS",
    "TrainingLoad",
    "batch_errors",
    "batch_series",
    "batch_summary",
    "batch_types",
    "training_load",
]
