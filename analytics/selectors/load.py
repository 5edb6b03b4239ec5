"""Planned training load per player per ISO week, in the club's zone, with the week-to-week change.

The load model is the one behind the daily limit (workouts/calendar.py): a player's load is the sum of
the load % of their assignments to workouts that are on the calendar (scheduled, not cancelled or
archived), on the club's local day of the workout's start. A week here is Monday to Sunday of the
club's zone, so a DST change or a year end moves nothing between weeks. Two queries (assignments
grouped by player and week; restriction windows) plus the roster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce, TruncWeek

from medical.selectors import restriction_windows
from workouts.calendar import DEFAULT_DURATION, at
from workouts.models import Assignment, Player, Workout

MAX_WEEKS = 106  # two seasons per request
CHRONIC_WEEKS = 4  # the chronic load of the acute:chronic ratio: the mean of the four weeks before


@dataclass
class WeekFigures:
    """A week's planned sessions, minutes and load: one player's, or the roster's total."""

    week: dt.date
    sessions: int = 0
    minutes: int = 0
    load: int = 0


@dataclass
class WeekLoad(WeekFigures):
    change: float | None = None  # (load - last week's load) / last week's load; None after a 0 week
    # Acute:chronic workload ratio: this week's load over the mean of the four weeks before (None if 0).
    acwr: float | None = None
    flagged: bool = False
    restricted: bool = False


@dataclass
class PlayerLoad:
    id: int
    name: str
    jersey_number: int
    team_id: int
    weeks: list[WeekLoad]

    @property
    def flagged_weeks(self) -> int:
        return sum(w.flagged for w in self.weeks)


@dataclass
class WeekTotal(WeekFigures):
    players_restricted: int = 0
    players_flagged: int = 0


@dataclass
class TrainingLoad:
    weeks: list[dt.date]
    players: list[PlayerLoad]
    totals: list[WeekTotal]
    jump: float
    flagged: list[tuple[PlayerLoad, WeekLoad]] = field(default_factory=list)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_span(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays of the ISO weeks that meet [first, last]."""
    start, end = monday(first), monday(last)
    return [start + dt.timedelta(weeks=n) for n in range((end - start).days // 7 + 1)]


def training_load(
    *, team_ids: list[int], first: dt.date, last: dt.date, jump: float | None = None
) -> TrainingLoad:
    """Planned load per player per ISO week meeting [first, last] (whole weeks), the change from the
    week before (the weeks before the range included), the acute:chronic ratio (the week's load over the
    mean of the four weeks before), and which players had a restriction in effect
    on any day of each week. A player is flagged in a week whose load rose by more than `jump`
    (ANALYTICS_LOAD_JUMP) over the week before."""
    jump = settings.ANALYTICS_LOAD_JUMP if jump is None else jump
    weeks = week_span(first, last)
    if len(weeks) > MAX_WEEKS:
        raise ValueError(f"at most {MAX_WEEKS} weeks at a time")
    before = weeks[0] - dt.timedelta(weeks=CHRONIC_WEEKS)
    after = weeks[-1] + dt.timedelta(weeks=1)
    zone = ZoneInfo(settings.TIME_ZONE)
    start = F("workout__scheduled_start")
    minutes = ExpressionWrapper(
        Coalesce(F("workout__scheduled_end"), start + DEFAULT_DURATION) - start, output_field=DurationField()
    )
    rows = (
        # By the workout's team (its (team, scheduled_start) index); a team's workouts hold its players.
        Assignment.objects.filter(
            workout__team_id__in=team_ids,
            workout__scheduled_start__gte=at(before, dt.time.min),
            workout__scheduled_start__lt=at(after, dt.time.min),
            workout__archived_at__isnull=True,
        )
        .exclude(workout__status__in=[Workout.Status.CANCELLED, Workout.Status.ARCHIVED])
        .annotate(week=TruncWeek("workout__scheduled_start", output_field=DateField(), tzinfo=zone))
        .values("player_id", "week")
        .annotate(sessions=Count("id"), load=Sum("load_percent"), duration=Sum(minutes))
        .order_by()
    )
    cells: dict[tuple[int, dt.date], tuple[int, int, int]] = {}
    for r in rows:
        week = r["week"].date() if isinstance(r["week"], dt.datetime) else r["week"]
        cells[(r["player_id"], week)] = (
            r["sessions"],
            round(r["duration"].total_seconds() / 60) if r["duration"] else 0,
            r["load"] or 0,
        )
    windows = restriction_windows(team_ids=team_ids, first=weeks[0], last=weeks[-1] + dt.timedelta(days=6))
    roster = Player.objects.filter(team_id__in=team_ids).order_by("team_id", "last_name", "first_name", "pk")
    totals = {w: WeekTotal(week=w) for w in weeks}
    players, flagged = [], []
    for p in roster.values("pk", "first_name", "last_name", "jersey_number", "team_id"):
        history = [
            cells.get((p["pk"], before + dt.timedelta(weeks=n)), (0, 0, 0))[2] for n in range(CHRONIC_WEEKS)
        ]
        out = []
        for w in weeks:
            sessions, mins, load = cells.get((p["pk"], w), (0, 0, 0))
            previous = history[-1]
            change = (load - previous) / previous if previous else None
            chronic = sum(history[-CHRONIC_WEEKS:]) / CHRONIC_WEEKS
            week = WeekLoad(
                week=w,
                sessions=sessions,
                minutes=mins,
                load=load,
                change=round(change, 4) if change is not None else None,
                acwr=round(load / chronic, 3) if chronic else None,
                flagged=change is not None and change > jump,
                restricted=any(
                    s <= w + dt.timedelta(days=6) and (e is None or e >= w)
                    for s, e in windows.get(p["pk"], ())
                ),
            )
            out.append(week)
            total = totals[w]
            total.sessions += sessions
            total.minutes += mins
            total.load += load
            total.players_restricted += week.restricted
            total.players_flagged += week.flagged
            history.append(load)
        player = PlayerLoad(
            id=p["pk"],
            name=f"{p['first_name']} {p['last_name']}",
            jersey_number=p["jersey_number"],
            team_id=p["team_id"],
            weeks=out,
        )
        players.append(player)
        flagged.extend((player, w) for w in out if w.flagged)
    return TrainingLoad(
        weeks=weeks, players=players, totals=list(totals.values()), jump=jump, flagged=flagged
    )
