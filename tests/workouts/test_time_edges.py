"""The club's clock at its edges: a series across a DST change, a session that ends at midnight, and
"today" in the club's zone rather than UTC. Each test travels to the instant it needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.models import BatchItem
from tests.factories import FacilityFactory, PlayerFactory, WorkoutFactory
from workouts.calendar import Booking, Calendar, Slot, local_day
from workouts.models import Workout
from workouts.rules import within_opening_hours

pytestmark = pytest.mark.django_db


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.mark.clock("2027-03-22T10:00:00")  # the Monday before Europe's spring change (28 March 2027)
def test_a_weekly_series_across_the_spring_change_keeps_its_local_time(submit, run_batches, team):
    gym = FacilityFactory(name="Main gym", opens_at=dt.time(7), closes_at=dt.time(21))
    workout = WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None)
    thursday = dt.date(2027, 3, 25)
    recurrence = {"frequency": "weekly", "weekdays": ["TH"], "count": 3}
    op = {
        "id": "s",
        "type": "SCHEDULE",
        "data": {
            "workoutId": workout.pk,
            "start": "2027-03-25T09:00:00",
            "facilityId": gym.pk,
            "recurrence": recurrence,
        },
    }
    batch = submit([op])
    run_batches()
    result = BatchItem.objects.get(batch=batch, op_id="s")
    assert result.status == "SUCCEEDED", result.error
    series = Workout.objects.filter(pk__in=[workout.pk, *result.result["createdIds"]]).order_by(
        "scheduled_start"
    )
    starts = [timezone.localtime(w.scheduled_start) for w in series]
    assert [s.date() for s in starts] == [
        thursday,
        thursday + dt.timedelta(weeks=1),
        thursday + dt.timedelta(weeks=2),
    ]
    assert {s.time() for s in starts} == {dt.time(9)}
    # The same wall-clock time is an hour earlier in UTC once summer time begins.
    assert [s.utcoffset() for s in starts] == [
        dt.timedelta(hours=1),
        dt.timedelta(hours=2),
        dt.timedelta(hours=2),
    ]


@pytest.mark.clock("2026-10-21T10:00:00")
def test_an_autumn_night_of_25_hours_still_holds_a_late_session_on_its_own_day(team):
    rink = FacilityFactory(name="Rink", opens_at=dt.time(6), closes_at=dt.time(23, 59))
    sunday = dt.date(2026, 10, 25)  # clocks go back at 03:00
    start, end = local(sunday, 22), local(sunday, 23, 30)
    assert (end - start) == dt.timedelta(minutes=90) and within_opening_hours(rink, start, end)
    midnight, next_midnight = local(sunday, 0), local(sunday + dt.timedelta(days=1), 0)
    assert next_midnight.astimezone(dt.UTC) - midnight.astimezone(dt.UTC) == dt.timedelta(hours=25)
    late = Booking("late", 1, team.pk, "Late skate", start, end, rink.pk)
    assert late.days() == [sunday] and local_day(end) == sunday


@pytest.mark.clock("2026-11-18T10:30:00")
def test_a_session_ending_at_midnight_belongs_to_its_day_and_its_load_to_that_day(team):
    player = PlayerFactory(team=team, daily_load_limit=100)
    day = timezone.localdate() + dt.timedelta(days=2)
    late = Booking(
        "late", 1, team.pk, "Late skate", local(day, 23), local(day + dt.timedelta(days=1), 0), None
    )
    late.loads[player.pk] = 70
    assert late.days() == [day]
    calendar = Calendar(team_id=team.pk, facilities={}, bookings=[late])
    calendar.players[player.pk] = player
    # The next morning's 70 % is a new day's load: no daily limit is crossed.
    morning = local(day + dt.timedelta(days=1), 8)
    slot = Slot(
        start=morning, end=morning + dt.timedelta(hours=1), facility_id=None, loads={player.pk: 70}, key="m"
    )
    assert calendar.conflicts(slot) == []
    # The same 70 % in the evening before midnight is the same day: over the limit.
    evening = local(day, 20)
    same_day = Slot(
        start=evening, end=evening + dt.timedelta(hours=1), facility_id=None, loads={player.pk: 70}, key="e"
    )
    assert [c.kind for c in calendar.conflicts(same_day)] == ["DAILY_LOAD_LIMIT"]
    # A facility open until midnight does not hold a session that runs past it.
    gym = FacilityFactory(opens_at=dt.time(6), closes_at=dt.time(23, 59))
    assert not within_opening_hours(gym, local(day, 23, 30), local(day + dt.timedelta(days=1), 0, 30))


@pytest.mark.clock("2026-12-07T00:30:00")  # Monday 00:30 in Stockholm is still Sunday 23:30 in UTC
def test_today_is_the_clubs_day_not_utcs(trainer_client, team):
    now = timezone.now()
    assert now.astimezone(dt.UTC).date() == dt.date(2026, 12, 6)
    assert timezone.localdate() == local_day(now) == dt.date(2026, 12, 7)
    WorkoutFactory(team=team, name="Monday lift", scheduled_start=local(dt.date(2026, 12, 7), 9))
    WorkoutFactory(team=team, name="Sunday skate", scheduled_start=local(dt.date(2026, 12, 6), 9))
    # The calendar opens on the club's week: the one that started at midnight, not UTC's last week.
    body = trainer_client.get(reverse("workouts:calendar")).content.decode()
    assert "Monday lift" in body and "Sunday skate" not in body


@pytest.mark.clock("2026-12-31T23:59:00")
def test_new_years_eve_one_minute_to_midnight_plans_next_year_on_the_right_day(submit, run_batches, team):
    gym = FacilityFactory(opens_at=dt.time(6), closes_at=dt.time(22))
    workout = WorkoutFactory(team=team, status="draft", scheduled_start=None, scheduled_end=None)
    batch = submit(
        [
            {
                "id": "s",
                "type": "SCHEDULE",
                "data": {"workoutId": workout.pk, "start": "2027-01-01T10:00:00", "facilityId": gym.pk},
            }
        ]
    )
    run_batches()
    assert BatchItem.objects.get(batch=batch, op_id="s").status == "SUCCEEDED"
    workout.refresh_from_db()
    assert (
        local_day(workout.scheduled_start)
        == dt.date(2027, 1, 1)
        == timezone.localdate() + dt.timedelta(days=1)
    )
