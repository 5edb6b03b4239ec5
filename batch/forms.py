"""Forms that turn the operation modal's fields into an exchange-format batch request.

Each operation form knows the fields its type needs and builds one operation per selected workout
(`operations(targets)`); OptionsForm holds the advanced options. The request is built here, on the
server, from the session selection: the browser never sends the list of workout ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from batch.exchange import (
    BLOCKED_PLAYERS,
    CONFLICT_STRATEGIES,
    AssignmentEntry,
    BatchOptions,
    CreateWorkout,
    DuplicateData,
    Recurrence,
    RequestMetadata,
    TemplateData,
    UpdateFields,
    limits,
)
from workouts.forms import validate_date_in_range
from workouts.models import Assignment, Workout, WorkoutTemplate
from workouts.selectors import players_for_team, templates_for_team

Target = tuple[int, int]  # (workout id, version)
WEEKDAYS = [
    ("MO", "Mon"),
    ("TU", "Tue"),
    ("WE", "Wed"),
    ("TH", "Thu"),
    ("FR", "Fri"),
    ("SA", "Sat"),
    ("SU", "Sun"),
]
MAX_CREATED = 1000


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


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.isoformat()


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


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
        choices=[
            ("SKIP", "Skip it"),
            ("OVERRIDE", "Take over the other booking"),
            ("ADJUST_TIME", "Move to the next free time"),
            ("FIND_ALTERNATIVE", "Find another facility or day"),
            ("FAIL", "Count it as failed"),
        ],
        initial="SKIP",
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


class OperationForm(forms.Form):
    """Base: the fields one operation type needs; builds that type's operations."""

    op_type: ClassVar[str] = ""
    title: ClassVar[str] = ""
    needs_selection: ClassVar[bool] = True
    picks_players: ClassVar[bool] = False
    # Fields shown only for a repeating schedule (grouped and hidden until "Repeat" is picked).
    recurrence_fields: ClassVar[tuple[str, ...]] = ()

    request_id = forms.CharField(
        widget=forms.HiddenInput, max_length=limits(RequestMetadata, "request_id").max_length
    )

    def __init__(self, *args: Any, team: Any, user: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("request_id", str(uuid.uuid4()))
        kwargs.setdefault("auto_id", "op_%s")  # the list's filter form already uses id_type, id_status
        super().__init__(*args, **kwargs)
        self.team = team
        self.user = user
        # Every date the request will carry is bounded as the exchange format bounds it.
        for field in self.fields.values():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                field.validators.append(validate_date_in_range)

    def data_for(self, workout_id: int, version: int) -> dict[str, Any]:
        raise NotImplementedError

    def operations(self, targets: list[Target]) -> list[dict[str, Any]]:
        return [
            {"id": f"{self.op_type.lower()}-{pk}", "type": self.op_type, "data": self.data_for(pk, version)}
            for pk, version in targets
        ]

    def description(self, count: int) -> str:
        return f"{self.title}: {count} workout{'s' if count != 1 else ''}"


class PlayersMixin(forms.Form):
    """A player picker over the team's roster (rendered with medical badges by the template)."""

    players = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, team=team, **kwargs)
        self.fields["players"].queryset = players_for_team(team=team)


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
        from workouts.models import Facility

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


class CreateFromTemplateForm(PlayersMixin, OperationForm):
    """N workouts from a template across a date range on chosen weekdays, with default assignments."""

    op_type = "CREATE"
    title = "Create from template"
    needs_selection = False
    picks_players = True

    template = forms.ModelChoiceField(queryset=None, empty_label="Pick a template")
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    weekdays = forms.TypedMultipleChoiceField(
        choices=[(str(i), label) for i, (_, label) in enumerate(WEEKDAYS)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), initial=dt.time(9, 0)
    )
    name_pattern = forms.CharField(
        max_length=limits(CreateWorkout, "name").max_length,
        required=False,
        initial="{template} {date}",
        help_text="{template} and {date} are replaced.",
    )

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, team=team, **kwargs)
        self.fields["template"].queryset = templates_for_team(team=team, user=self.user)

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        start, end = d.get("date_from"), d.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", "The end date must not be before the start date.")
            elif (end - start).days > 366:
                self.add_error("date_to", "Pick a range of at most a year.")
            elif d.get("weekdays") and not self.dates():
                self.add_error("weekdays", "No chosen weekday falls in that range.")
            elif len(self.dates()) > MAX_CREATED:
                self.add_error(
                    "date_to", f"That makes more than {MAX_CREATED} workouts; pick a shorter range."
                )
        return d

    def dates(self) -> list[dt.date]:
        d = self.cleaned_data
        days = set(d.get("weekdays") or [])
        start, end = d["date_from"], d["date_to"]
        return [
            start + dt.timedelta(days=i)
            for i in range((end - start).days + 1)
            if (start + dt.timedelta(days=i)).weekday() in days
        ]

    def operations(self, targets: list[Target]) -> list[dict[str, Any]]:
        d = self.cleaned_data
        template: WorkoutTemplate = d["template"]
        tz = timezone.get_current_timezone()
        ops = []
        for day in self.dates():
            start = dt.datetime.combine(day, d["time"], tzinfo=tz)
            workout: dict[str, Any] = {
                "scheduledStart": start.isoformat(),
                "scheduledEnd": (start + dt.timedelta(minutes=template.duration_minutes)).isoformat(),
            }
            if d.get("name_pattern"):
                workout["name"] = (
                    d["name_pattern"].replace("{template}", template.name).replace("{date}", day.isoformat())
                )
            data: dict[str, Any] = {"templateId": template.pk, "workout": workout}
            if d.get("players"):
                data["assignments"] = [{"playerId": p.pk} for p in d["players"]]
            ops.append({"id": f"create-{day.isoformat()}", "type": "CREATE", "data": data})
        return ops

    def description(self, count: int) -> str:
        return f"Create from template {self.cleaned_data['template'].name}: {count} workouts"


OPERATION_FORMS: dict[str, type[OperationForm]] = {
    "assign": AssignForm,
    "schedule": ScheduleForm,
    "duplicate": DuplicateForm,
    "update": UpdateForm,
    "delete": DeleteForm,
    "archive": ArchiveForm,
    "template": TemplateForm,
    "create": CreateFromTemplateForm,
}


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
