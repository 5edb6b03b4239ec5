"""Benchmark: batches from submit to final state with real RQ worker processes on PostgreSQL.

Prints a table: operations, type, workers, chunk size, seconds, ops/s, peak worker RSS — and, in the
same run, the raw bulk_create rate of the same rows as a reference.

    source bin/_setup.sh && .venv/bin/python bench/batch_bench.py [--quick] [--scenarios create10k,...]

Uses its own database (<name>_bench) and queue, so it never touches dev data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hockeyhub")
parts = urlsplit(base_url)
BENCH_DB = parts.path.lstrip("/") + "_bench"
os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DB))
os.environ["RQ_QUEUE_NAME"] = "hockeyhub-bench"
# The benchmark submits several 100,000-operation batches back to back; quotas would refuse them.
for quota in (
    "ACTIVE_PER_TEAM",
    "ACTIVE_PER_USER",
    "OPERATIONS_PER_TEAM_PER_DAY",
    "SUBMISSIONS_PER_USER_PER_MINUTE",
):
    os.environ[f"BATCH_QUOTA_{quota}"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hockeyhub.settings")
subprocess.run(
    [sys.executable, str(ROOT / "bin" / "services.py"), "env"],
    check=True,
    stdout=subprocess.DEVNULL,
    env={**os.environ},
)

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from batch.models import Batch  # noqa: E402
from batch.operations import REGISTRY  # noqa: E402
from batch.queueing import queue  # noqa: E402
from batch.services import batch_submit  # noqa: E402
from workouts.models import Exercise, Facility, Membership, Player, Team, Workout  # noqa: E402


def setup_club() -> tuple[object, Team, list[int], list[int]]:
    from django.contrib.auth import get_user_model

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench", "season": "2026-27"})
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": "trainer"})
    if not Player.objects.filter(team=team).exists():
        Player.objects.bulk_create(
            [
                Player(team=team, first_name="P", last_name=str(i), jersey_number=i, position="F")
                for i in range(1, 41)
            ]
        )
    Exercise.objects.get_or_create(
        name="Bench squat",
        defaults={
            "category": "strength",
            "intensity": 50,
            "movement_patterns": ["squat"],
            "body_parts": ["quadriceps"],
        },
    )
    for i in range(4):
        Facility.objects.get_or_create(
            name=f"Bench gym {i}", defaults={"opens_at": dt.time(6), "closes_at": dt.time(22)}
        )
    players = list(Player.objects.filter(team=team).values_list("pk", flat=True))
    return user, team, players, list(Facility.objects.values_list("pk", flat=True))


def reset(team: Team) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE batch_batchchange, batch_batchitem, batch_batchchunk, batch_batch, "
            "hockeyhub_auditevent, workouts_assignment, workouts_workoutexercise, workouts_workout "
            "RESTART IDENTITY CASCADE"
        )
    queue().empty()


def create_ops(n: int) -> list[dict]:
    return [
        {"id": f"c{i}", "type": "CREATE", "data": {"workout": {"name": f"Bench {i}", "type": "STRENGTH"}}}
        for i in range(n)
    ]


def seed_workouts(team: Team, n: int) -> list[int]:
    rows = [Workout(team=team, name=f"Seed {i}", type="STRENGTH", status="draft") for i in range(n)]
    return [w.pk for w in Workout.objects.bulk_create(rows, batch_size=2000)]


def assign_ops(team: Team, n: int, players: list[int]) -> list[dict]:
    ids = seed_workouts(team, n)
    return [
        {
            "id": f"a{i}",
            "type": "ASSIGN",
            "data": {
                "workoutId": wid,
                "assignments": [{"playerId": players[(i * 3 + k) % len(players)]} for k in range(3)],
            },
        }
        for i, wid in enumerate(ids)
    ]


def schedule_ops(team: Team, n: int, facilities: list[int]) -> list[dict]:
    ids = seed_workouts(team, n)
    base = timezone.localtime(timezone.now() + dt.timedelta(days=1)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    ops = []
    for i, wid in enumerate(ids):
        # Spread over days, facilities and hours so the calendar is realistic, not one giant conflict.
        start = base + dt.timedelta(days=i // 64, hours=(i // len(facilities)) % 16)
        ops.append(
            {
                "id": f"s{i}",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": wid,
                    "start": start.isoformat(),
                    "end": (start + dt.timedelta(minutes=50)).isoformat(),
                    "facilityId": facilities[i % len(facilities)],
                },
            }
        )
    return ops


def run(user, team, ops: list[dict], *, workers: int, chunk: int) -> dict:
    raw = {
        "operations": ops,
        "options": {"chunkSize": chunk, "maxConcurrency": workers},
        "metadata": {"source": "bench"},
    }
    started = time.monotonic()
    batch = batch_submit(user=user, team=team, raw=raw, source="bench")
    submitted = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "batch_worker", "--burst", "--no-recover", "-v", "0"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    peak_rss = 0
    while True:
        for proc in procs:
            try:
                parent = psutil.Process(proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    peak_rss = max(peak_rss, p.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        status = Batch.objects.only("status").get(pk=batch.pk).status
        if status in Batch.FINAL_STATUSES:
            break
        time.sleep(0.02)
    finished = time.monotonic()
    for proc in procs:
        proc.wait(timeout=60)
    batch.refresh_from_db()
    return {
        "ops": len(ops),
        "type": ops[0]["type"],
        "workers": workers,
        "chunk": chunk,
        "seconds": finished - started,
        "submit": submitted - started,
        "rate": len(ops) / (finished - started),
        "rss_mb": peak_rss / 2**20,
        "status": batch.status,
        "ok": batch.succeeded,
        "failed": batch.failed,
    }


def bulk_create_reference(team: Team, n: int) -> float:
    rows = [Workout(team=team, name=f"Ref {i}", type="STRENGTH") for i in range(n)]
    started = time.monotonic()
    Workout.objects.bulk_create(rows, batch_size=1000)
    return n / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run")
    args = parser.parse_args()
    user, team, players, facilities = setup_club()
    big = 10_000 if not args.quick else 1_000
    scenarios = [
        ("CREATE", 1_000, 2, 500),
        ("CREATE", big, 1, 500),
        ("CREATE", big, 2, 500),
        ("CREATE", big, 2, 10),
    ]
    if "ASSIGN" in REGISTRY:
        scenarios.append(("ASSIGN", big // 2, 2, 250))
    if "SCHEDULE" in REGISTRY:
        scenarios.append(("SCHEDULE", big // 2, 2, 250))
    if not args.quick:
        scenarios.append(("CREATE", 100_000, 2, 1000))
    results = []
    for op_type, n, workers, chunk in scenarios:
        reset(team)
        if op_type == "CREATE":
            ops = create_ops(n)
        elif op_type == "ASSIGN":
            ops = assign_ops(team, n, players)
        else:
            ops = schedule_ops(team, n, facilities)
        results.append(run(user, team, ops, workers=workers, chunk=chunk))
        r = results[-1]
        print(
            f"  ran {r['type']} {r['ops']} ops, {workers} workers, chunk {chunk}: {r['seconds']:.2f}s",
            flush=True,
        )
    reset(team)
    reference = bulk_create_reference(team, big)
    reset(team)
    header = (
        f"{'type':<9}{'ops':>8}{'workers':>8}{'chunk':>7}{'seconds':>9}{'submit s':>9}{'ops/s':>9}"
        f"{'% raw':>7}{'peak RSS MB':>12}  status"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        share = 100 * r["rate"] / reference if r["type"] == "CREATE" else float("nan")
        print(
            f"{r['type']:<9}{r['ops']:>8}{r['workers']:>8}{r['chunk']:>7}{r['seconds']:>9.2f}{r['submit']:>9.2f}"
            f"{r['rate']:>9.0f}{share:>7.1f}{r['rss_mb']:>12.1f}  {r['status']} "
            f"({r['ok']} ok, {r['failed']} failed)"
        )
    print(f"\nraw bulk_create reference: {reference:,.0f} rows/s ({big} Workout rows, batch_size 1000)")
    creates = {r["ops"]: r["rss_mb"] for r in results if r["type"] == "CREATE" and r["workers"] == 2}
    if 1_000 in creates and 100_000 in creates:
        print(f"peak worker RSS 100k / 1k: {creates[100_000] / creates[1_000]:.2f}x")


if __name__ == "__main__":
    main()
