from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms

from automations.models import Schedule


class RecipeForm(forms.Form):
    name = forms.CharField(max_length=120)
    request = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}), required=False
    )

    def clean_request(self) -> Any:
        text = self.cleaned_data["request"]
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc.msg} (line {exc.lineno})") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("A request is a JSON object with an operations list.")
        return value


class ScheduleForm(forms.Form):
    rrule = forms.CharField(
        max_length=500,
        label="Repeats (RFC 5545 RRULE)",
        initial="FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0",
        help_text="e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0 — every Sunday 18:00, club time",
    )
    start = forms.DateTimeField(
        label="Starting", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Club time"
    )
    missed = forms.ChoiceField(
        choices=Schedule.Missed.choices, initial=Schedule.Missed.LATEST, required=False
    )


class CopyRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(min_value=1, max_value=28, initial=7, label="Days")
    shift = forms.IntegerField(min_value=1, max_value=365, initial=7, label="Copy … days later")

    def clean_start(self) -> dt.date:
        return self.cleaned_data["start"]
