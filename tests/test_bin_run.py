"""bin/run under fire: kill -9 one worker and the web app keeps answering, the worker pool starts a
new worker within seconds, and a batch submitted afterwards completes. Ctrl-C then stops everything.

bin/run runs on a free port with its own database, Redis queue names and project settings; it migrates
and seeds that database itself (the slow part of this test)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.batch.conftest import wait_until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.worker, pytest.mark.serial, pytest.mark.django_db]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, session id) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[4])


def live(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children(pid: int) -> list[int]:
    return [p for p in all_pids() if (s := proc_stat(p)) and s[1] == pid and s[0] not in ("Z", "X")]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def in_session(sid: int) -> list[int]:
    return [p for p in all_pids() if (s := proc_stat(p)) and s[2] == sid and s[0] not in ("Z", "X")]


@pytest.fixture
def bin_run(tmp_path):
    port = free_port()
    parts = urlsplit(settings.DATABASE_URL)
    name = f"{connection.settings_dict['NAME']}_binrun"[:63]
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + name)),
        "REDIS_URL": settings.REDIS_URL,
        "RQ_QUEUE_NAME": f"{settings.RQ_QUEUE_NAME}-binrun",
        "PORT": str(port),
        "WORKERS": "2",
        "WEB_CONCURRENCY": "1",
        "DEBUG": "false",
        "SECRET_KEY": "bin-run-test-" + "x" * 40,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "run")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc, port, env, tmp_path / "run.log"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in in_session(proc.pid):
            os.kill(pid, signal.SIGKILL)
        log.close()


def test_a_killed_worker_is_replaced_while_the_app_keeps_serving(bin_run, tmp_path):
    proc, port, env, log = bin_run
    wait_until(lambda: get(port, "/login/") == 200 or proc.poll() is not None, timeout=300, interval=0.5)
    assert proc.poll() is None, log.read_text()[-3000:]
    pool = next(p for p in children(proc.pid) if "batch_worker --pool" in cmdline(p))
    wait_until(lambda: len(children(pool)) == 2, timeout=60, interval=0.2)
    wait_until(lambda: get(port, "/healthz") == 200, timeout=60, interval=0.5)  # both workers beat
    workers = children(pool)
    victim = workers[0]
    victims_children = children(victim)  # its scheduler, if it holds the lock

    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    assert get(port, "/login/") == 200  # the web app does not go down with a worker
    wait_until(lambda: not live(victim), timeout=5, interval=0.05)
    wait_until(lambda: len(set(children(pool)) - {victim}) == 2, timeout=10, interval=0.05)
    replaced_in = time.monotonic() - killed
    assert replaced_in < 10
    assert all(not live(p) for p in victims_children)  # its scheduler died with it
    assert get(port, "/login/") == 200 and proc.poll() is None

    # A batch submitted afterwards runs to the end on the pool.
    request = tmp_path / "request.json"
    ops = [
        {"id": f"c{i}", "type": "CREATE", "data": {"workout": {"name": f"After the kill {i}"}}}
        for i in range(20)
    ]
    request.write_text(json.dumps({"operations": ops, "options": {"chunkSize": 5}}))
    run_env = {**env, "DJANGO_SETTINGS_MODULE": "hockeyhub.settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "batch_run", str(request), "--user", "trainer", "--wait", "--json"],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["status"] == "COMPLETED", summary

    # Ctrl-C (SIGINT to the foreground process group) stops every process bin/run started.
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    wait_until(lambda: not in_session(proc.pid), timeout=30, interval=0.2)
    assert get(port, "/login/") == 0
