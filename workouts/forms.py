"""Forms that parse and validate query strings and posts for the workout pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone

from workouts.models import Workout
from workouts.rules import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE, date_in_range

# Largest id a BIGINT primary key can hold: an id past it cannot name anything.
MAX_ID = 2**63 - 1
ID_RE = re.compile(r"[0-9]{1,19}")
# Most explicit ids a selection may hold (checkbox selections; "select all" stores a filter instead).
MAX_SELECTED_IDS = 5000


def validate_date_in_range(value: dt.date | dt.datetime) -> None:
    """Refuse a date (or a datetime's local date) outside workouts.rules.DATE_MIN..DATE_MAX."""
    if not date_in_range(value):
        raise forms.ValidationError(f"The date {DATE_RANGE_MESSAGE}.", code="date_range")


class BoundedDateField(forms.DateField):
    """A DateField that only accepts dates within the documented range (no year 9999 arithmetic)."""

    default_validators = [validate_date_in_range]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", "") == "date":
            attrs.update(min=DATE_MIN.isoformat(), max=DATE_MAX.isoformat())
        return attrs


def parse_id(value: Any) -> int | None:
    """Return value as a positive database id, or None when it is not one (wrong type, '²', 10**30)."""
    text = str(value)
    if not ID_RE.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


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
    date_from = BoundedDateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BoundedDateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
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
        # Any id is acceptable here; the selection is always re-scoped to the team on use.
        self.fields["ids"].valid_value = lambda value: parse_id(value) is not None  # type: ignore[attr-defined]

    def clean_ids(self) -> list[int]:
        ids = self.cleaned_data.get("ids") or []
        if len(ids) > 500:
            raise forms.ValidationError("Send at most 500 ids at a time.")
        return ids

    def clean_page_ids(self) -> list[int]:
        raw = self.cleaned_data.get("page_ids") or ""
        parts = [parse_id(p) for p in raw.split(",") if p]
        if None in parts:
            raise forms.ValidationError("Page ids must be a comma-separated list of numbers.")
        return parts  # type: ignore[return-value]

    def clean_query(self) -> str:
        """The list's filter querystring for "select all matching": it must be a valid filter."""
        query = self.cleaned_data.get("query") or ""
        if query and filters_problem(query):
            raise forms.ValidationError(f"Not a valid filter: {filters_problem(query)}")
        return query


def filters_problem(query: str) -> str | None:
    """Return why a stored filter querystring is not a valid list filter, or None when it is."""
    from django.http import QueryDict

    form = WorkoutFilterForm(QueryDict(query))
    if form.is_valid():
        return None
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


class WeekForm(forms.Form):
    """An ISO week like 2026-W48; empty means this week."""

    week = forms.RegexField(
        required=False, regex=r"^[0-9]{4}-W[0-9]{2}$", error_messages={"invalid": "Use a week like 2026-W05."}
    )

    def clean_week(self) -> object:
        value = self.cleaned_data.get("week")
        if not value:
            today = timezone.localdate()
            return today - dt.timedelta(days=today.weekday())
        year, week = int(value[:4]), int(value[6:])
        try:
            monday = dt.date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise forms.ValidationError("No such week.") from exc
        # The page links the weeks before and after, so those must be in range too.
        if not DATE_MIN + dt.timedelta(days=7) <= monday <= DATE_MAX - dt.timedelta(days=13):
            raise forms.ValidationError(f"The week {DATE_RANGE_MESSAGE}.")
        return monday
