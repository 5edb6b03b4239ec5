"""Profile the engine in one process: where a chunk's time goes, and how many statements it sends.

Runs a batch of one workload with `run_batch` in this process (no worker, no Redis round trip), under
cProfile, and prints ops/s, statements per chunk by kind, and the functions that cost the most.

    source bin/_setup.sh && .venv/bin/python bench/profile_chunk.py ASSIGN [--ops 5000] [--chunk 500]

Workloads: CREATE, ASSIGN, SCHEDULE, UPDATE, UNDO (the undo of an UPDATE batch), DRYRUN (the dry run of
a CREATE request: time and peak Python memory). Uses the benchmark's database (<name>_bench).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import batch_bench  # noqa: E402  (sets up the bench database and Django)
from django.db import connection  # noqa: E402

from batch.models import Batch  # noqa: E402
from batch.runner import run_batch  # noqa: E402
from batch.services import batch_submit  # noqa: E402
from batch.undo import batch_undo  # noqa: E402
from batch.validation import batch_validate  # noqa: E402


class Statements:
    """Count the statements sent, by their first words (INSERT workouts_assignment, COPY …)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        words = re.findall(r"[A-Za-z_\"]+", sql)[:4]
        verb = words[0].upper() if words else "?"
        table = next((w.strip('"') for w in words[1:] if "_" in w), "")
        self.kinds[f"{verb} {table}".strip()] += 1
        return execute(sql, params, many, context)


def submit(user, team, ops, chunk):
    options = {"maxConcurrency": 1}
    if chunk:
        options["chunkSize"] = chunk
    raw = {"operations": ops, "options": options, "metadata": {"source": "profile"}}
    return batch_submit(user=user, team=team, raw=raw, source="profile")


def profile_run(batch: Batch, label: str, top: int) -> None:
    statements = Statements()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        profiler.enable()
        run_batch(batch_id=batch.pk)
        profiler.disable()
    seconds = time.perf_counter() - started
    batch.refresh_from_db()
    chunks = max(batch.total_chunks, 1)
    print(
        f"\n{label}: {batch.total_items} ops in {chunks} chunks, {seconds:.2f}s under the profiler "
        f"({batch.total_items / seconds:,.0f} ops/s), status {batch.status}, "
        f"{batch.succeeded} ok, {batch.failed} failed"
    )
    total = sum(statements.kinds.values())
    print(f"statements: {total} ({total / chunks:.1f} per chunk)")
    for kind, count in statements.kinds.most_common(30):
        print(f"  {count / chunks:>7.2f}/chunk  {kind}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["CREATE", "ASSIGN", "SCHEDULE", "UPDATE", "UNDO", "DRYRUN"])
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--chunk", type=int, default=None)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    user, team, players, facilities = batch_bench.setup_club()
    batch_bench.reset(team)
    if args.workload == "DRYRUN":
        ops = batch_bench.create_ops(args.ops)
        raw = {"operations": ops, "options": {}, "metadata": {"source": "profile"}}
        tracemalloc.start()
        started = time.perf_counter()
        batch_validate(user=user, team=team, raw=raw)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        size = len(__import__("json").dumps(raw))
        print(
            f"dry run of {args.ops} CREATE: {seconds:.2f}s (under tracemalloc), peak Python memory "
            f"{peak / 2**20:.1f} MB for {size / 2**20:.1f} MB of JSON ({peak / size:.1f}x)"
        )
        return
    if args.workload in ("UPDATE", "UNDO"):
        ids = batch_bench.seed_workouts(team, args.ops)
        ops = [
            {"id": f"u{i}", "type": "UPDATE", "data": {"workoutId": wid, "updates": {"notes": f"p {i}"}}}
            for i, wid in enumerate(ids)
        ]
    else:
        ops = batch_bench.build_ops(team, args.workload, args.ops, players, facilities)
    batch = submit(user, team, ops, args.chunk)
    if args.workload == "UNDO":
        run_batch(batch_id=batch.pk)
        batch = batch_undo(batch_id=batch.pk, user=user, channel="profile")
    profile_run(batch, args.workload, args.top)


if __name__ == "__main__":
    main()
