"""manage.py plan_week: the request on stdout, the reasons on stderr, exit 2 when something does not fit."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.utils import timezone

from batch.models import Batch
from tests.batch.conftest import ROOT, rq_queue, wait_final, worker_env, workers  # noqa: F401 - fixtures
from tests.factories import WorkoutFactory
from tests.planner.conftest import MONDAY, problem, session
from workouts.calendar import at
from workouts.models import Assignment, Workout


def write(tmp_path, value) -> str:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(value))
    return str(path)


def test_plan_week_prints_a_request(tmp_path, trainer, team, gym, squad, capsys):
    raw = problem(team, [session("Lift", [gym], squad), session("Run", [gym], squad[:2])])
    call_command("plan_week", write(tmp_path, raw), user=trainer.username)
    out, err = capsys.readouterr()
    request = json.loads(out)
    assert [op["type"] for op in request["operations"]] == ["CREATE", "CREATE"]
    assert "Placed 2 of 2 sessions" in err


def test_plan_week_exits_2_with_the_reasons(tmp_path, trainer, team, gym, squad, capsys):
    WorkoutFactory(
        team=team,
        facility=gym,
        name="Camp",
        scheduled_start=at(MONDAY, dt.time(7)),
        scheduled_end=at(MONDAY, dt.time(21)),
    )
    raw = problem(team, [session("Lift", [gym], squad, days=["MON"])])
    with pytest.raises(SystemExit) as exit_info:
        call_command("plan_week", write(tmp_path, raw), user=trainer.username)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "“Lift” cannot be placed" in err and "Gym is taken by Camp" in err


def test_plan_week_refuses_a_bad_problem(tmp_path, trainer, team, gym, squad, capsys):
    raw = problem(team, [session("Lift", [gym], squad, durationMinutes=0)])
    with pytest.raises(SystemExit) as exit_info:
        call_command("plan_week", write(tmp_path, raw), user=trainer.username, json=True)
    assert exit_info.value.code == 2
    body = json.loads(capsys.readouterr().out)
    assert body["valid"] is False
    assert any(p.startswith("sessions[0].durationMinutes") for p in body["problems"])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_plan_week_piped_into_batch_run_runs_on_a_worker(tmp_path, trainer, team, gym, rink, squad, workers):  # noqa: F811
    raw = problem(
        team,
        [
            session("Strength", [gym], squad, intensity=85, days=["MON"]),
            session("Skating", [rink], squad, days=["MON"], earliest="16:00"),
        ],
        rules={"restHoursAfterHighIntensity": 4},
    )
    path = write(tmp_path, raw)
    env = worker_env()
    manage = [sys.executable, "manage.py"]
    planner = subprocess.Popen(
        [*manage, "plan_week", path, "--user", trainer.username], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    runner = subprocess.run(
        [*manage, "batch_run", "-", "--user", trainer.username, "--json"],
        cwd=ROOT,
        env=env,
        stdin=planner.stdout,
        capture_output=True,
        timeout=120,
    )
    planner.stdout.close()
    assert planner.wait(timeout=60) == 0
    assert runner.returncode == 0, runner.stderr.decode()
    batch_id = json.loads(runner.stdout)["id"]
    workers.start(burst=True)
    batch = wait_final(batch_id)
    assert batch.status == Batch.Status.COMPLETED and batch.succeeded == 2
    made = {w.name: w for w in Workout.objects.filter(team=team)}
    assert set(made) == {"Strength", "Skating"}
    strength, skating = made["Strength"], made["Skating"]
    assert strength.facility_id == gym.pk and skating.facility_id == rink.pk
    assert timezone.localtime(strength.scheduled_start).date() == MONDAY
    assert skating.scheduled_start >= strength.scheduled_end  # same players, one place at a time
    assert Assignment.objects.filter(workout=strength).count() == len(squad)


def test_plan_week_reads_standard_input_and_partial_prints_what_fits(
    trainer, team, gym, squad, capsys, monkeypatch
):
    import io

    WorkoutFactory(
        team=team,
        facility=gym,
        name="Camp",
        scheduled_start=at(MONDAY, dt.time(7)),
        scheduled_end=at(MONDAY, dt.time(21)),
    )
    raw = problem(team, [session("Lift", [gym], squad, days=["MON"]), session("Run", [gym], squad)])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(raw).encode())))
    call_command("plan_week", "-", user=trainer.username, partial=True)
    out, err = capsys.readouterr()
    assert [op["data"]["workout"]["name"] for op in json.loads(out)["operations"]] == ["Run"]
    assert "Placed 1 of 2 sessions" in err and "“Lift” cannot be placed" in err
