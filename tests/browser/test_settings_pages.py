"""The API token and webhook pages in Chromium, under the strict CSP: what a club's integrator does.

Create a token, see it once, use it, revoke it; add a webhook endpoint, be refused a private address
with a form error, see the signing secret once. The page fixture fails on any console error.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from api.models import ApiToken
from tests.browser.conftest import login, shot
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.browser


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(page, live_server, trainer, team):
    login(page, "alice")
    page.goto("/settings/api-tokens/")
    page.fill("input[name=name]", "Club planner sync")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert secret and ApiToken.objects.get().name == "Club planner sync"
    shot(page, "40-api-token-created")

    api = page.request
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get(f"{live_server.url}/api/v1/batches", headers=headers).status == 200

    page.reload()  # the page came by a redirect: a reload re-sends nothing, and the secret is gone
    expect(page.locator("#new-token")).to_have_count(0)
    assert ApiToken.objects.count() == 1
    assert secret not in page.content()
    row = page.get_by_role("row", name=re.compile("Club planner sync"))
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Hawks")  # the team it acts in

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row", name=re.compile("Club planner sync"))).to_contain_text("Revoked")
    assert api.get(f"{live_server.url}/api/v1/batches", headers=headers).status == 401


def test_a_webhook_to_a_private_address_is_a_form_error_and_a_public_one_shows_its_secret_once(
    page, trainer, team, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    login(page, "alice")
    page.goto(f"/settings/webhooks/?team={team.slug}")
    page.fill("input[name=url]", "http://10.0.0.1/hook")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator(".errorlist, .alert--error").first).to_contain_text("private")
    expect(page.locator("input[name=url]")).to_have_value("http://10.0.0.1/hook")  # kept to correct
    assert not WebhookEndpoint.objects.exists()
    shot(page, "41-webhook-refused")

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    page.fill("input[name=url]", "http://127.0.0.1:9/hook")
    page.fill("input[name=description]", "Planner")
    page.get_by_role("button", name="Add endpoint").click()
    endpoint = WebhookEndpoint.objects.get()
    expect(page.locator("#new-secret")).to_have_text(endpoint.secret)
    expect(page.get_by_role("region", name="Endpoint http://127.0.0.1:9/hook")).to_contain_text("Planner")
    shot(page, "42-webhook-created")

    page.reload()
    assert endpoint.secret not in page.content()
    assert WebhookEndpoint.objects.count() == 1
