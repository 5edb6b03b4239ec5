from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def test_login_page_renders(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'autocomplete="current-password"' in response.content


def test_login_then_land_on_workouts(client, trainer):
    response = client.post("/login/", {"username": "alice", "password": "hockeyhub"})
    assert response.status_code == 302
    assert response["Location"] == reverse("workouts:list")


def test_logout_is_a_post(trainer_client):
    page = trainer_client.get(reverse("workouts:list"))
    assert b'action="/logout/"' in page.content
    assert trainer_client.post("/logout/").status_code == 302
    assert trainer_client.get(reverse("workouts:list")).status_code == 302


def test_pages_carry_strict_csp_and_no_inline_script(trainer_client):
    response = trainer_client.get(reverse("workouts:list"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    body = response.content.decode()
    assert "<script>" not in body and "style=" not in body and " onclick=" not in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert '"allowEval": false' in body


def test_static_assets_are_present():
    assert (STATIC / "js" / "htmx.min.js").read_text().startswith("var htmx")
    assert "htmx:responseError" in (STATIC / "js" / "app.js").read_text()
    assert ".badge--modified" in (STATIC / "css" / "app.css").read_text()


def test_root_redirects_to_workouts(client):
    assert client.get("/")["Location"] == reverse("workouts:list")
