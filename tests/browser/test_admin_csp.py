"""The admin, django-rq's dashboard included, in Chromium under the strict CSP: the page fixture fails
the test on any CSP violation or console error (a missing favicon included)."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from playwright.sync_api import expect

from batch.models import Batch
from tests.browser.conftest import shot
from tests.rq_pages import rq_dashboard_data

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def admin_login(page, username: str = "dana", password: str = "hockeyhub") -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_rq_dashboard_pages_and_actions_run_without_csp_violations(page, staff, trainer, team, rq_queue):
    data = rq_dashboard_data(user=trainer, team=team)
    try:
        admin_login(page)
        for name, url in data.urls.items():
            response = page.goto(url)
            assert response.status == 200, name
            expect(page.locator("#content")).to_be_visible()
        shot(page, "admin-rq-worker")

        # A result row opens its result (a script file now, not an inline onclick).
        page.goto(data.urls["finished job"])
        page.locator("tr[data-href] td").first.click()
        page.wait_for_url(re.compile(r"/results/"))

        # Select all (a script file now), then an action: its confirmation page has no inline style.
        page.goto(data.urls["queued"])
        page.locator("#action-toggle").check()
        expect(page.locator("input.action-select").first).to_be_checked()
        expect(page.locator("tr.selected")).to_have_count(1)
        page.select_option("select[name=action]", "delete")
        page.get_by_role("button", name="Go").click()
        expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
        shot(page, "admin-rq-confirm")
    finally:
        data.close()


def test_our_admin_pages_run_without_csp_violations(page, staff, trainer, team):
    batch = Batch.objects.create(team=team, created_by=trainer, status=Batch.Status.COMPLETED, total_items=0)
    admin_login(page)
    ours = {"auth", "hockeyhub", "workouts", "medical", "batch"}
    urls = [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if model._meta.app_label in ours
    ]
    urls += [f"/admin/batch/batch/{batch.pk}/change/", f"/admin/batch/batchitem/?batch={batch.pk}"]
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
    page.goto(f"/admin/batch/batch/{batch.pk}/change/")
    page.get_by_role("link", name="All 0 items").click()
    page.wait_for_url(re.compile(r"/admin/batch/batchitem/\?batch="))
