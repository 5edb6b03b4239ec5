"""The small forms of the batch pages: the results tabs and the import upload."""

from __future__ import annotations

from typing import ClassVar

from django import forms


class ResultsTabForm(forms.Form):
    TABS: ClassVar[dict[str, str | None]] = {
        "all": None,
        "succeeded": "SUCCEEDED",
        "failed": "FAILED",
        "conflicts": "CONFLICT",
        "skipped": "SKIPPED",
        "cancelled": "CANCELLED",
    }

    tab = forms.ChoiceField(required=False, choices=[(t, t) for t in TABS])
    page = forms.IntegerField(required=False, min_value=1)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Batch definition",
        help_text="Exchange-format .json, or a .csv of operations (see docs/api.md).",
    )
