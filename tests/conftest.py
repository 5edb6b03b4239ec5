"""Shared fixtures: the named personas every permission test uses."""

from __future__ import annotations

import os

import pytest

from tests.factories import MembershipFactory, TeamFactory, UserFactory
from workouts.models import Membership


def pytest_configure(config: pytest.Config) -> None:
    # CI must never run on anything but PostgreSQL; settings already refuse other engines.
    if os.environ.get("CI") == "true" and not os.environ.get("DATABASE_URL"):
        raise pytest.UsageError("CI requires DATABASE_URL (run the suite through bin/test)")


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
