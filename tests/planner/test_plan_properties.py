"""Property test through the whole app: random small weeks in the database, planned by `plan_week`,
and the plan's request judged by the batch engine's own dry run. The plan must pass the rulebook as
it is (facility and player double booking, opening hours, daily load, medical gate): no conflicts,
no errors, nobody the gate blocks on an assignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.validation import batch_validate
from medical.models import MedicalRestriction
from planner.planning import plan_week
from planner.problem import WEEKDAY_NAMES
from tests.factories import AssignmentFactory, RestrictionFactory, WorkoutFactory
from tests.planner.conftest import MONDAY, problem
from workouts.calendar import at

pytestmark = pytest.mark.django_db

workouts = st.lists(
    st.tuples(
        st.integers(0, 2),  # day
        st.integers(7, 19),  # hour
        st.integers(1, 3),  # hours long
        st.booleans(),  # another team's
        st.integers(0, 1),  # facility
        st.sets(st.integers(0, 3)),  # players
    ),
    max_size=3,
)
sessions = st.lists(
    st.tuples(
        st.sampled_from([30, 60, 90, 120]),
        st.sampled_from([40, 85]),
        st.sets(st.integers(0, 3), min_size=1),
        st.sets(st.integers(0, 1), min_size=1),
        st.sets(st.integers(0, 2), min_size=1),
        st.sampled_from([50, 100]),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    existing=workouts,
    wanted=sessions,
    blocked_day=st.none() | st.integers(0, 2),
    limit=st.sampled_from([100, 200]),
)
def test_every_plan_passes_the_batch_dry_run(
    trainer, team, other_team, gym, rink, squad, existing, wanted, blocked_day, limit
):
    facilities = [gym, rink]
    with transaction.atomic():
        for p in squad:
            p.daily_load_limit = limit
            p.save(update_fields=["daily_load_limit"])
        for day, hour, hours, foreign, f, who in existing:
            start = at(MONDAY + dt.timedelta(days=day), dt.time(hour))
            w = WorkoutFactory(
                team=other_team if foreign else team,
                facility=facilities[f],
                scheduled_start=start,
                scheduled_end=start + dt.timedelta(hours=hours),
            )
            if not foreign:
                for i in who:
                    AssignmentFactory(workout=w, player=squad[i])
        if blocked_day is not None:
            day = MONDAY + dt.timedelta(days=blocked_day)
            RestrictionFactory(
                player=squad[0],
                severity=MedicalRestriction.Severity.COMPLETE,
                effective_date=day,
                expiry_date=day,
            )
        raw = problem(
            team,
            [
                {
                    "name": f"S{n}",
                    "durationMinutes": minutes,
                    "intensity": intensity,
                    "loadPercent": load,
                    "playerIds": [squad[i].pk for i in sorted(who)],
                    "facilityIds": [facilities[f].pk for f in sorted(where)],
                    "days": [WEEKDAY_NAMES[d] for d in sorted(days)],
                }
                for n, (minutes, intensity, who, where, days, load) in enumerate(wanted)
            ],
            timeLimitSeconds=1,
        )
        result = plan_week(user=trainer, raw=raw, explain_limit=1)
        if result.request["operations"]:
            report = batch_validate(user=trainer, team=team, raw=result.request).as_dict()
            assert report["valid"], report
            assert report["summary"]["conflicts"] == 0, report
            blocked = [m for item in report["items"] for m in item["medical"] if m["verdict"] == "blocked"]
            assert blocked == []
            assert report["summary"]["leftOut"] == 0, report
        for outcome in result.sessions:
            if not outcome.placed:
                assert outcome.why_not, outcome
        transaction.set_rollback(True)
