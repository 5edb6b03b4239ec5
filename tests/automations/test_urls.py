"""One recipe's routes sit under its id; every name keeps its address and its view."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from automations import views


@pytest.mark.parametrize(
    ("name", "path", "view"),
    [
        ("recipe", "/automations/recipes/7/", views.recipe_detail),
        ("recipe_run", "/automations/recipes/7/run/", views.recipe_run),
        ("schedule_new", "/automations/recipes/7/schedules/", views.schedule_new),
        ("schedule_toggle", "/automations/schedules/7/toggle/", views.schedule_toggle),
        ("notice_seen", "/automations/notices/7/seen/", views.notice_seen),
    ],
)
def test_routes_of_one_object(name, path, view):
    assert reverse(f"automations:{name}", args=[7]) == path
    match = resolve(path)
    assert match.func is view and match.kwargs == {"pk": 7}


@pytest.mark.parametrize(
    ("name", "path", "view"),
    [
        ("index", "/automations/", views.automation_index),
        ("recipe_new", "/automations/recipes/new/", views.recipe_new),
        ("schedule_preview", "/automations/schedules/preview/", views.schedule_preview),
        ("notices", "/automations/notices/", views.notice_list),
        ("copy", "/automations/copy/", views.copy_range),
    ],
)
def test_routes_of_the_app(name, path, view):
    assert reverse(f"automations:{name}") == path
    assert resolve(path).func is view
