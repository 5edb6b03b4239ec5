"""The dashboard's and the API's filters: which teams, which local days, grouped how. 400s live here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from analytics.selectors.load import MAX_WEEKS, week_span
from workouts.models import Team

DEFAULT_DAYS = 56
MAX_DAYS = 5 * 366  # five seasons of batches


@dataclass(frozen=True)
class Scope:
    """The teams a figure covers: one team, or every team the caller sees (staff: the club)."""

    team_ids: list[int]
    team: Team | None
    label: str


def scope_of(*, teams: QuerySet[Team], slug: str | None, club_wide: bool) -> Scope:
    """One of `teams` by slug (404 if not among them), else all of them."""
    if slug:
        team = teams.filter(slug=slug).first()
        if team is None:
            raise Http404("No such team.")
        return Scope(team_ids=[team.pk], team=team, label=team.name)
    ids = list(teams.order_by("name").values_list("pk", flat=True))
    if not ids:
        raise Http404("You do not work in any team.")
    return Scope(team_ids=ids, team=None, label="Whole club" if club_wide else "All my teams")


class AnalyticsFilterForm(forms.Form):
    team = forms.SlugField(required=False, max_length=60)
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    group = forms.ChoiceField(
        required=False,
        choices=[("day", "Day"), ("week", "Week"), ("type", "Operation type"), ("user", "Trainer")],
        label="Group by",
    )

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        last = data.get("date_to") or today
        first = data.get("date_from") or last - dt.timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise forms.ValidationError("“From” must be on or before “To”.")
        if (last - first).days >= MAX_DAYS:
            raise forms.ValidationError(f"Pick at most {MAX_DAYS} days at a time.")
        data["date_from"], data["date_to"] = first, last
        data["group"] = data.get("group") or "week"
        return data

    def load_range_error(self) -> str | None:
        """The training-load table is weekly and bounded: a longer range gets a message, not a table."""
        weeks = len(week_span(self.cleaned_data["date_from"], self.cleaned_data["date_to"]))
        return (
            f"Training load shows at most {MAX_WEEKS} weeks; narrow the range." if weeks > MAX_WEEKS else None
        )

    @classmethod
    def from_query(cls, query, *, group_param: str = "group") -> AnalyticsFilterForm:
        """Bind `team`, `from`, `to` and the grouping (`group` on pages, `groupBy` in the API)."""
        return cls(
            {
                "team": query.get("team") or "",
                "date_from": query.get("from") or "",
                "date_to": query.get("to") or "",
                "group": query.get(group_param) or "",
            }
        )

    def first_error(self) -> str:
        for field, errors in self.errors.items():
            label = self.fields[field].label if field in self.fields else ""
            return f"{label}: {errors[0]}" if label and field != "__all__" else errors[0]
        return "Invalid filters."
