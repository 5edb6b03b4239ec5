"""Forms that parse and validate query strings and posts for the workout pages."""

from __future__ import annotations

from django import forms

from workouts.models import Workout

# "upcoming" (the default) is ordered by workouts.selectors.upcoming_first, which needs today's date.
SORTS = {
    "upcoming": (),
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


class SelectionForm(forms.Form):
    """A change to the session's workout selection, posted by the list's checkboxes and bar."""

    ACTIONS = ("sync", "all", "clear")

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    ids = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=())
    page_ids = forms.CharField(required=False, max_length=2000)
    query = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Any integer id is acceptable here; the selection is always re-scoped to the team on use.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]

    def clean_page_ids(self) -> list[int]:
        raw = self.cleaned_data.get("page_ids") or ""
        parts = [p for p in raw.split(",") if p]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError("Page ids must be a comma-separated list of numbers.")
        return [int(p) for p in parts]


class WeekForm(forms.Form):
    """An ISO week like 2026-W48; empty means this week."""

    week = forms.RegexField(
        required=False, regex=r"^\d{4}-W\d{2}$", error_messages={"invalid": "Use a week like 2026-W05."}
    )

    def clean_week(self) -> object:
        import datetime as dt

        from django.utils import timezone

        value = self.cleaned_data.get("week")
        if not value:
            today = timezone.localdate()
            return today - dt.timedelta(days=today.weekday())
        year, week = int(value[:4]), int(value[6:])
        try:
            return dt.date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise forms.ValidationError("No such week.") from exc
