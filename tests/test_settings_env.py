"""The settings' readers of numeric environment variables: default, parse, bounds."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from hockeyhub.settings import env_float, env_int


def test_unset_or_empty_gives_the_default(monkeypatch):
    monkeypatch.delenv("HH_TEST_NUMBER", raising=False)
    assert env_int("HH_TEST_NUMBER", 7) == 7
    monkeypatch.setenv("HH_TEST_NUMBER", "")
    assert env_float("HH_TEST_NUMBER", 0.5) == 0.5


def test_values_are_parsed_and_bounded(monkeypatch):
    monkeypatch.setenv("HH_TEST_NUMBER", "12")
    assert env_int("HH_TEST_NUMBER", 1, minimum=1) == 12
    assert env_float("HH_TEST_NUMBER", 1.0) == 12.0
    with pytest.raises(ImproperlyConfigured, match="must be >= 20, got 12"):
        env_int("HH_TEST_NUMBER", 1, minimum=20)
    with pytest.raises(ImproperlyConfigured, match="must be between 0.0 and 1.0, got 12.0"):
        env_float("HH_TEST_NUMBER", 0.5, maximum=1.0)


@pytest.mark.parametrize(("read", "kind"), [(env_int, "an integer"), (env_float, "a number")])
def test_a_value_that_does_not_parse_is_refused(monkeypatch, read, kind):
    monkeypatch.setenv("HH_TEST_NUMBER", "lots")
    with pytest.raises(ImproperlyConfigured, match=f"HH_TEST_NUMBER must be {kind}, got 'lots'"):
        read("HH_TEST_NUMBER", 1)
