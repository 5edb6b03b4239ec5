"""Reads for the club's domain. Every queryset that serves a request is scoped by team here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from workouts.models import Exercise, Membership, Player, Team, Workout, WorkoutTemplate

User = AbstractBaseUser | AnonymousUser


def teams_for_user(*, user: User) -> QuerySet[Team]:
    """Return the teams the user works in; staff see every team."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def team_for_user(*, user: User, slug: str | None = None) -> Team:
    """Return the team named by slug (or the user's first team); 404 if the user may not see it."""
    teams = teams_for_user(user=user).order_by("name")
    team = teams.filter(slug=slug).first() if slug else teams.first()
    if team is None:
        raise Http404("No such team.")
    return team


def role_in_team(*, user: User, team: Team) -> str | None:
    """Return the user's role in the team ('staff' for staff users), or None."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return Membership.Role.STAFF
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


def is_medical_reader(*, user: User, team: Team) -> bool:
    """Return whether the user may read clinical notes of the team's players."""
    return role_in_team(user=user, team=team) in {Membership.Role.MEDIC, Membership.Role.STAFF}


def workouts_for_team(*, team: Team, include_archived: bool = True) -> QuerySet[Workout]:
    qs = Workout.objects.filter(team=team).select_related("facility")
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def players_for_team(*, team: Team) -> QuerySet[Player]:
    return Player.objects.filter(team=team).order_by("last_name", "first_name")


def templates_for_team(*, team: Team) -> QuerySet[WorkoutTemplate]:
    return WorkoutTemplate.objects.filter(team=team).order_by("name")


def exercise_library() -> QuerySet[Exercise]:
    return Exercise.objects.all()
