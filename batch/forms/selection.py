"""The operation forms that act on the selected workouts: assign, schedule, duplicate, edit, delete,
archive or restore, and save as a template.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms

from batch.exchange import AssignmentEntry, DuplicateData, Recurrence, TemplateData, UpdateFields, limits
from batch.forms.base import WEEKDAYS, DateTimeLocalInput, OperationForm, PlayersMixin, Target, iso
from workouts.forms import validate_date_in_range
from workouts.models import Assignment, Facility, Workout, WorkoutTemplate


class AssignForm(PlayersMixin, OperationForm):
    op_type = "ASSIGN"
    title = "Assign players"
    picks_players = True

    role = forms.ChoiceField(choices=Assignment.Role.choices, initial=Assignment.Role.PARTICIPANT)
    load_percent = forms.IntegerField(
        label="Load %",
        min_value=limits(AssignmentEntry, "load_percent").minimum,
        max_value=limits(AssignmentEntry, "load_percent").maximum,
        initial=100,
    )
    remove_existing = forms.BooleanField(label="Replace existing assignments", required=False)

    def clean_players(self) -> Any:
        players = self.cleaned_data["players"]
        if not players:
            raise forms.ValidationError("Pick at least one player.")
        return players

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "workoutId": workout_id,
            "assignments": [
                {"playerId": p.pk, "role": d["role"], "loadPercent": d["load_percent"]} for p in d["players"]
            ],
            "removeExisting": d["remove_existing"],
        }


class ScheduleForm(OperationForm):
    op_type = "SCHEDULE"
    title = "Schedule"
    recurrence_fields = ("weekdays", "until", "count", "exceptions")

    start = forms.DateTimeField(widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"])
    end = forms.DateTimeField(required=False, widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"])
    facility = forms.ModelChoiceField(queryset=None, required=False, empty_label="Keep current")
    frequency = forms.ChoiceField(
        label="Repeat",
        required=False,
        choices=[
            ("", "Does not repeat"),
            ("daily", "Daily"),
            ("weekly", "Weekly"),
            ("biweekly", "Every two weeks"),
            ("monthly", "Monthly"),
        ],
    )
    weekdays = forms.MultipleChoiceField(
        choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(
        label="Occurrences",
        required=False,
        min_value=limits(Recurrence, "count").minimum,
        max_value=limits(Recurrence, "count").maximum,
    )
    exceptions = forms.CharField(
        label="Skip dates", required=False, max_length=2000, help_text="YYYY-MM-DD, comma-separated."
    )

    def clean_exceptions(self) -> list[str]:
        parts = [p.strip() for p in (self.cleaned_data.get("exceptions") or "").split(",") if p.strip()]
        try:
            days = [dt.date.fromisoformat(p) for p in parts]
        except ValueError as exc:
            raise forms.ValidationError("Use dates like 2026-12-24, separated by commas.") from exc
        for day in days:
            validate_date_in_range(day)
        return [day.isoformat() for day in days]

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, team=team, **kwargs)
        self.fields["facility"].queryset = Facility.objects.order_by("name")

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if d.get("start") and d.get("end") and d["end"] <= d["start"]:
            self.add_error("end", "The end must be after the start.")
        if d.get("frequency") and not (d.get("until") or d.get("count")):
            self.add_error("until", "A repeating schedule needs an end date or a number of occurrences.")
        if not d.get("frequency") and (d.get("weekdays") or d.get("until") or d.get("count")):
            self.add_error("frequency", "Pick how it repeats, or clear the repeat fields.")
        return d

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        d = self.cleaned_data
        data: dict[str, Any] = {"workoutId": workout_id, "start": iso(d["start"])}
        if d.get("end"):
            data["end"] = iso(d["end"])
        if d.get("facility"):
            data["facilityId"] = d["facility"].pk
        if d.get("frequency"):
            recurrence: dict[str, Any] = {"frequency": d["frequency"]}
            if d.get("weekdays"):
                recurrence["weekdays"] = d["weekdays"]
            if d.get("until"):
                recurrence["until"] = d["until"].isoformat()
            if d.get("count"):
                recurrence["count"] = d["count"]
            if d.get("exceptions"):
                recurrence["exceptions"] = d["exceptions"]
            data["recurrence"] = recurrence
        return data


class DuplicateForm(OperationForm):
    op_type = "DUPLICATE"
    title = "Duplicate"

    count = forms.IntegerField(
        label="Copies of each",
        min_value=limits(DuplicateData, "count").minimum,
        max_value=limits(DuplicateData, "count").maximum,
        initial=1,
    )
    name_pattern = forms.CharField(
        max_length=limits(DuplicateData, "name_pattern").max_length,
        initial="{original} - Copy {n}",
        help_text="{original} and {n} are replaced.",
    )
    date_shift_days = forms.IntegerField(
        label="Shift each copy by (days)",
        required=False,
        min_value=limits(DuplicateData, "date_shift_days").minimum,
        max_value=limits(DuplicateData, "date_shift_days").maximum,
        initial=7,
    )
    include_assignments = forms.BooleanField(required=False, initial=True)

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        d = self.cleaned_data
        data = {
            "workoutId": workout_id,
            "count": d["count"],
            "namePattern": d["name_pattern"],
            "includeAssignments": d["include_assignments"],
        }
        if d.get("date_shift_days") is not None:
            data["dateShiftDays"] = d["date_shift_days"]
        return data


class UpdateForm(OperationForm):
    op_type = "UPDATE"
    title = "Edit"

    name = forms.CharField(
        required=False,
        max_length=limits(UpdateFields, "name").max_length,
        help_text="Leave a field empty to keep it.",
    )
    type = forms.ChoiceField(required=False, choices=[("", "Keep"), *Workout.Type.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Keep"), *[c for c in Workout.Status.choices if c[0] != Workout.Status.ARCHIVED]],
    )
    intensity = forms.IntegerField(
        required=False,
        min_value=limits(UpdateFields, "intensity").minimum,
        max_value=limits(UpdateFields, "intensity").maximum,
    )
    notes = forms.CharField(
        required=False,
        max_length=limits(UpdateFields, "notes").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    FIELD_MAP: ClassVar[dict[str, str]] = {
        "name": "name",
        "type": "type",
        "status": "status",
        "intensity": "intensity",
        "notes": "notes",
    }

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if not self.updates():
            raise forms.ValidationError("Change at least one field.")
        return d

    def updates(self) -> dict[str, Any]:
        d = getattr(self, "cleaned_data", {})
        return {camel: d[name] for name, camel in self.FIELD_MAP.items() if d.get(name) not in (None, "")}

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        return {"workoutId": workout_id, "updates": self.updates(), "expectedVersion": version}


class DeleteForm(OperationForm):
    op_type = "DELETE"
    title = "Delete"

    permanent = forms.BooleanField(
        label="Delete permanently (cannot be undone)",
        required=False,
        help_text="Otherwise the workouts are archived.",
    )

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        return {"workoutId": workout_id, "permanent": self.cleaned_data["permanent"]}


class ArchiveForm(OperationForm):
    op_type = "ARCHIVE"
    title = "Archive / restore"

    restore = forms.TypedChoiceField(
        label="Action",
        choices=[("0", "Archive"), ("1", "Restore from archive")],
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        return {"workoutId": workout_id, "restore": self.cleaned_data["restore"]}


class TemplateForm(OperationForm):
    op_type = "TEMPLATE"
    title = "Save as template"

    name = forms.CharField(max_length=limits(TemplateData, "name").max_length)
    category = forms.ChoiceField(choices=Workout.Type.choices)
    visibility = forms.ChoiceField(
        choices=WorkoutTemplate.Visibility.choices, initial=WorkoutTemplate.Visibility.TEAM
    )
    description = forms.CharField(
        required=False,
        max_length=limits(TemplateData, "description").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def operations(self, targets: list[Target]) -> list[dict[str, Any]]:
        d = self.cleaned_data
        data: dict[str, Any] = {
            "workoutIds": [pk for pk, _ in targets],
            "name": d["name"],
            "category": d["category"],
            "visibility": d["visibility"],
        }
        if d.get("description"):
            data["description"] = d["description"]
        return [{"id": "template-1", "type": "TEMPLATE", "data": data}]
