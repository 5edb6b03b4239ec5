"""Batches written row by row at chosen instants, and the same figures the dashboard shows, computed
straight from those rows (Batch and BatchItem, the club's zone read with zoneinfo) to compare with."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model

from batch.models import Batch, BatchItem
from tests.batch.conftest import rq_queue, run_batches, submit, workers  # noqa: F401 - engine fixtures
from tests.factories import MembershipFactory, TeamFactory
from workouts.models import Membership

User = get_user_model()
ITEM_FIELDS = ("succeeded", "failed", "skipped", "cancelled", "conflicted")
ZONE = ZoneInfo("Europe/Stockholm")
UTC = dt.UTC
TYPES = ["UPDATE", "ASSIGN", "SCHEDULE", "DUPLICATE"]
ERRORS = [
    ("VERSION_CONFLICT", "Reload the workout and apply your change to its current version."),
    ("CONFLICT", "Pick other dates or another facility, or run with another conflict strategy."),
    ("MEDICAL_RESTRICTION", "Choose a safe alternative exercise."),
    ("STOPPED_ON_ERROR", "Fix the failed item, retry it, then resume the batch to run the rest."),
]

# Instants around the club's calendar edges (all UTC): the spring-forward night (2026-03-29, 02:00 CET
# -> 03:00 CEST), the fall-back night (2026-10-25, 03:00 CEST -> 02:00 CET, the hour 02:xx twice) and
# the year end (2026-12-31 -> 2027-01-01, ISO week 53 of 2026 running into 2027).
EDGES = [
    dt.datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 CET Saturday
    dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 01:59 CET Sunday
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST Sunday
    dt.datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 CEST Sunday
    dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 00:00 CEST Monday (new ISO week)
    dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 CEST Sunday
    dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST (first time)
    dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET (second time)
    dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC),  # 23:59 CET Sunday
    dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC),  # 00:00 CET Monday
    dt.datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC),  # 23:59:59 CET 31 Dec
    dt.datetime(2026, 12, 31, 23, 0, tzinfo=UTC),  # 00:00 CET 1 Jan 2027
    dt.datetime(2027, 1, 3, 22, 59, tzinfo=UTC),  # 23:59 Sunday 3 Jan 2027 (still ISO week 53)
    dt.datetime(2027, 1, 3, 23, 0, tzinfo=UTC),  # 00:00 Monday 4 Jan 2027 (ISO week 1)
]


@dataclass
class Club:
    hawks: object
    lynx: object
    alice: object  # trainer of the hawks
    erik: object  # another trainer of the hawks
    bob: object  # trainer of the lynx
    staff: object
    batches: list


def final_status(ok: int, bad: int) -> str:
    if bad == 0:
        return Batch.Status.COMPLETED
    return Batch.Status.FAILED if ok == 0 else Batch.Status.COMPLETED_WITH_ERRORS


def write_batch(
    *, team, user, instant: dt.datetime, rng: random.Random, source: str = "web", **extra
) -> Batch:
    """A finished batch created at `instant` with random items, written straight to the tables."""
    with time_machine.travel(instant, tick=False):
        batch = Batch.objects.create(team=team, created_by=user, source=source, options={}, **extra)
    n = rng.randint(1, 12)
    types = rng.sample(TYPES, rng.randint(1, 3))
    items, counts = [], defaultdict(int)
    for seq in range(n):
        status = rng.choice(
            [BatchItem.Status.SUCCEEDED] * 5
            + [
                BatchItem.Status.FAILED,
                BatchItem.Status.SKIPPED,
                BatchItem.Status.CANCELLED,
                BatchItem.Status.CONFLICT,
            ]
        )
        error = None
        if status != BatchItem.Status.SUCCEEDED:
            code, action = rng.choice(ERRORS)
            if rng.random() < 0.3:
                action = f"Fix op-{seq} first, then retry the failed items."
            error = {"code": code, "message": "no", "suggestedAction": action}
        ran = status in (BatchItem.Status.SUCCEEDED, BatchItem.Status.FAILED, BatchItem.Status.CONFLICT)
        items.append(
            BatchItem(
                batch=batch,
                seq=seq,
                op_id=f"op-{seq}",
                type=rng.choice(types),
                status=status,
                error=error,
                duration_ms=round(rng.uniform(0.2, 30.0), 3) if ran else None,
            )
        )
        counts[status] += 1
    BatchItem.objects.bulk_create(items)
    ok, bad = (
        counts[BatchItem.Status.SUCCEEDED],
        counts[BatchItem.Status.FAILED] + counts[BatchItem.Status.CONFLICT],
    )
    started = instant + dt.timedelta(milliseconds=rng.randint(5, 900))
    finished = started + dt.timedelta(milliseconds=rng.randint(50, 60_000))
    Batch.objects.filter(pk=batch.pk).update(
        status=final_status(ok, bad),
        total_items=n,
        succeeded=ok,
        failed=counts[BatchItem.Status.FAILED],
        skipped=counts[BatchItem.Status.SKIPPED],
        cancelled=counts[BatchItem.Status.CANCELLED],
        conflicted=counts[BatchItem.Status.CONFLICT],
        started_at=started,
        finished_at=finished,
        estimate={
            "seconds": round(rng.uniform(0.05, 40), 2),
            "perTypeMs": {t: rng.choice([0.4, 1.0, 1.5]) for t in types},
        },
    )
    batch.refresh_from_db()
    return batch


@pytest.fixture
def club(db) -> Club:
    hawks = TeamFactory(name="Frölunda Hawks", slug="hawks")
    lynx = TeamFactory(name="Luleå Lynx", slug="lynx")
    # No passwords: hashing one costs more than the rest of the fixture; tests log in with force_login.
    alice, erik, bob = (User.objects.create(username=u) for u in ("alice", "erik", "bob"))
    MembershipFactory(user=alice, team=hawks, role=Membership.Role.TRAINER)
    MembershipFactory(user=erik, team=hawks, role=Membership.Role.TRAINER)
    MembershipFactory(user=bob, team=lynx, role=Membership.Role.TRAINER)
    staff = User.objects.create(username="dana", is_staff=True, is_superuser=True)
    rng = random.Random(23)
    batches = []
    for instant in EDGES:
        for team, users in ((hawks, (alice, erik)), (lynx, (bob,))):
            for _ in range(rng.randint(1, 3)):
                source = "automation" if rng.random() < 0.25 else "web"
                batches.append(
                    write_batch(team=team, user=rng.choice(users), instant=instant, rng=rng, source=source)
                )
    # Follow-ups: a retry of one, an undo of another (their original is marked UNDONE).
    with_errors = [b for b in batches if b.status != Batch.Status.COMPLETED]
    retried, undone = with_errors[0], with_errors[1]
    batches.append(
        write_batch(
            team=retried.team,
            user=retried.created_by,
            instant=EDGES[2] + dt.timedelta(minutes=5),
            rng=rng,
            kind=Batch.Kind.RETRY,
            retry_of=retried,
        )
    )
    batches.append(
        write_batch(
            team=undone.team,
            user=undone.created_by,
            instant=EDGES[7] + dt.timedelta(minutes=5),
            rng=rng,
            kind=Batch.Kind.UNDO,
            undo_of=undone,
        )
    )
    Batch.objects.filter(pk=undone.pk).update(status=Batch.Status.UNDONE)
    return Club(hawks=hawks, lynx=lynx, alice=alice, erik=erik, bob=bob, staff=staff, batches=batches)


# -- the same figures, straight from the rows -----------------------------------------------------------


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(ZONE).date()


def percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont: linear interpolation at rank fraction * (n - 1)."""
    if not values:
        return None
    values = sorted(values)
    rank = fraction * (len(values) - 1)
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def batches_in(team_ids, first, last):
    return [
        b
        for b in Batch.objects.filter(team_id__in=team_ids, status__in=Batch.FINAL_STATUSES).order_by("pk")
        if first <= local_day(b.created_at) <= last
    ]
