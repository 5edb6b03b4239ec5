"""One batch's routes sit under its id; each button of `controls.ACTIONS` has its own."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from batch.views import controls


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("detail", "/batches/7/"),
        ("progress", "/batches/7/progress/"),
        ("cancel", "/batches/7/cancel/"),
        ("undo", "/batches/7/undo/"),
        ("retry", "/batches/7/retry/"),
        ("retry_skipped", "/batches/7/retry-skipped/"),
        ("resume", "/batches/7/resume/"),
        ("force_undo", "/batches/7/force-undo/"),
        ("export", "/batches/7/results.csv"),
        ("export_json", "/batches/7/results.json"),
        ("definition", "/batches/7/definition.json"),
    ],
)
def test_one_batch_routes(name, path):
    assert reverse(f"batch:{name}", args=[7]) == path
    assert resolve(path).kwargs["batch_id"] == 7


def test_every_action_routes_to_batch_action_with_its_name():
    for action in controls.ACTIONS:
        match = resolve(reverse(f"batch:{action}", args=[3]))
        assert match.func is controls.batch_action
        assert match.kwargs == {"batch_id": 3, "action": action}
