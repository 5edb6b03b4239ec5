"""Create from template: N workouts across a date range on chosen weekdays (needs no selection)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from batch.exchange import CreateWorkout, limits
from batch.forms.base import WEEKDAYS, OperationForm, PlayersMixin, Target
from workouts.models import WorkoutTemplate
from workouts.selectors import templates_for_team

MAX_CREATED = 1000


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
