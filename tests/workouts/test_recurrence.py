"""Recurring series from dateutil.rrule: the same days as before, and always bounded."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from workouts.recurrence import MAX_OCCURRENCES, RecurrenceError, occurrence_days
from workouts.rules import DATE_MAX


def test_weekly_picks_weekdays_and_biweekly_skips_every_other_week_counted_from_the_first():
    first = dt.date(2027, 1, 6)  # a Wednesday
    assert occurrence_days(first, {"frequency": "weekly", "weekdays": ["MO", "WE"], "count": 4}) == [
        dt.date(2027, 1, 6),
        dt.date(2027, 1, 11),
        dt.date(2027, 1, 13),
        dt.date(2027, 1, 18),
    ]
    assert occurrence_days(first, {"frequency": "biweekly", "weekdays": [0, 2], "count": 3}) == [
        dt.date(2027, 1, 6),
        dt.date(2027, 1, 18),
        dt.date(2027, 1, 20),
    ]


def test_count_counts_generated_days_and_exceptions_are_removed_afterwards():
    days = occurrence_days(
        dt.date(2027, 3, 1), {"frequency": "daily", "count": 3, "exceptions": ["2027-03-02"]}
    )
    assert days == [dt.date(2027, 3, 1), dt.date(2027, 3, 3)]


def test_until_and_count_end_the_series_at_whichever_comes_first():
    rule = {"frequency": "daily", "count": 10, "until": "2027-03-03"}
    assert occurrence_days(dt.date(2027, 3, 1), rule)[-1] == dt.date(2027, 3, 3)


def test_a_full_year_of_days_is_allowed_and_one_more_is_not():
    first = dt.date(2028, 1, 1)
    assert len(occurrence_days(first, {"frequency": "daily", "count": MAX_OCCURRENCES})) == MAX_OCCURRENCES
    with pytest.raises(RecurrenceError, match="more than 366"):
        occurrence_days(first, {"frequency": "daily", "until": "2029-01-01"})
    with pytest.raises(RecurrenceError, match="more than 366"):
        occurrence_days(first, {"frequency": "daily", "count": MAX_OCCURRENCES + 1})


@pytest.mark.parametrize(
    "first",
    [dt.date(2099, 1, 31), dt.date(2100, 12, 31), dt.date(9990, 1, 31), dt.date(9999, 12, 31)],
)
def test_a_monthly_series_past_the_last_calendar_day_ends_at_once_with_a_clear_error(first):
    # Before rrule, a monthly series running past year 9999 looped forever (one CPU core per request).
    began = time.monotonic()
    with pytest.raises(RecurrenceError, match=f"runs past {DATE_MAX.isoformat()}"):
        occurrence_days(first, {"frequency": "monthly", "count": 300})
    assert time.monotonic() - began < 1


def test_without_count_a_series_stops_at_the_last_calendar_day():
    days = occurrence_days(dt.date(2100, 11, 30), {"frequency": "weekly", "until": "2100-12-31"})
    assert days[-1] == dt.date(2100, 12, 28) and all(d <= DATE_MAX for d in days)


def test_no_recurrence_is_the_first_day_alone():
    assert occurrence_days(dt.date(2030, 2, 3), None) == [dt.date(2030, 2, 3)]
