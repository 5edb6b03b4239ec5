"""Planned training load per player per ISO week equals the same sums taken straight from the rows.

Workouts sit on the club's calendar edges: late Sunday and just after midnight Monday around both DST
changes and across the year end (ISO week 53 of 2026 runs into 2027).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from django.utils import timezone

from analytics.selectors import training_load
from medical.models import MedicalRestriction
from tests.analytics.conftest import ZONE
from tests.factories import AssignmentFactory, PlayerFactory, RestrictionFactory, TeamFactory, WorkoutFactory
from workouts.models import Workout

RANGES = [
    (dt.date(2026, 3, 23), dt.date(2026, 4, 5)),  # spring forward on Sunday 29 March
    (dt.date(2026, 10, 19), dt.date(2026, 11, 1)),  # fall back on Sunday 25 October
    (dt.date(2026, 12, 24), dt.date(2027, 1, 10)),  # across the year end
]


def local(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=ZONE)


STARTS = [
    local(2026, 3, 22, 23, 30),  # the Sunday before the range's first week
    local(2026, 3, 29, 1, 30),  # before the change
    local(2026, 3, 29, 3, 30),  # after it
    local(2026, 3, 29, 23, 15),
    local(2026, 3, 30, 0, 15),
    local(2026, 4, 2, 9, 0),
    local(2026, 10, 18, 23, 45),
    local(2026, 10, 25, 2, 30),  # fold=0: the first 02:30 (CEST)
    local(2026, 10, 25, 23, 30),
    local(2026, 10, 26, 0, 30),
    local(2026, 10, 29, 18, 0),
    local(2026, 12, 20, 10, 0),
    local(2026, 12, 27, 23, 30),
    local(2026, 12, 31, 23, 30),
    local(2027, 1, 1, 0, 30),
    local(2027, 1, 3, 23, 59),
    local(2027, 1, 4, 0, 0),
    local(2027, 1, 8, 12, 0),
]


@pytest.fixture
def season(db):
    hawks = TeamFactory(slug="hawks")
    lynx = TeamFactory(slug="lynx")
    players = [PlayerFactory(team=hawks) for _ in range(4)] + [PlayerFactory(team=lynx) for _ in range(2)]
    rng = random.Random(7)
    for start in STARTS:
        for team in (hawks, lynx):
            status = rng.choice(
                [Workout.Status.SCHEDULED] * 4 + [Workout.Status.CANCELLED, Workout.Status.DRAFT]
            )
            start_utc = start.astimezone(dt.UTC)
            workout = WorkoutFactory(
                team=team,
                status=status,
                scheduled_start=start_utc,
                scheduled_end=None
                if rng.random() < 0.2
                else start_utc + dt.timedelta(minutes=rng.choice([45, 60, 90])),
                archived_at=timezone.now() if rng.random() < 0.1 else None,
            )
            for player in rng.sample([p for p in players if p.team_id == team.pk], k=rng.randint(1, 2)):
                AssignmentFactory(
                    workout=workout, player=player, load_percent=rng.choice([40, 60, 80, 100, 120])
                )
    RestrictionFactory(
        player=players[0],
        status="active",
        effective_date=dt.date(2026, 3, 25),
        expiry_date=dt.date(2026, 3, 30),
    )
    RestrictionFactory(
        player=players[1], status="pending", effective_date=dt.date(2026, 10, 1), expiry_date=None
    )
    cleared = RestrictionFactory(
        player=players[2], status="cleared", effective_date=dt.date(2026, 12, 20), expiry_date=None
    )
    MedicalRestriction.objects.filter(pk=cleared.pk).update(
        updated_at=local(2026, 12, 29, 10).astimezone(dt.UTC)
    )
    RestrictionFactory(
        player=players[4],
        status="expired",
        effective_date=dt.date(2027, 1, 2),
        expiry_date=dt.date(2027, 1, 5),
    )
    return hawks, lynx, players


def expected_cells(team_ids):
    cells = defaultdict(lambda: [0, 0, 0])
    for w in Workout.objects.filter(team_id__in=team_ids).prefetch_related("assignments"):
        if (
            w.status in (Workout.Status.CANCELLED, Workout.Status.ARCHIVED)
            or w.archived_at
            or not w.scheduled_start
        ):
            continue
        day = w.scheduled_start.astimezone(ZONE).date()
        week = day - dt.timedelta(days=day.weekday())
        minutes = (
            (w.scheduled_end or w.scheduled_start + dt.timedelta(hours=1)) - w.scheduled_start
        ).total_seconds() / 60
        for a in w.assignments.all():
            cell = cells[(a.player_id, week)]
            cell[0] += 1
            cell[1] += minutes
            cell[2] += a.load_percent
    return cells


def restricted_on(player_id, day):
    for r in MedicalRestriction.objects.filter(player_id=player_id):
        end = r.expiry_date
        if r.status not in ("active", "pending"):
            lifted = r.updated_at.astimezone(ZONE).date()
            end = lifted if end is None else min(end, lifted)
        if r.effective_date <= day and (end is None or day <= end):
            return True
    return False


@pytest.mark.parametrize("first,last", RANGES)
@pytest.mark.parametrize("scope", ["team", "staff"])
def test_weekly_load_change_flags_and_restrictions_match_the_rows(season, scope, first, last):
    hawks, lynx, players = season
    team_ids = [hawks.pk] if scope == "team" else [hawks.pk, lynx.pk]
    cells = expected_cells(team_ids)
    got = training_load(team_ids=team_ids, first=first, last=last, jump=0.3)
    monday = first - dt.timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += dt.timedelta(weeks=1)
    assert got.weeks == weeks
    assert {p.id for p in got.players} == {p.pk for p in players if p.team_id in team_ids}
    flagged = 0
    for player in got.players:
        for week in player.weeks:
            sessions, minutes, load = cells.get((player.id, week.week), (0, 0, 0))
            assert (week.sessions, week.minutes, week.load) == (sessions, round(minutes), load), (
                player.id,
                week.week,
            )
            before = cells.get((player.id, week.week - dt.timedelta(weeks=1)), (0, 0, 0))[2]
            change = (load - before) / before if before else None
            assert week.change == (round(change, 4) if change is not None else None)
            assert week.flagged == (change is not None and change > 0.3)
            chronic = (
                sum(
                    cells.get((player.id, week.week - dt.timedelta(weeks=n)), (0, 0, 0))[2]
                    for n in range(1, 5)
                )
                / 4
            )
            assert week.acwr == (round(load / chronic, 3) if chronic else None)
            flagged += week.flagged
            days = [week.week + dt.timedelta(days=n) for n in range(7)]
            assert week.restricted == any(restricted_on(player.id, d) for d in days), (player.id, week.week)
    assert len(got.flagged) == flagged
    for total in got.totals:
        mine = [w for p in got.players for w in p.weeks if w.week == total.week]
        assert total.load == sum(w.load for w in mine)
        assert total.players_restricted == sum(w.restricted for w in mine)
        assert total.players_flagged == sum(w.flagged for w in mine)
    assert sum(t.sessions for t in got.totals) > 0
    assert any(t.players_restricted for t in got.totals)
    assert any(w.acwr is not None for p in got.players for w in p.weeks)


def test_the_jump_that_flags_a_player_is_a_setting(season, settings):
    hawks, _, players = season
    first, last = RANGES[2]
    strict = training_load(team_ids=[hawks.pk], first=first, last=last, jump=0.0)
    loose = training_load(team_ids=[hawks.pk], first=first, last=last, jump=5.0)
    settings.ANALYTICS_LOAD_JUMP = 0.0
    default = training_load(team_ids=[hawks.pk], first=first, last=last)
    assert len(loose.flagged) <= len(strict.flagged) == len(default.flagged)
    assert not loose.flagged and strict.flagged


def test_a_range_of_more_than_two_seasons_is_refused(db):
    with pytest.raises(ValueError, match="weeks"):
        training_load(team_ids=[], first=dt.date(2024, 1, 1), last=dt.date(2026, 6, 1))
