"""Medical read surfaces: the team's restrictions and, for medical staff, one restriction's notes."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from medical import selectors
from medical.roles import is_medic_or_staff
from medical.services import clinical_notes_read
from workouts.selectors import team_for_user


@require_GET
@login_required
def restriction_list(request: HttpRequest) -> HttpResponse:
    """List the team's restrictions per player: summaries only, never clinical notes."""
    team = team_for_user(user=request.user, slug=request.GET.get("team") or None)
    restrictions = selectors.restrictions_for_team(user=request.user, team=team)
    players = [
        {"name": name, "jersey_number": jersey, "restrictions": list(rows)}
        for (name, jersey), rows in groupby(restrictions, key=lambda r: (r.player_name, r.jersey_number))
    ]
    context = {
        "team": team,
        "players": players,
        "can_read_notes": is_medic_or_staff(user=request.user, team=team),
    }
    return render(request, "medical/restriction_list.html", context)


@require_GET
@login_required
def restriction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one restriction with its clinical notes to medical staff; every view is audited."""
    restriction = selectors.restriction_for_user(user=request.user, restriction_id=pk)
    notes = clinical_notes_read(
        user=request.user, restriction=restriction, channel="web", purpose="restriction detail page"
    )
    context = {
        "restriction": restriction,
        "team": restriction.player.team,
        "clinical_notes": notes,
        "labels": selectors.restriction_labels(restriction),
        "in_effect": selectors.is_in_effect(restriction),
    }
    return render(request, "medical/restriction_detail.html", context)
