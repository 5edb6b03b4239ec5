"""The django-rq dashboard renders under our strict CSP: no inline script, style or event handler."""

from __future__ import annotations

import re

import pytest

from tests.batch import conftest as batch_fixtures
from tests.rq_pages import rq_dashboard_data

pytestmark = pytest.mark.django_db(transaction=True)
rq_queue = batch_fixtures.rq_queue

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+=\"", re.IGNORECASE)


def test_every_dashboard_page_renders_without_inline_code(staff_client, staff, team, trainer, rq_queue):
    data = rq_dashboard_data(user=trainer, team=team)
    try:
        for name, url in data.urls.items():
            response = staff_client.get(url)
            body = response.content.decode()
            assert response.status_code == 200, name
            assert 'rel="icon" href="/static/favicon.svg"' in body, name
            for pattern in (INLINE_SCRIPT, INLINE_STYLE, HANDLER):
                assert not pattern.search(body), f"{name}: {pattern.search(body).group(0)}"
        confirm = staff_client.post(
            "/admin/rq/queues/confirm-action/0/", {"action": "delete", "_selected_action": [data.queued.id]}
        )
        body = confirm.content.decode()
        assert confirm.status_code == 200 and "Are you sure?" in body
        assert not INLINE_STYLE.search(body) and not INLINE_SCRIPT.search(body)
        job_page = staff_client.get(data.urls["finished job"]).content.decode()
        assert f'data-href="{data.urls["result"]}"' in job_page
    finally:
        data.close()
