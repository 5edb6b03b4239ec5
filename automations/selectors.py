"""Reads for the automations pages (team-scoped; each a constant number of queries)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from automations.models import Notice, Recipe, Schedule, ScheduleRun


def recipes_for_team(*, team: Any) -> QuerySet[Recipe]:
    return Recipe.objects.filter(team=team).select_related("created_by").order_by("name", "pk")


def schedules_for_team(*, team: Any) -> QuerySet[Schedule]:
    return Schedule.objects.filter(recipe__team=team).select_related("recipe", "owner").order_by("pk")


def runs_for_team(*, team: Any, limit: int = 50) -> list[ScheduleRun]:
    return list(
        ScheduleRun.objects.filter(schedule__recipe__team=team)
        .select_related("schedule__recipe", "batch")
        .order_by("-occurrence", "-pk")[:limit]
    )


def notices_for_user(*, user: Any, team: Any, unseen_only: bool = False, limit: int = 20) -> list[Notice]:
    qs = Notice.objects.filter(user=user, team=team).select_related("batch")
    if unseen_only:
        qs = qs.filter(seen_at__isnull=True)
    return list(qs.order_by("-created_at", "-pk")[:limit])
