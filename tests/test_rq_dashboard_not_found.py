"""The admin and the RQ dashboard (staff only) answer 404 or 400 for ids that name nothing, not 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_only_client(staff):
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/rq/queues/0/nope/",
        "/admin/rq/queues/0/nope/delete/",
        "/admin/rq/queues/0/nope/requeue/",
        "/admin/rq/workers/0/nope/",
        "/admin/rq/schedulers/0/",
        "/admin/django_rq/dashboard/queues/0/nope/enqueue/",
    ],
)
def test_unknown_jobs_workers_and_schedulers_are_404(staff_only_client, path):
    assert staff_only_client.get(path).status_code == 404
    assert staff_only_client.post(path).status_code == 404


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_the_dashboard_entry_has_no_object_pages(staff_only_client, view):
    response = staff_only_client.get(f"/admin/django_rq/dashboard/1/{view}/")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/admin/medical/medicalrestriction/", {"effective_date__year": "9" * 30}),
        ("/admin/hockeyhub/auditevent/", {"created_at__year": "9" * 30, "created_at__month": "1"}),
        ("/admin/workouts/membership/add/", {"user": "9999-12-31"}),
        ("/admin/workouts/workout/add/", {"team": "abc"}),
    ],
)
def test_admin_urls_with_impossible_lookups_are_400(staff_only_client, path, query):
    assert staff_only_client.get(path, query).status_code == 400
