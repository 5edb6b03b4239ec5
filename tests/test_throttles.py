"""Guessing is throttled: failed logins per address across usernames (django-axes) and wrong API
tokens per address (Redis), each without locking out other addresses."""

from __future__ import annotations

import pytest
from django.test import Client

from api.services import api_token_create
from hockeyhub.metrics import _redis
from hockeyhub.throttle import _token_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clean_token_counts():
    keys = [_token_key(a) for a in (ATTACKER, OFFICE)]
    _redis().delete(*keys)
    yield
    _redis().delete(*keys)


def login(username: str, password: str, address: str):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def test_one_wrong_password_for_each_of_many_usernames_locks_the_address(settings, trainer):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    answers = [login(f"user{i}", "guess", ATTACKER).status_code for i in range(40)]
    assert answers[:9] == [200] * 9  # the login form again, with its error
    assert set(answers[9:]) == {429}, answers  # the 10th failure locks the address: axes' lockout page
    # Even the right password is refused from that address now; another address logs in.
    trainer.set_password("right-one")
    trainer.save()
    assert login(trainer.username, "right-one", ATTACKER).status_code == 429
    assert login(trainer.username, "right-one", OFFICE).status_code == 302


def test_a_few_mistakes_behind_a_shared_address_do_not_lock_others_out(settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for name in ("erik", "frida", "gustav"):
        user = UserFactory(username=name)
        user.set_password("pw-" + name)
        user.save()
        for _ in range(3):
            assert login(name, "typo", OFFICE).status_code == 200
    assert login("erik", "pw-erik", OFFICE).status_code == 302


def test_token_guesses_are_limited_per_address(settings, trainer, team, clean_token_counts):
    settings.TOKEN_FAILURES_PER_MINUTE = 5
    secret = api_token_create(user=trainer, team=team, name="ci")[1]
    attacker, other = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR=OFFICE)

    def get(client, token):
        return client.get("/api/v1/batches", headers={"Authorization": f"Bearer {token}"})

    answers = [get(attacker, f"hh_guess{i}").status_code for i in range(8)]
    assert answers == [401] * 5 + [429] * 3
    blocked = get(attacker, secret)
    assert blocked.status_code == 429 and 0 < int(blocked["Retry-After"]) <= 60
    assert "Too many wrong tokens" in blocked.json()["detail"]
    assert get(other, secret).status_code == 200
