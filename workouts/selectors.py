"""Reads for the club's domain. Every queryset that serves a request is scoped by team here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from workouts.models import Membership, Player, Team, Workout, WorkoutTemplate

User = AbstractBaseUser | AnonymousUser


def teams_for_user(*, user: User) -> QuerySet[Team]:
    """Return the teams the user works in; staff see every team."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


class NoTeamYet(Http404):
    """The user is in no team at all (a new install, or a new account not yet added to one): every team
    page would be a 404, so the error page says what to do instead (hockeyhub.views.page_not_found)."""


def team_for_user(*, user: User, slug: str | None = None) -> Team:
    """Return the team named by slug (or the user's first team); 404 if the user may not see it,
    NoTeamYet when the user sees no team at all."""
    teams = teams_for_user(user=user).order_by("name")
    team = teams.filter(slug=slug).first() if slug else teams.first()
    if team is None:
        if user.is_authenticated and not teams.exists():
            raise NoTeamYet("You are not in a team yet.")
        raise Http404("No such team.")
    return team


def role_in_team(*, user: User, team: Team) -> str | None:
    """Return the user's role in the team ('staff' for staff users), or None."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return Membership.Role.STAFF
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


def workouts_for_team(*, team: Team, include_archived: bool = True) -> QuerySet[Workout]:
    qs = Workout.objects.filter(team=team).select_related("facility")
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def players_for_team(*, team: Team) -> QuerySet[Player]:
    return Player.objects.filter(team=team).order_by("last_name", "first_name")


def templates_for_team(*, team: Team, user: User | None) -> QuerySet[WorkoutTemplate]:
    """Return the team's templates the user may use: every template but others' "Only me" ones.

    The queryset form of workouts.rules.template_visible_to.
    """
    visible = ~Q(visibility=WorkoutTemplate.Visibility.PRIVATE)
    if user is not None and user.is_authenticated:
        visible |= Q(created_by=user)
    return WorkoutTemplate.objects.filter(visible, team=team).order_by("name")


def workouts_filtered(qs: QuerySet[Workout], filters: dict[str, Any]) -> QuerySet[Workout]:
    """Apply the list filters (WorkoutFilterForm.filters); archived only show when asked for by status."""
    from workouts.forms import SORTS

    status = filters.get("status")
    if status == Workout.Status.ARCHIVED:
        qs = qs.filter(archived_at__isnull=False)
    elif status and status != "all":
        qs = qs.filter(status=status, archived_at__isnull=True)
    elif status != "all":
        qs = qs.filter(archived_at__isnull=True)
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    tz = timezone.get_current_timezone()
    if filters.get("date_from"):
        qs = qs.filter(scheduled_start__gte=dt.datetime.combine(filters["date_from"], dt.time.min, tzinfo=tz))
    if filters.get("date_to"):
        end = dt.datetime.combine(filters["date_to"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(scheduled_start__lt=end)
    if filters.get("q"):
        term = filters["q"]
        qs = qs.filter(Q(name__icontains=term) | Q(notes__icontains=term) | Q(facility__name__icontains=term))
    sort = filters.get("sort") or DEFAULT_SORT
    if sort == "upcoming":
        return qs.order_by(*upcoming_first())
    return qs.order_by(*SORTS[sort])


DEFAULT_SORT = "upcoming"


def upcoming_first() -> tuple[Any, ...]:
    """Order: from today on (soonest first), then not scheduled, then the past (latest first)."""
    from django.db.models import Case, F, IntegerField, Value, When

    today = dt.datetime.combine(timezone.localdate(), dt.time.min, tzinfo=timezone.get_current_timezone())
    group = Case(
        When(scheduled_start__gte=today, then=Value(0)),
        When(scheduled_start__isnull=True, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    coming = Case(When(scheduled_start__gte=today, then=F("scheduled_start")))
    return (group.asc(), coming.asc(nulls_last=True), F("scheduled_start").desc(nulls_last=True), "id")


def filters_from_query(query: str) -> dict[str, Any]:
    """Return the cleaned list filters of a stored querystring (page, team and sort ignored)."""
    from workouts.forms import WorkoutFilterForm

    data = QueryDict(query or "", mutable=True)
    for key in ("page", "team", "sort"):
        data.pop(key, None)
    return WorkoutFilterForm(data).filters


SELECTION_KEY = "workout-selection:{team_id}"


@dataclass
class Selection:
    """A team's workout selection as kept in the session.

    Either explicit ids (query is None) or "everything matching query" minus excluded ids; included
    ids are added in both modes. Never holds the filtered ids themselves, so 10,000 workouts cost
    nothing to select. `view` is the filter (querystring key) the selection was made under: a list
    showing another filter shows the selection as "not in this view" instead of acting on it.
    """

    query: str | None = None
    included: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)
    view: str | None = None

    @property
    def view_key(self) -> str | None:
        """The filter the selection belongs to (None: made before views were recorded, any view)."""
        return self.view if self.view is not None else self.query

    def belongs_to(self, view: str) -> bool:
        return self.empty or self.view_key is None or self.view_key == view

    @property
    def empty(self) -> bool:
        return self.query is None and not self.included

    def as_session(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "included": sorted(self.included),
            "excluded": sorted(self.excluded),
            "view": self.view,
        }

    @classmethod
    def from_session(cls, session: Any, team: Team) -> Selection:
        """Return the team's stored selection; one that no longer parses counts as empty."""
        return cls.parse(session.get(SELECTION_KEY.format(team_id=team.pk)))[0]

    @classmethod
    def from_request(cls, request: Any, team: Team) -> Selection:
        """Return the team's stored selection; drop one that no longer parses, with a notice.

        A stored filter that is no longer valid (a date out of range, an unknown type) must not widen
        to "every workout", nor break every page that reads it.
        """
        key = SELECTION_KEY.format(team_id=team.pk)
        selection, problem = cls.parse(request.session.get(key))
        if problem:
            del request.session[key]
            messages.warning(request, f"Your workout selection was cleared: {problem}. Select again.")
        return selection

    @classmethod
    def parse(cls, raw: Any) -> tuple[Selection, str | None]:
        """Return (selection, None) for a stored value, or (empty selection, why it does not parse)."""
        from workouts.forms import MAX_SELECTED_IDS, filters_problem, parse_id

        if raw is None:
            return cls(), None
        if not isinstance(raw, dict):
            return cls(), "it was stored in an unknown shape"
        query = raw.get("query")
        if query is not None and (not isinstance(query, str) or len(query) > 2000):
            return cls(), "its filter is not a querystring"
        if query and (problem := filters_problem(query)):
            return cls(), f"its filter is no longer valid ({problem})"
        view = raw.get("view")
        if view is not None and (not isinstance(view, str) or len(view) > 2000):
            return cls(), "its view is not a querystring"
        ids: dict[str, set[int | None]] = {}
        for name in ("included", "excluded"):
            values = raw.get(name, [])
            if not isinstance(values, list) or len(values) > MAX_SELECTED_IDS:
                return cls(), f"its {name} workouts are not a list of ids"
            ids[name] = {parse_id(v) if type(v) is int else None for v in values}
            if None in ids[name]:
                return cls(), f"its {name} workouts are not a list of ids"
        selection = cls(query=query, included=ids["included"], excluded=ids["excluded"], view=view)  # type: ignore[arg-type]
        return selection, None

    def save(self, session: Any, team: Team) -> None:
        session[SELECTION_KEY.format(team_id=team.pk)] = self.as_session()


def selected_workouts(*, team: Team, selection: Selection) -> QuerySet[Workout]:
    """Return the team's selected workouts as one lazy queryset (subqueries, no id lists from filters)."""
    qs = Workout.objects.filter(team=team)
    if selection.query is not None:
        matching = workouts_filtered(Workout.objects.filter(team=team), filters_from_query(selection.query))
        cond = Q(pk__in=matching.order_by().values("pk"))
        if selection.included:
            cond |= Q(pk__in=selection.included)
        qs = qs.filter(cond)
    else:
        qs = qs.filter(pk__in=selection.included)
    if selection.excluded:
        qs = qs.exclude(pk__in=selection.excluded)
    return qs.order_by("scheduled_start", "id")


def workouts_in_week(*, team: Team, monday: dt.date) -> QuerySet[Workout]:
    """Return the team's active workouts starting in the week from monday (local time)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    return (
        workouts_for_team(team=team, include_archived=False)
        .filter(scheduled_start__gte=start, scheduled_start__lt=start + dt.timedelta(days=7))
        .order_by("scheduled_start", "id")
    )
