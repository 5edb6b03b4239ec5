"""The base of the operation forms: the fields one operation type needs, and the operations it
builds, one per selected workout (`operations(targets)`); the player picker and shared widgets.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from django import forms
from django.utils import timezone

from batch.exchange import RequestMetadata, limits
from workouts.forms import validate_date_in_range
from workouts.selectors import players_for_team

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
