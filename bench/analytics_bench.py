"""Benchmark: the analytics pages and endpoints over a club's five seasons and a million batch items.

Seeds a throwaway database (<name>_analytics_bench) by COPY: 3 teams, 20,000 finished batches holding
1,000,000 items over five seasons, and five seasons of workouts with their assignments; rebuilds the
roll-ups (`analytics_rebuild`) and times it; times the finish hook for one 1,000-item batch; then prints
the median answer time of each page and endpoint (5 runs after a warm-up). Target: about 300 ms.

    .venv/bin/python bench/analytics_bench.py [--keep] [--items N]

The database is dropped at the end unless --keep (then a second run skips the seeding).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hockeyhub")
parts = urlsplit(base_url)
BENCH_DB = parts.path.lstrip("/") + "_analytics_bench"
os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DB))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hockeyhub.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import psycopg  # noqa: E402

ADMIN_URL = urlunsplit(parts._replace(path="/postgres"))


def create_database(keep: bool) -> bool:
    """Create the bench database; return True if it already existed (and --keep reuses it)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if exists and keep:
            return True
        if exists:
            conn.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return False


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


TYPES = ["CREATE", "UPDATE", "ASSIGN", "SCHEDULE", "DUPLICATE", "ARCHIVE", "DELETE", "TEMPLATE"]
ERRORS = [
    ("VERSION_CONFLICT", "Reload the workout and apply your change to its current version."),
    ("CONFLICT", "Pick other dates or another facility, or run with another conflict strategy."),
    ("MEDICAL_RESTRICTION", "Choose a safe alternative exercise or lower the load."),
    ("NOT_FOUND", "Check the workout id, or pick one from your team's list."),
    ("STOPPED_ON_ERROR", "Fix the failed item, retry it, then resume the batch to run the rest."),
    ("TRANSIENT_ERROR", "Retry the failed items when the conflicting work has finished."),
]
STATUS_WEIGHTS = [("SUCCEEDED", 88), ("FAILED", 5), ("SKIPPED", 3), ("CANCELLED", 2), ("CONFLICT", 2)]
FIRST_DAY = dt.datetime(2021, 12, 1, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=5 * 365)


