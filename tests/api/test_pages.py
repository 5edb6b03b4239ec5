"""The API tokens page, the api_token command and the webhooks page."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from api.models import ApiToken
from hockeyhub.models import AuditEvent
from tests.api.conftest import ApiClient
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_token_page_shows_the_secret_once_and_stores_only_its_hash(trainer_client, trainer):
    page = trainer_client.post(
        reverse("api:tokens"), {"name": "Planner sync", "team": "hawks", "expires_in_days": 30}, follow=True
    )
    # Post/Redirect/Get: the secret is shown on the page the POST redirects to, so a reload re-sends nothing.
    assert page.redirect_chain == [(reverse("api:tokens"), 302)] and page.status_code == 200
    secret = page.context["created_secret"]
    assert secret.startswith("hh_") and secret in page.content.decode()
    token = ApiToken.objects.get(user=trainer)
    assert secret not in (token.token_hash, token.prefix) and token.expires_at is not None
    assert ApiClient(secret).get("/api/v1/schema").status_code == 200
    again = trainer_client.get(reverse("api:tokens"))
    assert secret not in again.content.decode() and token.prefix in again.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN_CREATED).count() == 1


def test_revoking_on_the_page_stops_the_token(trainer_client, trainer):
    secret = trainer_client.post(
        reverse("api:tokens"), {"name": "x", "team": "hawks", "expires_in_days": 0}, follow=True
    ).context["created_secret"]
    token = ApiToken.objects.get(user=trainer)
    trainer_client.post(reverse("api:token-revoke", args=[token.pk]))
    response = ApiClient(secret).get("/api/v1/schema")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_nobody_revokes_anothers_token(trainer, team, other_trainer_client):
    from api.services import api_token_create

    token, _ = api_token_create(user=trainer, team=team, name="mine")
    assert other_trainer_client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_for_a_team_one_does_not_work_in_is_refused(trainer_client):
    response = trainer_client.post(reverse("api:tokens"), {"name": "x", "team": "lynx", "expires_in_days": 0})
    assert response.status_code == 422 and not ApiToken.objects.exists()


def test_api_token_command_prints_the_token_last(trainer, team):
    out = StringIO()
    call_command("api_token", "create", "--user", "alice", "--team", "hawks", "--name", "CI", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert ApiClient(secret).get("/api/v1/batches").status_code == 200
    assert ApiToken.objects.get().name == "CI"


def test_webhooks_page_shows_the_secret_once_and_refuses_internal_urls(trainer_client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    refused = trainer_client.post(
        reverse("webhooks:list"), {"team": "hawks", "url": "http://10.0.0.1/x", "events": ["batch.completed"]}
    )
    assert refused.status_code == 422 and "private" in refused.content.decode()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    created = trainer_client.post(
        reverse("webhooks:list"),
        {"team": "hawks", "url": "http://127.0.0.1:9/x", "events": ["batch.failed"]},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in trainer_client.get(reverse("webhooks:list")).content.decode()
    trainer_client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()


def test_staff_manage_tokens_and_webhooks_in_the_admin(staff_client):
    assert staff_client.get(reverse("admin:api_apitoken_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:api_apitoken_add")).status_code == 200
    assert staff_client.get(reverse("admin:webhooks_webhookendpoint_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:webhooks_webhookdelivery_changelist")).status_code == 200


def test_openapi_document_is_strict_json_and_the_docs_page_is_served_locally(client):
    from collections import Counter

    def no_duplicates(pairs):
        counts = Counter(key for key, _ in pairs)
        assert not [key for key, n in counts.items() if n > 1], pairs
        return dict(pairs)

    response = client.get("/api/v1/openapi.json")
    spec = json.loads(response.content, object_pairs_hook=no_duplicates)
    assert spec["openapi"].startswith("3.1")
    body = spec["paths"]["/api/v1/batches"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/BatchRequest"}
    assert "CreateOperation" in spec["components"]["schemas"]  # the exchange format's own models
    problem = spec["paths"]["/api/v1/batches"]["post"]["responses"]["409"]["content"]
    assert list(problem) == ["application/problem+json"]
    docs = client.get("/api/v1/docs")
    html = docs.content.decode()
    assert docs.status_code == 200 and "script-src 'self'" in docs["Content-Security-Policy"]
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
