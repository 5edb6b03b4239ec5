"""Automations run through a real RQ worker: the restriction job, the tick and the batches they submit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine

from batch.queueing import queue
from tests.batch.conftest import burst

CLUB = ZoneInfo("Europe/Stockholm")
# A Wednesday, mid-morning club time, far from any DST change.
WEDNESDAY = dt.datetime(2026, 12, 9, 10, 0, tzinfo=CLUB)


@pytest.fixture(autouse=True)
def _restriction_trigger_on(settings):
    settings.AUTOMATIONS_RESTRICTION_TRIGGER = True


@pytest.fixture
def rq_queue(transactional_db):
    q = queue()
    q.empty()
    yield q
    q.empty()


@pytest.fixture
def run_worker(rq_queue) -> Callable[[], None]:
    """An in-process burst SimpleWorker on the batch queue: runs jobs until the queue is empty."""
    return burst


@pytest.fixture
def wednesday() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(WEDNESDAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def run_batches(db) -> Callable[[], None]:
    """Run every unfinished batch in this process (the runner itself, inside the test's transaction)."""
    from tests.batch.conftest import run_unfinished

    return run_unfinished


@pytest.fixture
def submit(trainer, team):
    from batch.services import batch_submit

    def _submit(operations: list[dict], user=None, **options):
        raw = {"operations": operations, "options": options, "metadata": {"source": "test"}}
        return batch_submit(user=user or trainer, team=team, raw=raw, source="test")

    return _submit