def copy_rows(model, columns: list[str], rows) -> int:
    """COPY rows (tuples in `columns` order) into the model's table; return how many."""
    from django.db import connection

    table = model._meta.db_table
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def seed(total_items: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from psycopg.types.json import Jsonb

    from batch.models import Batch, BatchItem
    from workouts.models import Assignment, Membership, Player, Team, Workout

    call_command("migrate", verbosity=0)
    rng = random.Random(2026)
    User = get_user_model()
    staff = User.objects.create(username="staff", is_staff=True, is_superuser=True)
    teams, trainers = [], {}
    for i, name in enumerate(["Hawks", "Lynx", "Bears"]):
        team = Team.objects.create(name=name, slug=name.lower(), season="2026-27")
        teams.append(team)
        users = [User.objects.create(username=f"{name.lower()}{n}") for n in range(2)]
        for u in users:
            Membership.objects.create(user=u, team=team, role="trainer")
        trainers[team.pk] = users
        Player.objects.bulk_create(
            Player(team=team, first_name=f"P{i}", last_name=str(n), jersey_number=n, position="F")
            for n in range(1, 26)
        )
    print(f"  users and teams; staff user {staff.username}")

    # Batches and their items: COPY, ids given here so items can point at them.
    started = time.monotonic()
    batch_rows, item_rows = [], []
    left, batch_id = total_items, 0
    codes = [c for c, _ in ERRORS]
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]

    def items_of(bid: int, n: int, created: dt.datetime, types: list[str]):
        counts = dict.fromkeys(["SUCCEEDED", "FAILED", "SKIPPED", "CANCELLED", "CONFLICT"], 0)
        for seq in range(n):
            status = rng.choice(statuses)
            counts[status] += 1
            error = None
            if status != "SUCCEEDED":
                code = rng.choice(codes)
                error = Jsonb({"code": code, "message": "x", "suggestedAction": dict(ERRORS)[code]})
            ran = status in ("SUCCEEDED", "FAILED", "CONFLICT")
            item_rows.append(
                (
                    bid,
                    seq,
                    f"op-{seq}",
                    rng.choice(types),
                    Jsonb({}),
                    0,
                    [],
                    [],
                    "",
                    Jsonb({}),
                    0,
                    status,
                    1 if ran else 0,
                    None,
                    error,
                    Jsonb([]),
                    created,
                    rng.uniform(0.2, 3.0) if ran else None,
                )
            )
        return counts

    item_columns = [
        "batch_id",
        "seq",
        "op_id",
        "type",
        "data",
        "priority",
        "dependencies",
        "depends_on",
        "conflict_resolution",
        "metadata",
        "retry_count",
        "status",
        "attempts",
        "result",
        "error",
        "warnings",
        "finished_at",
        "duration_ms",
    ]
    batch_columns = [
        "id",
        "team_id",
        "created_by_id",
        "kind",
        "status",
        "description",
        "source",
        "request_id",
        "payload_hash",
        "options",
        "metadata",
        "estimate",
        "error",
        "total_items",
        "succeeded",
        "failed",
        "skipped",
        "cancelled",
        "conflicted",
        "total_chunks",
        "done_chunks",
        "runner_slots",
        "created_at",
        "queued_at",
        "started_at",
        "finished_at",
        "undo_deadline",
    ]
    written_items = 0
    while left > 0:
        batch_id += 1
        n = min(left, rng.randint(1, 99))
        left -= n
        team = rng.choice(teams)
        created = FIRST_DAY + SPAN * rng.random()
        types = rng.sample(TYPES, rng.randint(1, 2))
        counts = items_of(batch_id, n, created, types)
        bad = counts["FAILED"] + counts["CONFLICT"]
        status = (
            "COMPLETED" if not bad else ("FAILED" if not counts["SUCCEEDED"] else "COMPLETED_WITH_ERRORS")
        )
        start = created + dt.timedelta(milliseconds=rng.randint(5, 500))
        end = start + dt.timedelta(milliseconds=n * rng.uniform(1, 4) + 20)
        source = "automation" if rng.random() < 0.2 else "web"
        estimate = {"seconds": round(n * 0.002 + 0.05, 2), "perTypeMs": dict.fromkeys(types, 1.0)}
        batch_rows.append(
            (
                batch_id,
                team.pk,
                rng.choice(trainers[team.pk]).pk,
                "normal",
                status,
                "",
                source,
                "",
                "",
                Jsonb({}),
                Jsonb({}),
                Jsonb(estimate),
                Jsonb({}),
                n,
                counts["SUCCEEDED"],
                counts["FAILED"],
                counts["SKIPPED"],
                counts["CANCELLED"],
                counts["CONFLICT"],
                1,
                1,
                1,
                created,
                created,
                start,
                end,
                end + dt.timedelta(hours=24),
            )
        )
        if len(item_rows) >= 100_000 or left == 0:
            copy_rows(Batch, batch_columns, batch_rows)
            written_items += copy_rows(BatchItem, item_columns, item_rows)
            batch_rows.clear()
            item_rows.clear()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('batch_batch', 'id'), %s)", [batch_id])
        cursor.execute("ANALYZE")
    print(f"  {batch_id} batches, {written_items} items by COPY in {time.monotonic() - started:.1f}s")

    # Five seasons of workouts: five sessions a week per team, every player assigned.
    started = time.monotonic()
    workouts = []
    for team in teams:
        day = FIRST_DAY.date()
        while day < (FIRST_DAY + SPAN).date():
            if day.weekday() < 5:
                start = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
                workouts.append(
                    Workout(
                        team=team,
                        name=f"{team.name} {day}",
                        type="STRENGTH",
                        status="scheduled",
                        scheduled_start=start,
                        scheduled_end=start + dt.timedelta(minutes=rng.choice([45, 60, 90])),
                    )
                )
            day += dt.timedelta(days=1)
    Workout.objects.bulk_create(workouts, batch_size=5000)
    players = {t.pk: list(Player.objects.filter(team=t).values_list("pk", flat=True)) for t in teams}
    now = dt.datetime.now(dt.UTC)
    booked = list(Workout.objects.values_list("pk", "team_id"))  # not a cursor: COPY holds the connection
    assignment_rows = (
        (
            pk,
            p,
            "participant",
            rng.choice([60, 80, 100, 120]),
            "assigned",
            "unchecked",
            Jsonb([]),
            1,
            now,
            now,
        )
        for pk, team_id in booked
        for p in players[team_id]
    )
    n = copy_rows(
        Assignment,
        [
            "workout_id",
            "player_id",
            "role",
            "load_percent",
            "status",
            "medical_verdict",
            "modifications",
            "version",
            "created_at",
            "updated_at",
        ],
        assignment_rows,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  {len(workouts)} workouts, {n} assignments in {time.monotonic() - started:.1f}s")


def timed(fn, runs: int = 5) -> float:
    fn()  # warm-up: caches, plans, the first connection
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args()
    reused = create_database(args.keep)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from analytics.services import batch_rollups_refresh, rollups_rebuild
    from batch.models import Batch, BatchItem

    setup_test_environment()  # lets the test client's "testserver" host in
    try:
        if not reused:
            print(f"Seeding {BENCH_DB}:")
            seed(args.items)
            started = time.monotonic()
            report = rollups_rebuild()
            print(
                f"  analytics_rebuild: {report.batches} batches, {report.rows} roll-up rows "
                f"in {time.monotonic() - started:.1f}s"
            )
        from django.db import connection

        with connection.cursor() as cursor:  # as autovacuum would have, on a live install
            cursor.execute(
                "VACUUM ANALYZE analytics_batchrollup, analytics_batchtyperollup, analytics_batcherrorrollup"
            )
        big = Batch.objects.order_by("-total_items").values_list("pk", "total_items").first()
        finish_ms = timed(lambda: batch_rollups_refresh(batch_ids=[big[0]]))
        print(f"  finish hook (roll one {big[1]}-item batch up): {finish_ms:.1f} ms")
        print(f"  items in the database: {BatchItem.objects.count():,}")

        User = get_user_model()
        staff, trainer = User.objects.get(username="staff"), User.objects.get(username="hawks0")
        clients = {}
        for user in (staff, trainer):
            client = Client()
            client.force_login(user)
            clients[user.username] = client
        season = {"from": "2025-08-01", "to": "2026-07-31"}
        five = {"from": "2021-12-01", "to": "2026-11-30"}
        cases = [
            ("page  /analytics/ (trainer, 8 weeks)", "hawks0", "/analytics/", {"to": "2026-11-30"}, {}),
            ("page  /analytics/ (trainer, season, by week)", "hawks0", "/analytics/", season, {}),
            (
                "page  /analytics/ (staff, club, season, by day)",
                "staff",
                "/analytics/",
                {**season, "group": "day"},
                {},
            ),
            (
                "page  /analytics/ htmx (staff, season, by type)",
                "staff",
                "/analytics/",
                {**season, "group": "type"},
                {"HX-Request": "true"},
            ),
            (
                "page  /analytics/ (staff, 5 seasons, by user)",
                "staff",
                "/analytics/",
                {**five, "group": "user"},
                {},
            ),
            (
                "csv   series (staff, 5 seasons, by day)",
                "staff",
                "/analytics/series.csv",
                {**five, "group": "day"},
                {},
            ),
            ("csv   load-players (staff, club, season)", "staff", "/analytics/load-players.csv", season, {}),
            (
                "api   analytics/batches groupBy=day (staff, season)",
                "staff",
                "/api/v1/analytics/batches",
                {**season, "groupBy": "day"},
                {},
            ),
            (
                "api   analytics/batches groupBy=week (staff, 5 seasons)",
                "staff",
                "/api/v1/analytics/batches",
                {**five, "groupBy": "week"},
                {},
            ),
            (
                "api   analytics/batches groupBy=type (trainer, season)",
                "hawks0",
                "/api/v1/analytics/batches",
                {**season, "groupBy": "type"},
                {},
            ),
            (
                "api   analytics/batches groupBy=user (staff, 5 seasons)",
                "staff",
                "/api/v1/analytics/batches",
                {**five, "groupBy": "user"},
                {},
            ),
            ("api   analytics/load (trainer, season)", "hawks0", "/api/v1/analytics/load", season, {}),
            ("api   analytics/load (staff, club, season)", "staff", "/api/v1/analytics/load", season, {}),
        ]
        print(f"\n{'what':58} {'median ms':>10} {'status':>7}")
        for label, who, path, params, headers in cases:
            client = clients[who]
            status = client.get(path, params, headers=headers).status_code
            ms = timed(lambda c=client, p=path, q=params, h=headers: c.get(p, q, headers=h))
            print(f"{label:58} {ms:10.1f} {status:7}")
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
