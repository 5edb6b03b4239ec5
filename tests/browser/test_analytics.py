"""The analytics dashboard in Chromium under the strict CSP: charts drawn, a filter change through htmx,
a CSV download, and a phone-sized screen. The page fixture fails on any console error or CSP violation."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re

import pytest
from playwright.sync_api import expect

from analytics.services import rollups_rebuild
from tests.analytics.conftest import EDGES, write_batch
from tests.browser.conftest import login, shot
from tests.factories import AssignmentFactory, PlayerFactory, WorkoutFactory

pytestmark = pytest.mark.browser
URL = "/analytics/?from=2026-12-28&to=2027-01-03&group=day"


@pytest.fixture
def figures(trainer, team):
    rng = random.Random(5)
    for instant in EDGES[-4:]:  # New Year's Eve to the first Monday of 2027
        for _ in range(2):
            write_batch(team=team, user=trainer, instant=instant, rng=rng)
    player = PlayerFactory(team=team, first_name="Linus", last_name="Ek")
    for day, load in ((dt.date(2026, 12, 22), 60), (dt.date(2026, 12, 29), 120)):
        start = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
        AssignmentFactory(
            workout=WorkoutFactory(team=team, scheduled_start=start), player=player, load_percent=load
        )
    rollups_rebuild()


def drawn(page, name: str) -> None:
    try:
        expect(page.locator(f'canvas[data-chart="chart-{name}"]')).to_have_attribute(
            "data-drawn", "true", timeout=20_000
        )
    except AssertionError:
        raise AssertionError(f"chart {name} not drawn; browser problems: {page.problems}") from None


def test_dashboard_draws_filters_through_htmx_and_downloads_csv(page, figures, tmp_path):
    login(page, "alice")
    page.goto(URL)
    for name in ("series", "durations", "estimate", "errors", "load"):
        drawn(page, name)
    expect(page.get_by_role("heading", name="Batches by outcome")).to_be_visible()
    expect(page.locator(".load-matrix")).to_have_count(0)  # "All my teams": no per-player matrix
    shot(page, "60-analytics-dashboard")

    page.select_option("#f-group", "type")  # htmx swaps the results in and pushes the URL
    expect(page).to_have_url(re.compile(r"group=type"))
    series = page.locator("#h-series").locator("xpath=ancestor::section[1]")
    expect(series.locator("tbody th").first).to_have_text("Assign players")
    drawn(page, "series")

    page.select_option("#f-team", "hawks")
    expect(page.locator(".load-matrix")).to_contain_text("Linus Ek")
    expect(page.locator(".load-matrix td.load--flagged")).to_have_count(1)  # 60% -> 120%
    drawn(page, "load")

    with page.expect_download() as info:
        series.get_by_role("link", name="CSV").click()
    path = tmp_path / "series.csv"
    info.value.save_as(path)
    rows = list(csv.reader(path.open()))
    assert rows[0][0] == "Group" and {r[0] for r in rows[1:]} <= {
        "Update",
        "Assign players",
        "Schedule",
        "Duplicate",
    }
    assert sum(int(r[1]) for r in rows[1:]) >= 8  # batches counted once per type they hold

    page.fill("#f-from", "2027-02-01")  # after "To": the form says why, nothing else changes
    page.locator("#f-from").dispatch_event("change")
    expect(page.locator("#results .alert--error")).to_contain_text("on or before")


def test_dashboard_fits_a_phone(page, figures):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "alice")
    page.goto(URL + "&team=hawks")
    drawn(page, "series")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, "61-analytics-phone")
