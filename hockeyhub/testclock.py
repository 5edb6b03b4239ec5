"""A pinned clock for the test suite, shared with the processes a test starts.

`TEST_CLOCK` names an instant (ISO 8601; club time when it carries no offset). The test suite pins every
test's clock there (`tests/conftest.py`, default: a weekday mid-morning) with time-machine, ticking on
from that instant. A test that starts a process (a worker, `batch_run`, `bin/run`) passes the clock on
through the environment: `TEST_CLOCK` plus `TEST_CLOCK_ANCHOR`, the real Unix time at which the test's
clock stood at `TEST_CLOCK`. The settings module calls `follow_environment()`, so the child's clock reads
the same as its parent's. Without `TEST_CLOCK_ANCHOR` nothing happens: a deployment never travels.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo

CLOCK = "TEST_CLOCK"
ANCHOR = "TEST_CLOCK_ANCHOR"


def instant(value: str, zone: str) -> dt.datetime:
    """Parse TEST_CLOCK: an aware instant, or a naive one read as club time (`zone`)."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{CLOCK}={value!r} is not an ISO 8601 instant such as 2027-03-28T01:30:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return moment


def follow_environment(zone: str) -> None:
    """In a process started by a test: travel to the parent's pinned clock and tick on from there."""
    value, anchor = os.environ.get(CLOCK), os.environ.get(ANCHOR)
    if not value or not anchor:
        return
    import time

    import time_machine  # a test dependency; only a test sets TEST_CLOCK_ANCHOR

    elapsed = max(time.time() - float(anchor), 0.0)
    time_machine.travel(instant(value, zone) + dt.timedelta(seconds=elapsed), tick=True).start()
