"""Benchmark: batches from submit to final state with real RQ worker processes on PostgreSQL.

Prints a table: operations, type, workers, chunk size, seconds, ops/s, peak worker RSS — and, in the
same run, the raw bulk_create rate of the same rows as a reference, and every target ratio. Workers are
started before the batches (warm, as in service), so ops/s measures the engine, not process start-up.

    source bin/_setup.sh && .venv/bin/python bench/batch_bench.py [--quick] [--scale]

`--scale` prints only the scale-out table: one 20k CREATE batch with 1, 2, 4 and 8 worker processes.

Uses its own database (<name>_bench) and queue, so it never touches dev data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
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
from django.db import OperationalError, connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from batch.models import Batch, BatchChange  # noqa: E402
from batch.queueing import queue  # noqa: E402
from batch.services import batch_submit  # noqa: E402
from batch.undo import batch_undo  # noqa: E402
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
    """Empty the tables the runs write. A worker may still be closing the last batch (its turn ends
    after the batch is final): a TRUNCATE that deadlocks with it is simply tried again."""
    for attempt in range(10):
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE batch_batchchange, batch_batchitem, batch_batchchunk, batch_batch, "
                    "hockeyhub_auditevent, workouts_assignment, workouts_workoutexercise, workouts_workout "
                    "RESTART IDENTITY CASCADE"
                )
            break
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(0.2)
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


class Workers:
    """Long-running `batch_worker` processes, started before the batches they run (warm, as in service)."""

    def __init__(self, count: int) -> None:
        self.procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "batch_worker", "--no-recover", "-v", "0"],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        time.sleep(1.5 + 0.3 * count)  # start-up: Django, Redis, the fork of the first work horse

    def rss(self) -> int:
        """Return the largest resident set among the workers and their work horses."""
        peak = 0
        for proc in self.procs:
            try:
                parent = psutil.Process(proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    peak = max(peak, p.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        return peak

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_final(batch_id: int, workers: Workers) -> tuple[float, int]:
    """Poll until the batch is final; return (the monotonic time it ended, peak worker RSS)."""
    peak_rss = 0
    while True:
        peak_rss = max(peak_rss, workers.rss())
        status = Batch.objects.only("status").get(pk=batch_id).status
        if status in Batch.FINAL_STATUSES:
            return time.monotonic(), peak_rss
        time.sleep(0.02)


def run(user, team, ops: list[dict], *, workers: Workers, chunk: int | None, label: str = "") -> dict:
    options = {"maxConcurrency": len(workers.procs)}
    if chunk:
        options["chunkSize"] = chunk
    raw = {"operations": ops, "options": options, "metadata": {"source": "bench"}}
    started = time.monotonic()
    batch = batch_submit(user=user, team=team, raw=raw, source="bench")
    submitted = time.monotonic()
    finished, peak_rss = wait_final(batch.pk, workers)
    batch.refresh_from_db()
    return result(
        label or ops[0]["type"], batch, len(workers.procs), chunk, started, submitted, finished, peak_rss
    )


def result(label, batch, workers, chunk, started, submitted, finished, peak_rss) -> dict:
    # Rows the run wrote: each logged change is an object row plus its change-log row; each item's
    # outcome rewrites its row. (Exact for these workloads: CREATE 3 per op, ASSIGN of 3 players 7.)
    changes = BatchChange.objects.filter(batch=batch).count()
    return {
        "rows": 2 * changes + batch.total_items,
        "ops": batch.total_items,
        "type": label,
        "workers": workers,
        "chunk": chunk or f"auto{-(-batch.total_items // max(batch.total_chunks, 1))}",
        "seconds": finished - started,
        "submit": submitted - started,
        "exec": finished - submitted,
        "rate": batch.total_items / (finished - submitted),
        "rss_mb": peak_rss / 2**20,
        "status": batch.status,
        "ok": batch.succeeded,
        "failed": batch.failed,
    }


def run_undo(user, team, n: int, *, workers: Workers) -> dict:
    """UPDATE n workouts, then time the undo of that batch (REVERT per change)."""
    ids = seed_workouts(team, n)
    ops = [
        {"id": f"u{i}", "type": "UPDATE", "data": {"workoutId": wid, "updates": {"notes": f"bench {i}"}}}
        for i, wid in enumerate(ids)
    ]
    updated = run(user, team, ops, workers=workers, chunk=None)
    assert updated["ok"] == n, updated
    started = time.monotonic()
    undo = batch_undo(batch_id=Batch.objects.get(kind=Batch.Kind.NORMAL).pk, user=user, channel="bench")
    submitted = time.monotonic()
    finished, peak_rss = wait_final(undo.pk, workers)
    undo.refresh_from_db()
    return result("UNDO", undo, len(workers.procs), None, started, submitted, finished, peak_rss)


def bulk_create_reference(team: Team, n: int) -> float:
    rows = [Workout(team=team, name=f"Ref {i}", type="STRENGTH") for i in range(n)]
    started = time.monotonic()
    Workout.objects.bulk_create(rows, batch_size=1000)
    return n / (time.monotonic() - started)


def build_ops(team: Team, op_type: str, n: int, players: list[int], facilities: list[int]) -> list[dict]:
    if op_type == "CREATE":
        return create_ops(n)
    if op_type == "ASSIGN":
        return assign_ops(team, n, players)
    return schedule_ops(team, n, facilities)


def print_table(results: list[dict], reference: float) -> None:
    header = (
        f"{'type':<9}{'ops':>8}{'workers':>8}{'chunk':>9}{'seconds':>9}{'submit s':>9}{'exec s':>8}"
        f"{'ops/s':>8}{'% raw':>7}{'rows/op':>8}{'peak RSS MB':>12}  status"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        share = 100 * r["rate"] / reference if r["type"] == "CREATE" else float("nan")
        print(
            f"{r['type']:<9}{r['ops']:>8}{r['workers']:>8}{r['chunk']!s:>9}{r['seconds']:>9.2f}"
            f"{r['submit']:>9.2f}{r['exec']:>8.2f}{r['rate']:>8.0f}{share:>7.1f}"
            f"{r['rows'] / r['ops']:>8.1f}{r['rss_mb']:>12.1f}  "
            f"{r['status']} ({r['ok']} ok, {r['failed']} failed)"
        )
    print(
        "\nops/s and % raw are measured from submitted to final (warm workers); seconds include the submit."
    )


def find(results: list[dict], op_type: str, ops: int, workers: int, chunk: object = None) -> dict | None:
    """Return the last matching run (the first 1,000-op run also warms the workers up)."""
    for r in reversed(results):
        if (r["type"], r["ops"], r["workers"]) == (op_type, ops, workers) and (
            chunk is None or r["chunk"] == chunk or (chunk == "auto" and str(r["chunk"]).startswith("auto"))
        ):
            return r
    return None


def print_ratios(results: list[dict], reference: float, big: int) -> None:
    """The issue's targets, each as measured in this run."""
    print(f"\nraw bulk_create reference: {reference:,.0f} rows/s (Workout rows, batch_size 1000)")
    lines = []
    c100k = find(results, "CREATE", 100_000, 2)
    if c100k:
        lines.append(("100k CREATE / raw bulk_create", c100k["rate"] / reference, ">= 0.50"))
    assign, create_half = find(results, "ASSIGN", big // 2, 2), find(results, "CREATE", big // 2, 2)
    if assign and create_half:
        lines.append(
            (
                f"{big // 2} ASSIGN time / {big // 2} CREATE time",
                assign["exec"] / create_half["exec"],
                "<= 1.5",
            )
        )
        per_row = (assign["exec"] / assign["rows"]) / (create_half["exec"] / create_half["rows"])
        rows_each = f"{assign['rows'] / assign['ops']:.0f} vs {create_half['rows'] / create_half['ops']:.0f}"
        lines.append((f"  the same per row written ({rows_each} per op)", per_row, "-"))
    auto, c500 = find(results, "CREATE", big, 2, "auto"), find(results, "CREATE", big, 2, 500)
    if auto and c500:
        lines.append((f"{big} CREATE default time / chunk 500 time", auto["exec"] / c500["exec"], "<= 1.3"))
    poisoned, p500 = find(results, "POISONED", 2 * big, 2), find(results, "CREATE", 2 * big, 2, 500)
    if poisoned and p500:
        lines.append(
            (
                f"{2 * big} CREATE after 10 tiny batches / chunk 500",
                poisoned["exec"] / p500["exec"],
                "<= 1.3",
            )
        )
    undo = find(results, "UNDO", big, 2)
    if undo:
        lines.append((f"undo of {big} UPDATE, ops/s", undo["rate"], ">= 2000"))
    c1k, c100 = find(results, "CREATE", 1_000, 2), find(results, "CREATE", 100_000, 2)
    if c1k and c100:
        lines.append(("peak worker RSS 100k / 1k", c100["rss_mb"] / c1k["rss_mb"], "<= 1.1"))
    for name, value, target in lines:
        print(f"{name:<42}{value:>9.2f}" + (f"   target {target}" if target != "-" else ""))


def poison_history(user, team, workers: Workers, batches: int = 10) -> None:
    """Ten 2-operation CREATE batches: the history that once taught the estimate 19.5 ms per CREATE."""
    for _ in range(batches):
        run(user, team, create_ops(2), workers=workers, chunk=None)
    from batch.selectors import costs

    costs._cost_cache = None  # this process learns now, not a minute later


def timed_command(args: list[str], *, stdout: Path | None = None) -> tuple[float, int, int]:
    """Run `manage.py ARGS` in its own process: (wall seconds, peak RSS bytes, exit code)."""
    code = (
        "import resource, subprocess, sys, time; out = open(sys.argv[1], 'wb'); t = time.monotonic(); "
        "r = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL); "
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
    )
    target = str(stdout) if stdout else os.devnull
    out = subprocess.run(
        [sys.executable, "-c", code, target, sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]) * 1024, int(out[2])


def end_to_end(user, team, n: int, workers: Workers) -> list[tuple[str, float, str]]:
    """What a user waits for, each next to raw bulk_create of the same n Workout rows (same run)."""
    from django.test import Client
    from django.urls import reverse

    reset(team)
    raw_seconds = n / bulk_create_reference(team, n)
    reset(team)
    rows: list[tuple[str, float, str]] = [(f"raw bulk_create of {n:,} workouts", raw_seconds, "reference")]
    with tempfile.TemporaryDirectory() as folder:
        request = Path(folder) / "big.json"
        request.write_text(json.dumps({"operations": create_ops(n), "options": {"chunkSize": 1000}}))
        size = request.stat().st_size
        # Start-up size of the command: a 10-operation submit.
        small = Path(folder) / "small.json"
        small.write_text(json.dumps({"operations": create_ops(10)}))
        as_bench = ["--user", "bench", "--team", "bench"]
        base_wall, base_rss, _ = timed_command(["batch_run", str(small), *as_bench])
        reset(team)
        wall, rss, code = timed_command(
            ["batch_run", str(request), *as_bench, "--wait", "--json"],
            stdout=Path(folder) / "out.json",
        )
        out = Path(folder) / "out.json"
        summary = json.loads(out.read_bytes())
        assert code == 0 and summary["summary"]["successful"] == n, (code, summary["summary"])
        batch = Batch.objects.get(pk=summary["id"])
        engine = (batch.finished_at - batch.started_at).total_seconds()
        rows.append((f"batch_run --wait --json ({out.stat().st_size / 2**20:.0f} MB out)", wall, "-"))
        rows.append(("  of which the engine (started to finished)", engine, "-"))
        rows.append(("  batch_run rate / raw rate", raw_seconds / wall, ">= 0.40"))
        status_wall, _, _ = timed_command(["batch_status", str(batch.pk), "--json"])
        rows.append(("batch_status --json", status_wall, "-"))
        rows.append(("  batch_status time / raw time", status_wall / raw_seconds, "<= 0.50"))
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        for label, url in (
            ("results CSV download (page)", reverse("batch:export", args=[batch.pk])),
            ("results JSON download (page)", reverse("batch:export_json", args=[batch.pk])),
        ):
            started = time.monotonic()
            response = client.get(url)
            body = b"".join(response.streaming_content)
            took = time.monotonic() - started
            assert response.status_code == 200 and len(body) > n * 20, (label, response.status_code)
            rows.append((label, took, "-"))
        reset(team)
        submit_wall, submit_rss, code = timed_command(["batch_run", str(request), *as_bench])
        assert code == 0
        growth = max(submit_rss - base_rss, 0)
        rows.append((f"submit of {n:,} (parse, dry run, store)", submit_wall - base_wall, "-"))
        rows.append(("  submit time / engine time", (submit_wall - base_wall) / engine, "<= 0.33"))
        rows.append((f"  submit peak RSS growth, MB (JSON {size / 2**20:.1f} MB)", growth / 2**20, "-"))
        rows.append(("  submit peak RSS growth / JSON size", growth / size, "<= 4"))
        # Let the workers finish the submitted batch before the next part truncates its tables.
        wait_final(Batch.objects.latest("pk").pk, workers)
    return rows


def print_end_to_end(rows: list[tuple[str, float, str]]) -> None:
    print(f"\n{'what a user waits for':<52}{'value':>10}")
    for name, value, target in rows:
        shown = f"   target {target}" if target not in ("-", "reference") else ""
        print(f"{name:<52}{value:>10.2f}{shown}")


def dry_run_memory(sizes: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Peak RSS of `manage.py batch_run FILE --dry-run` (its own process) per request size.

    Returns (operations, JSON bytes, peak RSS bytes). The growth from the smallest to a larger
    request, against that request's JSON size, is what submitting it holds in memory.
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"create-{n}.json"
            path.write_text(json.dumps({"operations": create_ops(n), "metadata": {"source": "bench"}}))
            code = (
                "import resource, subprocess, sys; "
                "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            )
            out = subprocess.run(
                [sys.executable, "-c", code, sys.executable, "manage.py", "batch_run", str(path)]
                + ["--user", "bench", "--team", "bench", "--dry-run"],
                cwd=ROOT,
                env=os.environ.copy(),
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            assert out[0] == "0", f"batch_run --dry-run of {n} operations exited {out[0]}"
            rows.append((n, path.stat().st_size, int(out[1]) * 1024))
    return rows


def print_dry_run_memory(rows: list[tuple[int, int, int]]) -> None:
    print(f"\n{'dry run':>8}{'JSON MB':>9}{'peak RSS MB':>13}{'growth MB':>11}{'growth/JSON':>13}")
    base = rows[0][2]
    for n, size, rss in rows:
        growth = rss - base
        print(f"{n:>8}{size / 2**20:>9.1f}{rss / 2**20:>13.1f}{growth / 2**20:>11.1f}{growth / size:>13.1f}")


def scale_out(user, team, n: int) -> None:
    """Throughput of one CREATE batch with 1, 2, 4 and 8 worker processes (maxConcurrency = workers)."""
    rows = []
    for count in (1, 2, 4, 8):
        reset(team)
        workers = Workers(count)
        try:
            rows.append(run(user, team, create_ops(n), workers=workers, chunk=None))
        finally:
            workers.stop()
        print(f"  {count} workers: {rows[-1]['exec']:.2f}s", flush=True)
    print(f"\n{'workers':>8}{'exec s':>8}{'ops/s':>8}{'vs 1':>7}")
    for r in rows:
        print(f"{r['workers']:>8}{r['exec']:>8.2f}{r['rate']:>8.0f}{r['rate'] / rows[0]['rate']:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run")
    parser.add_argument("--scale", action="store_true", help="Only the scale-out table (1, 2, 4, 8 workers)")
    parser.add_argument("--e2e", action="store_true", help="Only the end-to-end table (100k, 2 workers)")
    args = parser.parse_args()
    user, team, players, facilities = setup_club()
    big = 10_000 if not args.quick else 1_000
    if args.scale:
        scale_out(user, team, 2 * big)
        return
    e2e_size = 100_000 if not args.quick else 5_000
    if args.e2e:
        workers = Workers(2)
        try:
            rows = end_to_end(user, team, e2e_size, workers)
        finally:
            workers.stop()
        print_end_to_end(rows)
        return
    scenarios: list[tuple[str, int, int, int | None]] = [
        ("CREATE", 1_000, 2, None),
        ("CREATE", big, 1, 500),
        ("CREATE", big, 2, 500),
        ("CREATE", big, 2, None),
        ("CREATE", big, 2, 10),
        ("POISONED", 2 * big, 2, None),
        ("CREATE", 2 * big, 2, 500),
        ("CREATE", big // 2, 2, None),
        ("ASSIGN", big // 2, 2, None),
        ("SCHEDULE", big // 2, 2, None),
    ]
    if not args.quick:
        scenarios.append(("CREATE", 100_000, 2, None))
    results = []
    pools = {count: Workers(count) for count in sorted({w for _, _, w, _ in scenarios})}
    try:
        for op_type, n, count, chunk in scenarios:
            reset(team)
            if op_type == "POISONED":
                # A fresh history of tiny batches, then the big one with default options.
                poison_history(user, team, pools[count])
                results.append(
                    run(user, team, create_ops(n), workers=pools[count], chunk=None, label="POISONED")
                )
                reset(team)
            else:
                ops = build_ops(team, op_type, n, players, facilities)
                results.append(run(user, team, ops, workers=pools[count], chunk=chunk))
            r = results[-1]
            print(
                f"  ran {r['type']} {r['ops']} ops, {count} workers, chunk {r['chunk']}: {r['exec']:.2f}s",
                flush=True,
            )
        reset(team)
        results.append(run_undo(user, team, big, workers=pools[2]))
        print(f"  ran undo of {big} UPDATE: {results[-1]['exec']:.2f}s", flush=True)
        e2e = end_to_end(user, team, e2e_size, pools[2])
        print("  ran the end-to-end table", flush=True)
    finally:
        for pool in pools.values():
            pool.stop()
    reset(team)
    reference = bulk_create_reference(team, big)
    reset(team)
    memory = dry_run_memory((1_000, big, 100_000) if not args.quick else (100, 1_000))
    print_table(results, reference)
    print_ratios(results, reference, big)
    print_dry_run_memory(memory)
    print_end_to_end(e2e)


if __name__ == "__main__":
    main()
