"""Reads for medical restrictions. Clinical notes never leave here for a user who may not read them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from medical.models import RULE_FIELDS, MedicalRestriction
from medical.roles import is_medic_or_staff
from workouts.models import Exercise, Player, Team
from workouts.selectors import User, teams_for_user

# Pending restrictions count as in effect: see the medical.compliance docstring for why.
IN_EFFECT_STATUSES = (MedicalRestriction.Status.ACTIVE, MedicalRestriction.Status.PENDING)

AVAILABLE = "available"
MODIFIED = "modified"
OUT = "out"

_SUMMARY_FIELDS = (
    "id",
    "player_id",
    "player__first_name",
    "player__last_name",
    "player__jersey_number",
    "title",
    "status",
    *RULE_FIELDS,
)


def in_effect_q(on_date: dt.date, prefix: str = "") -> Q:
    """Return the filter for restrictions in effect on a date (status and date window)."""
    return Q(
        **{
            f"{prefix}status__in": IN_EFFECT_STATUSES,
            f"{prefix}effective_date__lte": on_date,
        }
    ) & (Q(**{f"{prefix}expiry_date__isnull": True}) | Q(**{f"{prefix}expiry_date__gte": on_date}))


@dataclass(frozen=True)
class RestrictionSummary:
    """What anyone on the team may see of a restriction; clinical_notes is None unless allowed."""

    id: int
    player_id: int
    player_name: str
    jersey_number: int
    title: str
    severity: str
    status: str
    body_parts: tuple[str, ...]
    movement_patterns: tuple[str, ...]
    exercise_categories: tuple[str, ...]
    max_exertion: int | None
    no_contact: bool
    requires_supervision: bool
    effective_date: dt.date
    expiry_date: dt.date | None
    in_effect: bool
    clinical_notes: str | None = None

    @property
    def severity_label(self) -> str:
        return MedicalRestriction.Severity(self.severity).label

    @property
    def status_label(self) -> str:
        return MedicalRestriction.Status(self.status).label

    @property
    def restricted(self) -> list[str]:
        """Return human phrases for what is restricted, e.g. ['Body parts: Knee', 'No contact']."""
        out: list[str] = []
        if self.severity == MedicalRestriction.Severity.COMPLETE:
            out.append("No training")
        if self.body_parts:
            out.append("Body parts: " + ", ".join(_label(Exercise.BodyPart, v) for v in self.body_parts))
        if self.movement_patterns:
            out.append("Movements: " + ", ".join(_label(Exercise.Pattern, v) for v in self.movement_patterns))
        if self.exercise_categories:
            out.append(
                "Categories: " + ", ".join(_label(Exercise.Category, v) for v in self.exercise_categories)
            )
        if self.max_exertion is not None:
            out.append(f"Max exertion {self.max_exertion}%")
        if self.no_contact:
            out.append("No contact")
        if self.requires_supervision:
            out.append("Supervision required")
        return out


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _summary(row: dict[str, Any], *, on_date: dt.date, notes: str | None = None) -> RestrictionSummary:
    in_effect = (
        row["status"] in IN_EFFECT_STATUSES
        and row["effective_date"] <= on_date
        and (row["expiry_date"] is None or on_date <= row["expiry_date"])
    )
    return RestrictionSummary(
        id=row["id"],
        player_id=row["player_id"],
        player_name=f"{row['player__first_name']} {row['player__last_name']}",
        jersey_number=row["player__jersey_number"],
        title=row["title"],
        severity=row["severity"],
        status=row["status"],
        body_parts=tuple(row["body_parts"] or ()),
        movement_patterns=tuple(row["movement_patterns"] or ()),
        exercise_categories=tuple(row["exercise_categories"] or ()),
        max_exertion=row["max_exertion"],
        no_contact=row["no_contact"],
        requires_supervision=row["requires_supervision"],
        effective_date=row["effective_date"],
        expiry_date=row["expiry_date"],
        in_effect=in_effect,
        clinical_notes=notes,
    )


def restrictions_for_team(
    *,
    user: User,
    team: Team,
    include_notes: bool = False,
    on_date: dt.date | None = None,
    current_only: bool = False,
) -> list[RestrictionSummary]:
    """Return the team's restrictions as summaries, ordered by player then newest first (one query).

    Notes are selected only when asked for and the user is a medic or staff of the team; callers
    that show them must go through ``medical.services.clinical_notes_read`` so the read is audited.
    """
    on_date = on_date or timezone.localdate()
    if not teams_for_user(user=user).filter(pk=team.pk).exists():
        raise Http404("No such team.")
    with_notes = include_notes and is_medic_or_staff(user=user, team=team)
    qs = MedicalRestriction.objects.filter(player__team=team)
    if current_only:
        qs = qs.filter(in_effect_q(on_date))
    fields = (*_SUMMARY_FIELDS, "clinical_notes") if with_notes else _SUMMARY_FIELDS
    rows = qs.order_by("player__last_name", "player__first_name", "-effective_date", "-id").values(*fields)
    return [_summary(row, on_date=on_date, notes=row.get("clinical_notes")) for row in rows]


def restriction_for_user(*, user: User, restriction_id: int) -> MedicalRestriction:
    """Return one restriction of a team the user works in (player and team joined); 404 otherwise."""
    restriction = (
        MedicalRestriction.objects.select_related("player__team", "prescribed_by")
        .filter(pk=restriction_id, player__team__in=teams_for_user(user=user))
        .first()
    )
    if restriction is None:
        raise Http404("No such restriction.")
    return restriction


def active_restrictions_by_player(
    *, player_ids: Iterable[int], on_date: dt.date | None = None
) -> dict[int, list[RestrictionSummary]]:
    """Return the restrictions in effect per player (no notes; one query). Players without any are absent."""
    on_date = on_date or timezone.localdate()
    rows = (
        MedicalRestriction.objects.filter(in_effect_q(on_date), player_id__in=list(player_ids))
        .order_by("player_id", "-effective_date", "-id")
        .values(*_SUMMARY_FIELDS)
    )
    out: dict[int, list[RestrictionSummary]] = defaultdict(list)
    for row in rows:
        out[row["player_id"]].append(_summary(row, on_date=on_date))
    return dict(out)


def player_medical_status(players: Iterable[Player | int], on_date: dt.date | None = None) -> dict[int, str]:
    """Return a badge per player: 'out' (complete restriction), 'modified' (any other) or 'available'.

    One query, whatever the number of players.
    """
    on_date = on_date or timezone.localdate()
    ids = [p if isinstance(p, int) else p.pk for p in players]
    status = dict.fromkeys(ids, AVAILABLE)
    if not ids:
        return status
    rows = MedicalRestriction.objects.filter(in_effect_q(on_date), player_id__in=ids).values_list(
        "player_id", "severity"
    )
    for player_id, severity in rows:
        if severity == MedicalRestriction.Severity.COMPLETE:
            status[player_id] = OUT
        elif status[player_id] != OUT:
            status[player_id] = MODIFIED
    return status


def restriction_labels(restriction: MedicalRestriction) -> dict[str, list[str]]:
    """Return the restriction's body parts, movements and categories as people read them."""
    return {
        "body_parts": [_label(Exercise.BodyPart, v) for v in restriction.body_parts or []],
        "movement_patterns": [_label(Exercise.Pattern, v) for v in restriction.movement_patterns or []],
        "exercise_categories": [_label(Exercise.Category, v) for v in restriction.exercise_categories or []],
    }


