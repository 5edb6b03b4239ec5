"""The batch options behind the modal's "Advanced" fold, bounded as the exchange format bounds them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from batch.exchange import BLOCKED_PLAYERS, CONFLICT_STRATEGIES, BatchOptions, limits
from batch.wording import STRATEGY_LABELS


def bounds_from(field: forms.IntegerField, model: Any, name: str) -> None:
    """Give a form field the exchange model's bounds (read now, so settings-driven ones are current)."""
    found = limits(model, name)
    field.min_value, field.max_value = found.minimum, found.maximum
    field.validators = [
        v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)
    ]
    if found.minimum is not None:
        field.validators.append(MinValueValidator(found.minimum))
    if found.maximum is not None:
        field.validators.append(MaxValueValidator(found.maximum))
    field.widget.attrs.update(min=found.minimum, max=found.maximum)


class OptionsForm(forms.Form):
    """The batch options behind the modal's "Advanced" fold, with the engine's defaults."""

    prefix = "opt"

    # Bounds (and defaults) come from the exchange models; settings-driven ones are read per form.
    max_concurrency = forms.IntegerField(
        label="Work in parallel (up to)",
        initial=BatchOptions().max_concurrency,
        help_text="How many workers share the batch.",
    )
    chunk_size = forms.IntegerField(
        label="Workouts per step",
        required=False,
        initial=BatchOptions().chunk_size,
        help_text="Each step is saved on its own; a cancel takes effect between steps. "
        "Leave empty to size steps automatically (about a quarter second each).",
    )
    stop_on_error = forms.BooleanField(label="Stop at the first error", required=False, initial=False)
    rollback_on_error = forms.BooleanField(
        label="Undo everything if anything fails", required=False, initial=False
    )
    retry_attempts = forms.IntegerField(
        label="Tries again when the database is busy",
        min_value=limits(BatchOptions, "retry_attempts").minimum,
        max_value=limits(BatchOptions, "retry_attempts").maximum,
        initial=BatchOptions().retry_attempts,
    )
    medical_check = forms.BooleanField(
        label="Check medical restrictions",
        required=False,
        initial=True,
        help_text="Only a medic or staff member may switch this off.",
    )
    conflict_resolution = forms.ChoiceField(
        label="If it clashes with another booking",
        choices=[(strategy, STRATEGY_LABELS[strategy]) for strategy in CONFLICT_STRATEGIES],
        initial=BatchOptions().conflict_resolution,
    )
    blocked_players = forms.ChoiceField(
        label="If a player is medically blocked",
        choices=[
            ("exclude", "Leave them out and go ahead with the rest"),
            ("fail", "Count the whole workout as failed"),
        ],
        initial=BatchOptions().blocked_players,
        required=False,  # a form without it (an older page) keeps the engine's default
    )
    notify_on_complete = forms.BooleanField(label="Notify me when it ends", required=False, initial=True)

    # Shown with the operation; the rest sit under "Advanced".
    everyday_fields = ("conflict_resolution", "blocked_players", "notify_on_complete")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("max_concurrency", "chunk_size"):
            bounds_from(self.fields[name], BatchOptions, name)

    def clean_blocked_players(self) -> str:
        value = self.cleaned_data["blocked_players"] or BatchOptions().blocked_players
        assert value in BLOCKED_PLAYERS
        return value

    def clean_conflict_resolution(self) -> str:
        value = self.cleaned_data["conflict_resolution"]
        assert value in CONFLICT_STRATEGIES
        return value

    def exchange(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "maxConcurrency": d["max_concurrency"],
            "chunkSize": d["chunk_size"],
            "stopOnError": d["stop_on_error"],
            "rollbackOnError": d["rollback_on_error"],
            "retryFailedOperations": d["retry_attempts"] > 0,
            "retryAttempts": d["retry_attempts"],
            "medicalComplianceCheck": d["medical_check"],
            "conflictResolution": d["conflict_resolution"],
            "blockedPlayers": d["blocked_players"],
            "notifyOnComplete": d["notify_on_complete"],
        }
