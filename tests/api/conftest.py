"""API personas: a bearer token per named persona, plus a revoked and an expired one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from api.services import api_token_create, api_token_revoke


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Personas are created per test; the default password hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_token(user, team, **kwargs) -> str:
    return api_token_create(user=user, team=team, name=kwargs.pop("name", "test"), **kwargs)[1]


class ApiClient:
    """The Django test client with a bearer token on every request (None: anonymous)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body=None, headers: dict | None = None, params: dict | None = None):
        import json
        from urllib.parse import urlencode

        if params:
            path = f"{path}?{urlencode(params)}"
        data = body if isinstance(body, (bytes, str)) else json.dumps(body if body is not None else {})
        return self.client.post(path, data, content_type="application/json", headers=self._headers(headers))

    def delete(self, path: str, headers: dict | None = None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture
def api_settings(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return settings


@pytest.fixture
def trainer_api(trainer, team, api_settings) -> ApiClient:
    return ApiClient(make_token(trainer, team))


@pytest.fixture
def other_api(other_trainer, other_team, api_settings) -> ApiClient:
    return ApiClient(make_token(other_trainer, other_team))


@pytest.fixture
def medic_api(medic, team, api_settings) -> ApiClient:
    return ApiClient(make_token(medic, team))


@pytest.fixture
def staff_api(staff, team, api_settings) -> ApiClient:
    return ApiClient(make_token(staff, team))


@pytest.fixture
def anonymous_api(api_settings) -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def revoked_api(trainer, team, api_settings) -> ApiClient:
    token, secret = api_token_create(user=trainer, team=team, name="old")
    api_token_revoke(token_id=token.pk, user=trainer)
    return ApiClient(secret)


@pytest.fixture
def expired_api(trainer, team, api_settings) -> ApiClient:
    secret = make_token(trainer, team, name="expiring", expires_at=timezone.now() + dt.timedelta(seconds=1))
    from api.models import ApiToken

    ApiToken.objects.filter(user=trainer, name="expiring").update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    return ApiClient(secret)


PERSONAS = ["anonymous", "trainer", "other", "medic", "staff", "revoked", "expired"]


@pytest.fixture
def persona_api(request) -> ApiClient:
    return request.getfixturevalue(f"{request.param}_api")


# Real RQ workers (in-process burst, and worker processes) for end-to-end API tests.
from tests.batch.conftest import rq_queue, run_worker, workers  # noqa: E402, F401