def is_in_effect(restriction: MedicalRestriction, on_date: dt.date | None = None) -> bool:
    on_date = on_date or timezone.localdate()
    return (
        restriction.status in IN_EFFECT_STATUSES
        and restriction.effective_date <= on_date
        and (restriction.expiry_date is None or on_date <= restriction.expiry_date)
    )


def restriction_windows(
    *, team_ids: Iterable[int], first: dt.date, last: dt.date
) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    """Return, per player of these teams, the local days each restriction was in effect within
    [first, last] (end None: still open). One query; no notes.

    History, not today's state: a restriction in effect now (active, pending) runs from its effective
    date to its expiry; an expired or cleared one ended at its expiry or the day it was last changed
    (when it was lifted), whichever came first.
    """
    rows = (
        MedicalRestriction.objects.filter(player__team_id__in=list(team_ids), effective_date__lte=last)
        .exclude(expiry_date__lt=first)
        .values_list("player_id", "status", "effective_date", "expiry_date", "updated_at")
    )
    out: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for player_id, status, start, expiry, updated_at in rows:
        end = expiry
        if status not in IN_EFFECT_STATUSES:
            lifted = updated_at.astimezone(timezone.get_default_timezone()).date()
            end = lifted if end is None else min(end, lifted)
        if end is not None and (end < first or end < start):
            continue
        out[player_id].append((start, end))
    return dict(out)
