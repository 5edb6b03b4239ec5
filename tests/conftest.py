"""Shared fixtures: the named personas every permission test uses."""

from __future__ import annotations

import os
import time

import pytest
import time_machine
from django.conf import settings as django_settings

from hockeyhub.testclock import ANCHOR, CLOCK, instant
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from workouts.models import Membership

_collection_clock: list[time_machine.travel] = []


def pytest_configure(config: pytest.Config) -> None:
    # CI must never run on anything but PostgreSQL; settings already refuse other engines.
    if os.environ.get("CI") == "true" and not os.environ.get("DATABASE_URL"):
        raise pytest.UsageError("CI requires DATABASE_URL (run the suite through bin/test)")
    # Module-level values (a date a week from "today") are computed at collection: on the run's clock.
    traveller = time_machine.travel(
        instant(os.environ.get(CLOCK) or DEFAULT_CLOCK, os.environ.get("TIME_ZONE", "Europe/Stockholm")),
        tick=True,
    )
    traveller.start()
    _collection_clock.append(traveller)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _collection_clock:
        _collection_clock.pop().stop()


# A Wednesday mid-morning in the club's zone, far from closing time, midnight and DST changes.
DEFAULT_CLOCK = "2026-11-18T10:30:00"


@pytest.fixture(autouse=True)
def _pinned_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Every test starts on a pinned clock that ticks on from there (hockeyhub/testclock.py).

    The instant: the test's `@pytest.mark.clock("ISO")`, else `TEST_CLOCK` from the environment (a whole
    run at 23:59 on New Year's Eve, say), else DEFAULT_CLOCK; club time unless it carries an offset.
    Processes the test starts (workers, commands, bin/run) inherit the same clock through the environment.
    """
    marker = request.node.get_closest_marker("clock")
    value = marker.args[0] if marker else os.environ.get(CLOCK) or DEFAULT_CLOCK
    moment = instant(value, django_settings.TIME_ZONE)
    monkeypatch.setenv(CLOCK, moment.isoformat())
    hatch = time_machine.escape_hatch
    real = hatch.time.time() if hatch.is_travelling() else time.time()
    monkeypatch.setenv(ANCHOR, repr(real))
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture(autouse=True)
def _restriction_trigger_off(settings):
    """A saved restriction re-judges planned sessions through a batch of its own (automations/triggers.py).
    Off unless a test turns it on (tests/automations/): other tests record restrictions to test the
    gate itself, and a worker running the reaction meanwhile would change what they assert."""
    settings.AUTOMATIONS_RESTRICTION_TRIGGER = False


@pytest.fixture(autouse=True)
def _quotas_off(settings):
    """Quotas are off unless a test turns one on (tests/batch/test_quotas.py): engine tests submit many
    batches in a second and must not depend on rate limits. The defaults are tested there too."""
    settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 0
    settings.BATCH_QUOTA_ACTIVE_PER_USER = 0
    settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY = 0
    settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 0
    # Wrong-token throttling likewise (tests/test_throttles.py turns it on): every test calls from 127.0.0.1.
    settings.TOKEN_FAILURES_PER_MINUTE = 1_000_000


@pytest.fixture(autouse=True)
def _fresh_costs():
    """Measured per-type costs are cached per process for a minute; each test starts from its own."""
    from batch.selectors import costs

    costs._cost_cache = None
    yield
    costs._cost_cache = None


@pytest.fixture
def team(db):
    return TeamFactory(name="Frölunda Hawks", slug="hawks")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Luleå Lynx", slug="lynx")


@pytest.fixture
def trainer(team):
    user = UserFactory(username="alice")
    MembershipFactory(user=user, team=team, role=Membership.Role.TRAINER)
    return user


@pytest.fixture
def other_trainer(other_team):
    user = UserFactory(username="bob")
    MembershipFactory(user=user, team=other_team, role=Membership.Role.TRAINER)
    return user


@pytest.fixture
def medic(team):
    user = UserFactory(username="charlie")
    MembershipFactory(user=user, team=team, role=Membership.Role.MEDIC)
    return user


@pytest.fixture
def staff(db):
    return UserFactory(username="dana", is_staff=True, is_superuser=True)


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


@pytest.fixture
def medic_client(client, medic):
    client.force_login(medic)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def other_trainer_client(client, other_trainer):
    client.force_login(other_trainer)
    return client
