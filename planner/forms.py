"""The "Plan the week" form: the range and rules, and one row per session (blank rows are ignored).
It builds the same problem JSON the command and the API take."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from planner.problem import DEFAULT_TIME_LIMIT, WEEKDAY_NAMES
from workouts.models import Facility, Player, Team

SESSION_ROWS = 6


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


class WeekForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: a week.",
    )
    rest_hours = forms.IntegerField(
        label="Rest after a hard session (hours)", min_value=0, max_value=72, initial=0, required=False
    )
    no_hard_before_game = forms.BooleanField(
        label="Nothing hard the day before a game", required=False, initial=True
    )
    time_limit = forms.FloatField(
        label="Solver time limit (s)", min_value=1, max_value=30, initial=DEFAULT_TIME_LIMIT, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and not data.get("date_to"):
            data["date_to"] = data["date_from"] + dt.timedelta(days=6)
        return data


class SessionForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    duration = forms.IntegerField(label="Minutes", min_value=15, max_value=720, initial=60, required=False)
    intensity = forms.IntegerField(min_value=0, max_value=100, initial=60, required=False)
    players = forms.ModelMultipleChoiceField(
        queryset=Player.objects.none(), required=False, help_text="None chosen: the whole squad."
    )
    facilities = forms.ModelMultipleChoiceField(queryset=Facility.objects.none(), required=False)
    days = forms.MultipleChoiceField(
        choices=[(d, d.title()) for d in WEEKDAY_NAMES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any day.",
    )
    earliest = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    latest = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    preferred_start = forms.TimeField(
        label="Preferred start",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="As close as the rules allow.",
    )
    load_percent = forms.IntegerField(label="Load %", min_value=0, max_value=150, initial=100, required=False)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["players"].queryset = Player.objects.filter(team=team)
        self.fields["facilities"].queryset = Facility.objects.order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("name") and not data.get("facilities"):
            self.add_error("facilities", "Choose where the session may take place.")
        return data

    def session(self) -> dict[str, Any] | None:
        """The session as the problem JSON has it; None for a blank row."""
        data = self.cleaned_data
        if not data.get("name"):
            return None
        out: dict[str, Any] = {
            "name": data["name"],
            "durationMinutes": data.get("duration") or 60,
            "intensity": data["intensity"] if data.get("intensity") is not None else 60,
            "playerIds": [p.pk for p in data["players"]] or "squad",
            "facilityIds": [f.pk for f in data["facilities"]],
        }
        if data.get("load_percent") is not None:
            out["loadPercent"] = data["load_percent"]
        if data.get("preferred_start"):
            out["preferredStart"] = data["preferred_start"].strftime("%H:%M")
        if data.get("days"):
            out["days"] = list(data["days"])
        for key in ("earliest", "latest"):
            if data.get(key):
                out[key] = data[key].strftime("%H:%M")
        return out


def session_forms(team: Team, data: Any = None) -> list[SessionForm]:
    return [SessionForm(data, team=team, prefix=f"s{i}") for i in range(SESSION_ROWS)]


def problem_from(team: Team, week: WeekForm, sessions: list[SessionForm]) -> dict[str, Any]:
    data = week.cleaned_data
    return {
        "team": team.slug,
        "from": data["date_from"].isoformat(),
        "to": data["date_to"].isoformat(),
        "sessions": [s for s in (f.session() for f in sessions) if s is not None],
        "rules": {
            "restHoursAfterHighIntensity": data.get("rest_hours") or 0,
            "noHardDayBeforeGame": bool(data.get("no_hard_before_game")),
        },
        "timeLimitSeconds": data.get("time_limit") or DEFAULT_TIME_LIMIT,
    }
