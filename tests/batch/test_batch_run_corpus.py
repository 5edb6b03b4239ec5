"""A corpus of malformed request files through `manage.py batch_run` in a real process.

Each must end with exit status 2 and a clear one-line message first on stderr: no traceback, no
hang (every run has a timeout), nothing written. The corpus is generated here so every case reads
as what it tries; tests/batch/corpus/ would only hold the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.core.management import ManagementUtility

from batch.models import Batch
from tests.batch.conftest import ROOT, worker_env
from tests.factories import PlayerFactory, WorkoutFactory

TIMEOUT = 60
HUGE = 10**20


def _op(type_: str, data, **extra) -> dict:
    return {"id": extra.pop("id", "op-1"), "type": type_, "data": data, **extra}


def _req(*operations, **top) -> dict:
    return {"operations": list(operations), **top}


def _structural() -> dict[str, object]:
    """Request-shaped JSON with something wrong at every level."""
    w = {"workoutId": 1}
    cases: dict[str, object] = {
        "top-array": [1, 2],
        "top-string": "operations",
        "top-number": 42,
        "top-null": None,
        "top-empty-object": {},
        "top-unknown-key": {"operations": [_op("DELETE", w)], "extra": 1},
        "operations-null": {"operations": None},
        "operations-object": {"operations": {"a": 1}},
        "operations-string": {"operations": "DELETE everything"},
        "operations-empty": {"operations": []},
        "operations-scalars": {"operations": [1, "a", None, [], True]},
        "op-no-id": _req({"type": "DELETE", "data": w}),
        "op-id-number": _req({"id": 5, "type": "DELETE", "data": w}),
        "op-id-empty": _req(_op("DELETE", w, id="")),
        "op-id-overlong": _req(_op("DELETE", w, id="x" * 5000)),
        "op-type-number": _req(_op(7, w)),
        "op-type-unknown": _req(_op("DESTROY", w)),
        "op-type-internal-revert": _req(_op("REVERT", {"changeId": 1})),
        "op-type-lowercase": _req(_op("delete", w)),
        "op-data-list": _req(_op("DELETE", [1])),
        "op-data-string": _req(_op("DELETE", "workout 1")),
        "op-data-null": _req(_op("DELETE", None)),
        "op-priority-string": _req(_op("DELETE", w, priority="high")),
        "op-priority-float": _req(_op("DELETE", w, priority=1.5)),
        "op-priority-huge": _req(_op("DELETE", w, priority=HUGE)),
        "op-priority-bool": _req(_op("DELETE", w, priority=True)),
        "op-deps-string": _req(_op("DELETE", w, dependencies="op-0")),
        "op-deps-ints": _req(_op("DELETE", w, dependencies=[1, 2])),
        "op-deps-unknown": _req(_op("DELETE", w, dependencies=["ghost"])),
        "op-deps-self": _req(_op("DELETE", w, dependencies=["op-1"])),
        "op-conflict-bad": _req(_op("DELETE", w, conflictResolution="PANIC")),
        "op-unknown-key": _req(_op("DELETE", w, when="now")),
        "cycle-two": _req(
            _op("DELETE", w, id="a", dependencies=["b"]), _op("DELETE", w, id="b", dependencies=["a"])
        ),
        "cycle-long": _req(
            *[_op("DELETE", w, id=f"n{i}", dependencies=[f"n{(i + 1) % 500}"]) for i in range(500)]
        ),
        "duplicate-ids": _req(_op("DELETE", w), _op("DELETE", w)),
        "ref-unknown": _req(_op("ASSIGN", {"workoutId": {"$ref": "ghost"}, "assignments": []})),
        "ref-without-dependency": _req(
            _op("DELETE", w, id="a"), _op("ARCHIVE", {"workoutId": {"$ref": "a"}}, id="b")
        ),
        "ref-not-a-string": _req(_op("ARCHIVE", {"workoutId": {"$ref": 5}})),
        "options-list": _req(_op("DELETE", w), options=[1]),
        "options-bool": _req(_op("DELETE", w), options=True),
        "options-wrong-types": _req(
            _op("DELETE", w),
            options={
                "parallel": "yes",
                "maxConcurrency": "5",
                "chunkSize": 1.5,
                "stopOnError": 1,
                "retryAttempts": None,
                "conflictResolution": 5,
            },
        ),
        "options-huge": _req(_op("DELETE", w), options={"maxConcurrency": HUGE, "chunkSize": HUGE}),
        "options-negative": _req(_op("DELETE", w), options={"chunkSize": -1, "retryAttempts": -(10**9)}),
        "options-unknown": _req(_op("DELETE", w), options={"turbo": True}),
        "metadata-list": _req(_op("DELETE", w), metadata=["a"]),
        "metadata-request-id-number": _req(_op("DELETE", w), metadata={"requestId": 5}),
        "metadata-request-id-overlong": _req(_op("DELETE", w), metadata={"requestId": "r" * 10_000}),
        "metadata-tags-string": _req(_op("DELETE", w), metadata={"tags": "a,b"}),
        "metadata-tags-ints": _req(_op("DELETE", w), metadata={"tags": [1, 2]}),
        "metadata-unknown": _req(_op("DELETE", w), metadata={"owner": "me"}),
        "nul-in-id": _req(_op("DELETE", w, id="a\u0000b")),
        "nul-in-data": _req(_op("UPDATE", {"workoutId": 1, "updates": {"name": "x\u0000y"}})),
        "lone-surrogate": '{"operations": [{"id": "\\ud800", "type": "DELETE", "data": {"workoutId": 1}}]}',
    }
    return cases


def _wrong_data(workout_id: int, player_id: int) -> dict[str, object]:
    """Every operation type with its data wrong: types, ranges, dates far outside the calendar."""
    far = "9999-12-31T23:59:59+00:00"
    early = "0001-01-01T00:00:00+00:00"
    cases = {
        "create-wrong-types": _op(
            "CREATE",
            {
                "workout": {"name": 5, "type": [], "scheduledStart": 5, "intensity": "hard"},
                "exercises": "all",
            },
        ),
        "create-far-future": _op(
            "CREATE", {"workout": {"name": "x", "scheduledStart": far, "scheduledEnd": far}}
        ),
        "create-year-one": _op("CREATE", {"workout": {"name": "x", "scheduledStart": early}}),
        "create-bad-date": _op("CREATE", {"workout": {"name": "x", "scheduledStart": "next tuesday"}}),
        "create-huge-ids": _op(
            "CREATE",
            {
                "workout": {"name": "x", "facilityId": HUGE},
                "templateId": HUGE,
                "exercises": [{"exerciseId": HUGE, "sets": HUGE}],
                "assignments": [{"playerId": HUGE, "loadPercent": HUGE}],
            },
        ),
        "create-schedule-wrong": _op("CREATE", {"workout": {"name": "x"}, "schedule": {"start": far}}),
        "update-wrong-types": _op(
            "UPDATE", {"workoutId": "one", "updates": "everything", "expectedVersion": "1"}
        ),
        "update-far-dates": _op(
            "UPDATE", {"workoutId": workout_id, "updates": {"scheduledStart": far, "scheduledEnd": early}}
        ),
        "update-huge-numbers": _op(
            "UPDATE", {"workoutId": workout_id, "updates": {"intensity": HUGE}, "expectedVersion": HUGE}
        ),
        "update-huge-workout-id": _op("UPDATE", {"workoutId": HUGE, "updates": {"name": "x"}}),
        "update-negative-id": _op("UPDATE", {"workoutId": -1, "updates": {"name": "x"}}),
        "update-overlong": _op("UPDATE", {"workoutId": workout_id, "updates": {"notes": "n" * 100_000}}),
        "delete-wrong-types": _op("DELETE", {"workoutId": [workout_id], "permanent": "yes"}),
        "delete-float-id": _op("DELETE", {"workoutId": 1.0}),
        "archive-wrong-types": _op("ARCHIVE", {"workoutId": True, "restore": "no"}),
        "assign-wrong-types": _op("ASSIGN", {"workoutId": workout_id, "assignments": "everyone"}),
        "assign-wrong-items": _op("ASSIGN", {"workoutId": workout_id, "assignments": [5, "a", None]}),
        "assign-huge": _op(
            "ASSIGN",
            {
                "workoutId": workout_id,
                "assignments": [{"playerId": player_id, "loadPercent": HUGE, "role": 5}],
            },
        ),
        "assign-too-many": _op(
            "ASSIGN", {"workoutId": workout_id, "assignments": [{"playerId": player_id}] * 5000}
        ),
        "schedule-far-future": _op("SCHEDULE", {"workoutId": workout_id, "start": far}),
        "schedule-year-one": _op("SCHEDULE", {"workoutId": workout_id, "start": early}),
        "schedule-recurrence-wrong": _op(
            "SCHEDULE",
            {
                "workoutId": workout_id,
                "start": "2026-12-01T09:00:00+01:00",
                "recurrence": {"frequency": "hourly", "count": HUGE, "weekdays": "MO", "until": far},
            },
        ),
        "schedule-recurrence-far-until": _op(
            "SCHEDULE",
            {
                "workoutId": workout_id,
                "start": "2026-12-01T09:00:00+01:00",
                "recurrence": {"frequency": "daily", "until": "9999-12-31", "exceptions": ["0000-00-00"]},
            },
        ),
        "schedule-recurrence-weekday-junk": _op(
            "SCHEDULE",
            {
                "workoutId": workout_id,
                "start": "2026-12-01T09:00:00+01:00",
                "recurrence": {"frequency": "weekly", "count": 3, "weekdays": [1, None, "XX"]},
            },
        ),
        "duplicate-wrong-types": _op(
            "DUPLICATE", {"workoutId": workout_id, "count": "many", "dateShiftDays": []}
        ),
        "duplicate-huge": _op("DUPLICATE", {"workoutId": workout_id, "count": HUGE, "dateShiftDays": HUGE}),
        "duplicate-modifications-junk": _op(
            "DUPLICATE", {"workoutId": workout_id, "count": 1, "modifications": {"intensity": "x", "type": 5}}
        ),
        "template-wrong-types": _op(
            "TEMPLATE", {"workoutIds": "all", "name": 5, "category": 5, "visibility": 5}
        ),
        "template-huge-ids": _op(
            "TEMPLATE",
            {"workoutIds": [HUGE, -1, "x"], "name": "t", "category": "strength", "visibility": "team"},
        ),
        "template-too-many-tags": _op(
            "TEMPLATE",
            {
                "workoutIds": [workout_id],
                "name": "t",
                "category": "strength",
                "visibility": "team",
                "tags": ["t"] * 1000,
            },
        ),
    }
    return {name: _req(op) for name, op in cases.items()}


def _write(path: Path, content: object) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def _corpus(tmp_path: Path, workout_id: int, player_id: int) -> dict[str, Path]:
    files: dict[str, Path] = {}
    valid_shape = json.dumps(_req(_op("DELETE", {"workoutId": HUGE})))
    raw: dict[str, object] = {
        "empty": b"",
        "whitespace": b" \n\t ",
        "not-json": b"hello, batch",
        "truncated": b'{"operations": [{"id": "a", "type": "DEL',
        "trailing-garbage": b'{"operations": []} and more',
        "single-quotes": b"{'operations': []}",
        "comments": b'// a request\n{"operations": []}',
        "binary": bytes(range(256)) * 4,
        "latin-1": '{"operations": [{"id": "caf\u00e9", "type": "DELETE"}]}'.encode("latin-1"),
        "utf-16-bom": valid_shape.encode("utf-16"),
        "utf-16-no-bom": valid_shape.encode("utf-16-le"),
        "utf-32": valid_shape.encode("utf-32"),
        "utf-8-bom-invalid-request": b"\xef\xbb\xbf" + valid_shape.encode(),
        "nan": b'{"operations": [{"id": "a", "type": "DELETE", "data": {"workoutId": NaN}}]}',
        "infinity": b'{"operations": [], "options": {"chunkSize": Infinity}}',
        "minus-infinity": b'{"operations": [], "options": {"chunkSize": -Infinity}}',
        "float-overflow": b'{"operations": [], "options": {"chunkSize": 1e999}}',
        "int-5000-digits": b'{"operations": [], "options": {"chunkSize": ' + b"9" * 5000 + b"}}",
        "int-40-digits": b'{"operations": [{"id": "a", "type": "DELETE", "priority": ' + b"9" * 40 + b"}]}",
        "deep-100000": b"[" * 100_000 + b"]" * 100_000,
        "deep-2000-in-data": b'{"operations": [{"id": "a", "type": "UPDATE", "data": '
        + b'{"x": ' * 2000
        + b"1"
        + b"}" * 2000
        + b"}]}",
        "deep-100-in-data": b'{"operations": [{"id": "a", "type": "UPDATE", "data": '
        + b"[" * 100
        + b"]" * 100
        + b"}]}",
        "over-the-operation-limit": (
            b'{"operations": ['
            + b",".join(
                b'{"id": "o%d", "type": "DELETE", "data": {"workoutId": 1}}' % i for i in range(100_001)
            )
            + b"]}"
        ),
        "million-operations-claimed-not-given": b'{"operations": [' + b"{}," * 1_000_000 + b"{}]}",
    }
    for name, content in {**raw, **_structural(), **_wrong_data(workout_id, player_id)}.items():
        files[name] = _write(tmp_path / f"{name}.json", content)
    files["missing-file"] = tmp_path / "does-not-exist.json"
    directory = tmp_path / "a-directory.json"
    directory.mkdir()
    files["directory"] = directory
    files["dev-null"] = Path(os.devnull)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    files["fifo"] = fifo
    unreadable = _write(tmp_path / "unreadable.json", _req(_op("DELETE", {"workoutId": 1})))
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads anything; the case only means something for other users
        files["unreadable"] = unreadable
    return files


def _run(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the command in a real process (the interpreter's own exit path, a real timeout)."""
    args = [sys.executable, "manage.py", "batch_run", str(path), "--user", "alice", "--team", "hawks", *extra]
    try:
        return subprocess.run(
            args, cwd=ROOT, env=worker_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(args, returncode=-1, stdout="", stderr=f"HUNG: {exc}")


def _run_here(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the command as manage.py would, in this process: the same argv parsing, CommandError
    handling and sys.exit, without a Python start-up per file. An escaping exception is a traceback."""
    args = ["manage.py", "batch_run", str(path), "--user", "alice", "--team", "hawks", *extra]
    out, err = io.StringIO(), io.StringIO()

    def hung(signum, frame):
        raise TimeoutError(f"no answer within {TIMEOUT}s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            ManagementUtility(args).execute()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except TimeoutError as exc:
        return subprocess.CompletedProcess(args, returncode=-1, stdout="", stderr=f"HUNG: {exc}")
    except Exception:  # noqa: BLE001 - what a real process would print as a traceback
        err.write(traceback.format_exc())
        code = 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return subprocess.CompletedProcess(args, returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


# These run in a real process too, plain and as a dry run: a refusal must reach the shell as exit 2
# whatever path it takes (the FIFO would block a reader forever; only a process shows it does not).
IN_A_PROCESS = ("not-json", "top-array", "cycle-two", "update-far-dates", "nul-in-id", "fifo")


def test_every_malformed_request_file_exits_2_with_one_clear_line(
    transactional_db, trainer, team, tmp_path, capsys
):
    workout = WorkoutFactory(team=team)
    player = PlayerFactory(team=team)
    corpus = _corpus(tmp_path, workout.pk, player.pk)
    here = [(name, path) for name, path in corpus.items() if name not in IN_A_PROCESS]
    results = [_run_here(path) for _, path in here]
    runs = list(here)
    processes = [(name, corpus[name], []) for name in IN_A_PROCESS]
    processes += [(f"{name} --dry-run", corpus[name], ["--dry-run"]) for name in IN_A_PROCESS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results += list(pool.map(lambda run: _run(run[1], *run[2]), processes))
    runs += [(name, path) for name, path, _ in processes]
    problems = []
    tracebacks = hangs = 0
    for (name, _), result in zip(runs, results, strict=True):
        output = result.stderr + result.stdout
        if "Traceback" in output:
            tracebacks += 1
        if result.returncode == -1:
            hangs += 1
        message = (result.stderr or result.stdout).strip().splitlines()[:1]
        if result.returncode != 2 or "Traceback" in output or not message or len(message[0]) > 400:
            problems.append(f"{name}: exit {result.returncode}: {output.strip()[-600:]}")
    with capsys.disabled():
        print(
            f"\nbatch_run corpus: {len(runs)} runs ({len(corpus)} files; {len(processes)} in a process of "
            f"their own), {tracebacks} tracebacks, {hangs} hangs"
        )
    assert not problems, "\n".join(problems)
    assert not Batch.objects.exists()
