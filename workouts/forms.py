"""Forms that parse and validate query strings and posts for the workout pages."""

from __future__ import annotations

from django import forms

from workouts.models import Workout

SORTS = {
    "start": ("scheduled_start", "id"),
    "-start": ("-scheduled_start", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "type": ("type", "scheduled_start", "id"),
    "-type": ("-type", "scheduled_start", "id"),
    "status": ("status", "scheduled_start", "id"),
    "-status": ("-status", "scheduled_start", "id"),
    "intensity": ("intensity", "id"),
    "-intensity": ("-intensity", "-id"),
}


class WorkoutFilterForm(forms.Form):
    q = forms.CharField(
        required=False, max_length=100, label="Search", widget=forms.TextInput(attrs={"type": "search"})
    )
    type = forms.ChoiceField(required=False, choices=[("", "All types"), *Workout.Type.choices])
    status = forms.ChoiceField(
        required=False, choices=[("", "Active"), ("all", "All"), *Workout.Status.choices]
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must not be before the start date.")
        return data

    @property
    def filters(self) -> dict:
        """Return the cleaned filters (empty values dropped), or none when the form is invalid."""
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
