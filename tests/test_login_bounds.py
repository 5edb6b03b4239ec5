"""Login forms bound their fields: an overlong username is a form error, not a 500 from the lockout log."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_overlong_credentials_are_a_form_error(trainer, path):
    client = Client(raise_request_exception=False)
    response = client.post(path, {"username": "x" * 20_000, "password": "p" * 20_000})
    assert response.status_code == 200
    assert "at most 150 characters" in " ".join(response.context["form"].errors["username"])
    assert not AccessAttempt.objects.exists()


def test_an_ordinary_failed_login_is_still_counted(trainer):
    Client().post("/login/", {"username": trainer.username, "password": "wrong"})
    assert AccessAttempt.objects.get().username == trainer.username


def test_the_login_page_shows_what_is_wrong_with_each_field(trainer):
    page = Client().post("/login/", {"username": "x" * 20_000, "password": "p" * 20_000}).content.decode()
    assert 'id="username-errors"' in page and "at most 150 characters" in page
    assert 'aria-invalid="true" aria-describedby="username-errors"' in page
    assert "x" * 200 not in page  # the overlong value is not echoed back whole
