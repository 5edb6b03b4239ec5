"""A weekly recipe fires once per occurrence, keeps its wall-clock time across DST, catches up once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from automations.models import Schedule, ScheduleRun
from automations.recipes import recipe_create
from automations.schedules import ScheduleError, next_runs, schedule_create
from batch.models import Batch
from batch.undo import batch_undo
from tests.automations.conftest import CLUB
from tests.batch.conftest import ROOT, worker_env
from workouts.models import Workout

pytestmark = [pytest.mark.worker]

WEEKLY_SUNDAY = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18;BYMINUTE=0;BYSECOND=0"
SKATE = {
    "operations": [
        {
            "id": "skate",
            "type": "CREATE",
            "data": {
                "workout": {
                    "name": "Monday skate",
                    "type": "ON_ICE",
                    "status": "scheduled",
                    "scheduledStart": "@day+1 09:00",
                    "scheduledEnd": "@day+1 10:00",
                }
            },
        }
    ]
}


def tickers(at: str, n: int = 2) -> list[dict]:
    """Run n `automation_tick --at` processes at once; return every JSON line they printed."""
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "automation_tick", "--at", at],
            cwd=ROOT,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    lines = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        lines += [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines


@pytest.fixture
def weekly(transactional_db, rq_queue, team, trainer):
    recipe = recipe_create(user=trainer, team=team, name="Sunday: plan Monday's skate", request=SKATE)
    import time_machine

    with time_machine.travel(dt.datetime(2027, 3, 15, 10, 0, tzinfo=CLUB), tick=False):
        schedule = schedule_create(
            user=trainer,
            recipe=recipe,
            rrule_text=WEEKLY_SUNDAY,
            start=dt.datetime(2027, 3, 21, 18, 0, tzinfo=CLUB),
        )
    return schedule


def starts() -> list[str]:
    return [
        w.scheduled_start.astimezone(CLUB).strftime("%Y-%m-%d %H:%M %z")
        for w in Workout.objects.filter(name="Monday skate").order_by("scheduled_start")
    ]


def test_next_runs_keep_the_wall_clock_time_across_dst(db):
    runs = next_runs(
        WEEKLY_SUNDAY,
        dt.datetime(2027, 3, 21, 18, 0, tzinfo=CLUB),
        after=dt.datetime(2027, 3, 20, tzinfo=CLUB),
    )
    assert [r.isoformat() for r in runs[:2]] == ["2027-03-21T18:00:00+01:00", "2027-03-28T18:00:00+02:00"]
    assert len(runs) == 5 and {r.astimezone(CLUB).hour for r in runs} == {18}


@pytest.mark.parametrize(
    "rule", ["", "FREQ=SOMETIMES", "FREQ=MINUTELY", "DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "x" * 600]
)
def test_a_bad_rule_is_refused_with_a_message(db, team, trainer, rule):
    recipe = recipe_create(user=trainer, team=team, name="r", request=SKATE)
    with pytest.raises(ScheduleError):
        schedule_create(
            user=trainer, recipe=recipe, rrule_text=rule, start=dt.datetime(2027, 3, 21, 18, 0, tzinfo=CLUB)
        )


def test_a_weekly_recipe_fires_once_per_occurrence_across_dst_and_catches_up_once(
    weekly, run_worker, trainer
):
    # Two tickers at the first occurrence: exactly one run.
    lines = tickers("2027-03-21T18:00:20+01:00")
    fired = [x for x in lines if x["status"] == "submitted"]
    assert len(fired) == 1, lines
    assert fired[0]["occurrence"] == "2027-03-21T18:00:00+01:00"
    run_worker()
    assert starts() == ["2027-03-22 09:00 +0100"]

    # The same instant again, and a minute later: nothing more.
    assert tickers("2027-03-21T18:01:20+01:00", n=1) == []

    # Across the change to summer time: 18:00 local is now 16:00 UTC (not 17:00); Monday stays 09:00.
    lines = tickers("2027-03-28T18:00:20+02:00")
    assert [x["occurrence"] for x in lines if x["status"] == "submitted"] == ["2027-03-28T18:00:00+02:00"]
    run_worker()
    assert starts() == ["2027-03-22 09:00 +0100", "2027-03-29 09:00 +0200"]
    assert ScheduleRun.objects.filter(occurrence=dt.datetime(2027, 3, 28, 16, 0, tzinfo=dt.UTC)).exists()

    # Down for three weeks: one run for the latest missed occurrence, never a burst.
    call_command("automation_tick", "--at", "2027-04-18T20:00:00+02:00")
    run_worker()
    assert starts()[-1] == "2027-04-19 09:00 +0200" and len(starts()) == 3
    schedule = Schedule.objects.get()
    assert schedule.next_run_at.astimezone(CLUB).isoformat() == "2027-04-25T18:00:00+02:00"
    assert list(schedule.runs.order_by("occurrence").values_list("status", flat=True)) == [
        "submitted",
        "submitted",
        "skipped",
        "submitted",
    ]
    assert ScheduleRun.objects.filter(batch__isnull=False).count() == 3

    # Its batch is an ordinary one: started by the automations user, undoable by the team's trainer.
    first = ScheduleRun.objects.order_by("occurrence").first().batch
    assert first.created_by.username == "automations" and first.status == Batch.Status.COMPLETED
    batch_undo(batch_id=first.pk, user=trainer)
    run_worker()
    first.refresh_from_db()
    assert first.status == Batch.Status.UNDONE
    assert "2027-03-22 09:00 +0100" not in starts()


def test_the_skip_policy_runs_nothing_late_and_pause_stops_it(weekly, run_worker, trainer):
    from automations.schedules import automation_tick, schedule_pause

    Schedule.objects.filter(pk=weekly.pk).update(missed=Schedule.Missed.SKIP)
    rows = automation_tick(at=dt.datetime(2027, 4, 4, 20, 0, tzinfo=CLUB))
    assert [r["status"] for r in rows] == ["skipped"]
    assert not Batch.objects.exists()
    schedule_pause(user=trainer, schedule=weekly, paused=True)
    assert automation_tick(at=dt.datetime(2027, 4, 11, 18, 0, 30, tzinfo=CLUB)) == []


# Before the schedule starts (4 January), so its first run is still due when the tick comes.
@pytest.mark.clock("2026-12-01T10:30:00")
def test_a_failed_run_tells_the_owner_and_the_teams_webhooks(transactional_db, team, trainer):
    from automations.models import Notice
    from automations.schedules import automation_tick
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        team=team, url="http://127.0.0.1:9/hook", events=["automation.failed"], secret="whsec_dGVzdA=="
    )
    gone = {
        "operations": [
            {"id": "n", "type": "UPDATE", "data": {"workoutId": 987654, "updates": {"notes": "x"}}}
        ]
    }
    recipe = recipe_create(user=trainer, team=team, name="Notes on a deleted workout", request=gone)
    schedule = schedule_create(
        user=trainer,
        recipe=recipe,
        rrule_text="FREQ=DAILY;BYHOUR=18;BYMINUTE=0",
        start=dt.datetime(2027, 1, 4, 18, 0, tzinfo=CLUB),
    )
    rows = automation_tick(at=dt.datetime(2027, 1, 4, 18, 0, 10, tzinfo=CLUB))
    assert [(r["status"], r["batch"]) for r in rows] == [("failed", None)]
    assert "987654" in rows[0]["error"]
    run = schedule.runs.get()
    assert run.status == ScheduleRun.Status.FAILED and "987654" in run.error
    notice = Notice.objects.get(user=trainer)
    assert "Notes on a deleted workout" in notice.title and "failed" in notice.title
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event == "automation.failed"
    assert delivery.payload["data"]["schedule"] == schedule.pk and delivery.payload["data"]["team"] == "hawks"
    assert not Batch.objects.exists()
    # The next day's occurrence is tried again (and fails again: nothing is stuck).
    assert [r["status"] for r in automation_tick(at=dt.datetime(2027, 1, 5, 18, 0, 10, tzinfo=CLUB))] == [
        "failed"
    ]
