"""Safe serving: the HTTPS switch, `check --deploy`, the app's own error pages, no secrets in pages or
logs, the favicon, request ids, and login throttling."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from hockeyhub.logs import JsonFormatter, scrub
from hockeyhub.models import AuditEvent
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # The browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never does.
    unset = {"DEBUG", "HOCKEYHUB_HTTPS", "METRICS_TOKEN", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "HOCKEYHUB_HTTPS": "true",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "METRICS_TOKEN": secrets.token_urlsafe(24),
    "ALLOWED_HOSTS": "hockeyhub.example.org",
}


def test_check_deploy_is_clean_at_warning_level_with_the_https_switch():
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_the_switch_check_deploy_names_what_is_missing():
    env = {**PRODUCTION, "HOCKEYHUB_HTTPS": "false"}
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W012", "security.W016", "hockeyhub.W003"):
        assert check_id in result.stderr


HTTPS_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
plain = client.get("/login/")
secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
health = client.get("/healthz")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "health_redirected": health.status_code in (301, 302),
}))
"""


def test_the_https_switch_redirects_sets_hsts_and_secure_cookies_behind_the_proxy():
    result = run_django(["-c", HTTPS_PROBE], **{**PRODUCTION, "ALLOWED_HOSTS": "localhost"})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["plain"] == [301, "https://localhost/login/"]
    assert probe["secure"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["csrf_cookie_secure"] is True
    assert probe["health_redirected"] is False  # monitoring may use plain HTTP inside the network


# Error pages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_404_is_the_apps_own_page_without_debug_details(client):
    response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in body and "css/app.css" in body and "favicon.svg" in body
    assert "Traceback" not in body and "URLconf" not in body and "DEBUG" not in body


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_400_403_and_csrf_failures_are_the_apps_own_pages(trainer_client, trainer):
    pages = {
        "/forbidden/": (403, "You may not open this page"),
        "/suspicious/": (400, "That request could not be understood"),
    }
    for url, (status, title) in pages.items():
        response = trainer_client.get(url)
        body = response.content.decode()
        assert response.status_code == status and title in body and "css/app.css" in body
        assert "internal detail" not in body
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(trainer)
    refused = csrf_client.post(reverse("logout"))
    body = refused.content.decode()
    assert refused.status_code == 403 and "Your session expired on this page" in body
    assert "CSRF verification failed" not in body and "css/app.css" in body


@contextmanager
def captured_logs():
    """Point the configured JSON handler(s) at a buffer: what the operator's log would receive."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert handlers, "the JSON handler from settings.LOGGING is not installed"
    buffer = io.StringIO()
    old = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, old, strict=True):
            handler.setStream(stream)


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_a_500_shows_the_apps_page_and_no_secret_reaches_the_page_or_the_log():
    client = Client(raise_request_exception=False)
    with captured_logs() as logs:
        response = client.get("/explode/", headers={"X-Request-ID": "req-explode-0001"})
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and "req-explode-0001" in body
    assert response["X-Request-ID"] == "req-explode-0001"
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    error = next(line for line in lines if line["logger"] == "django.request")
    assert error["level"] == "error" and error["request_id"] == "req-explode-0001"
    assert (
        "RuntimeError: could not connect with [redacted] / [redacted] using [redacted]" in error["exception"]
    )
    for secret in (settings.DATABASE_URL, settings.REDIS_URL, settings.SECRET_KEY):
        assert secret not in body
        assert secret not in logs.getvalue()


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_even_the_debug_page_of_development_hides_connection_urls_and_keys(settings):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/bug/")
    body = response.content.decode()
    assert response.status_code == 500 and "an ordinary bug" in body and "DATABASE_URL" in body
    for secret in (settings.DATABASE_URL, settings.REDIS_URL, settings.SECRET_KEY):
        assert secret not in body


def test_scrub_hides_passwords_in_any_url_and_the_configured_secrets():
    text = f"postgres://app:s3cr3t-pw@db.internal:5432/hh failed; key={settings.SECRET_KEY}"
    assert scrub(text) == "postgres://app:[redacted]@db.internal:5432/hh failed; key=[redacted]"
    assert scrub("redis://:pässword@cache:6379/0") == "redis://:[redacted]@cache:6379/0"


# Favicon and request ids --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_links_the_favicon_and_favicon_ico_points_at_it(client, staff_client):
    assert finders.find("favicon.svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in staff_client.get("/admin/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in staff_client.get("/admin/rq/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"


@pytest.mark.django_db
def test_a_well_formed_request_id_is_kept_and_anything_else_replaced(client):
    kept = client.get(reverse("login"), headers={"X-Request-ID": "edge-1234abcd"})
    assert kept["X-Request-ID"] == "edge-1234abcd"
    replaced = client.get(reverse("login"), headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(replaced["X-Request-ID"]) == 32 and "<" not in replaced["X-Request-ID"]


@pytest.mark.django_db
def test_each_request_is_logged_as_json_with_its_id_status_and_time(trainer_client):
    with captured_logs() as logs:
        response = trainer_client.get("/workouts/")
    (line,) = [json.loads(x) for x in logs.getvalue().splitlines() if '"request"' in x]
    assert line["event"] == "request" and line["path"] == "/workouts/" and line["status"] == 200
    assert line["request_id"] == response["X-Request-ID"] and line["user_id"] and line["ms"] >= 0


# Login throttling ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_passwords_lock_that_username_from_that_address_and_are_audited(client):
    UserFactory(username="erin", password="right-password")
    UserFactory(username="frank", password="other-password")
    url = reverse("login")
    statuses = [client.post(url, {"username": "erin", "password": "wrong"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    locked = client.post(url, {"username": "erin", "password": "right-password"})
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.content.decode()
    # Another user from the same address, and the same user from another address, still get in.
    assert client.post(url, {"username": "frank", "password": "other-password"}).status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert elsewhere.post(url, {"username": "erin", "password": "right-password"}).status_code == 302
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED_OUT)
    assert rows.count() == 2 and {r.details["username"] for r in rows} == {"erin"}
    assert rows.first().details["ip"] == "127.0.0.1" and rows.first().channel == "web"


@pytest.mark.django_db
def test_behind_a_proxy_throttling_uses_the_forwarded_client_address(settings, client):
    settings.HOCKEYHUB_PROXY_COUNT = 1
    UserFactory(username="gina", password="right-password")
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": "gina", "password": "x"}, headers={"X-Forwarded-For": "203.0.113.9"})
    row = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_LOCKED_OUT)
    assert row.details["ip"] == "203.0.113.9"
    other = client.post(
        url, {"username": "gina", "password": "right-password"}, headers={"X-Forwarded-For": "203.0.113.10"}
    )
    assert other.status_code == 302
