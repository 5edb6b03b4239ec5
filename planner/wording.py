"""Obstacles in words a trainer can act on: which rule, about what, when."""

from __future__ import annotations

from django.utils import timezone

from planner.context import Context
from planner.solver import Busy, Rule, alike_players

MAX_LISTED = 3


def _listed(labels: list[str]) -> str:
    labels = list(dict.fromkeys(labels))
    more = len(labels) - MAX_LISTED
    text = ", ".join(labels[:MAX_LISTED])
    return text + (f" and {more} more" if more > 0 else "")


def _within(ctx: Context, session: int, busy: list[Busy]) -> list[str]:
    """The labels of busy stretches on the days the session may use (all of them if none are)."""
    spec = ctx.instance.sessions[session]
    inst = ctx.instance
    days = spec.allowed_days if spec.allowed_days is not None else range(inst.days)
    near = [
        b.label
        for b in busy
        if any(b.start < inst.day_starts[d + 1] and inst.day_starts[d] < b.end for d in days)
    ]
    return near or [b.label for b in busy]


def _who(ctx: Context, player_id: int) -> str:
    """A player's name, and how many others the solver treated alike (the same sessions and rules)."""
    others = len(alike_players(ctx.instance).get(player_id, [player_id])) - 1
    name = ctx.players[player_id].name
    return f"{name} and {others} other{'s' if others > 1 else ''} alike" if others else name


def _carried(ctx: Context, player_id: int) -> str:
    carried = [
        f"{ctx.day(d):%a} {load}%"
        for (pid, d), load in sorted(ctx.instance.existing_load.items())
        if pid == player_id and load
    ]
    return f" (already carrying {', '.join(carried)})" if carried else ""


def session_label(ctx: Context, index: int) -> str:
    return f"“{ctx.problem.sessions[index].name}”"


def placed_label(ctx: Context, index: int, start: int, facility: int) -> str:
    moment = timezone.localtime(ctx.moment(start))
    return f"{session_label(ctx, index)} ({moment:%a %H:%M} at {ctx.facilities[facility].name})"


def obstacle(ctx: Context, session: int, rule: Rule, placed: dict[int, tuple[int, int]]) -> str:
    """One rule standing in the session's way, in words."""
    inst, kind = ctx.instance, rule[0]
    if kind == "hours":
        f = ctx.facilities[rule[1]]
        return f"{f.name} is open only {f.opens_at:%H:%M}–{f.closes_at:%H:%M}"
    if kind == "booked":
        f = ctx.facilities[rule[1]]
        taken = _within(ctx, session, inst.facility_busy.get(rule[1], []))
        return f"{f.name} is taken by {_listed(taken)}"
    if kind == "player":
        taken = _within(ctx, session, inst.player_busy.get(rule[1], []))
        return f"{_who(ctx, rule[1])}: already booked on {_listed(taken)}"
    if kind == "load":
        player = ctx.players[rule[1]]
        limit = player.daily_load_limit
        return f"the daily load limit of {limit}% of {_who(ctx, rule[1])}{_carried(ctx, rule[1])}"
    if kind == "busy":
        return f"the team's busy time: {_listed(_within(ctx, session, inst.team_busy))}"
    if kind == "rest":
        hours = ctx.problem.rules.rest_hours_after_high_intensity
        return f"the rest of {hours} h after a hard session (intensity 80+) for the same players"
    if kind == "pregame":
        games = [f"{label}" for _, label in sorted(inst.game_days.items())]
        return f"no hard session the day before a game ({_listed(games)})"
    if kind == "window":
        owner = ctx.problem.sessions[rule[1]]
        parts = []
        if owner.days is not None:
            parts.append(", ".join(owner.days) if owner.days else "no day")
        if owner.earliest or owner.latest:
            parts.append(f"{owner.earliest or '00:00'}–{owner.latest or '24:00'}")
        window = f"({'; '.join(parts) or 'the whole range'}) for {owner.duration_minutes} minutes"
        whose = "its own" if rule[1] == session else f"{session_label(ctx, rule[1])}'s"
        return f"{whose} window {window}"
    if kind == "session":
        other = rule[1]
        if other in placed:
            start, facility = placed[other]
            return f"the time taken by {placed_label(ctx, other, start, facility)}"
        return f"the time taken by {session_label(ctx, other)}"
    return str(rule)


def why_not(ctx: Context, session: int, rules: list[Rule], placed: dict[int, tuple[int, int]]) -> list[str]:
    """Every obstacle of an unplaced session; the sessions it competes with come last."""
    ordered = sorted(rules, key=lambda r: (r[0] == "session", str(r)))
    return [obstacle(ctx, session, rule, placed) for rule in ordered]


def sentence(ctx: Context, session: int, reasons: list[str]) -> str:
    name = session_label(ctx, session)
    if not reasons:
        return (
            f"{name} could not be placed in the time allowed, and no obstacle was proved; "
            "give the planner more time or widen the session's window."
        )
    return f"{name} cannot be placed: {'; '.join(reasons)}. Change one of these to make room for it."
