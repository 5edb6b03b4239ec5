"""The dashboard: trainers see their teams, staff the club; filters, htmx fragments, CSV, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from analytics.services import rollups_rebuild
from tests.analytics.conftest import batches_in

QUERY = {"from": "2026-12-28", "to": "2027-01-03", "group": "day"}


@pytest.fixture
def rebuilt(club):
    rollups_rebuild()
    return club


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def test_a_trainer_sees_their_team_and_csv_matches_the_rows(client, rebuilt):
    client.force_login(rebuilt.alice)
    page = client.get("/analytics/", QUERY)
    assert page.status_code == 200
    html = page.content.decode()
    assert "All my teams" in html and "Luleå Lynx" not in html
    for chart in ("chart-series", "chart-durations", "chart-estimate", "chart-errors", "chart-load"):
        assert f'id="{chart}" type="application/json"' in html and f'data-chart="{chart}"' in html
    rows = csv_rows(client.get("/analytics/series.csv", QUERY))
    assert rows[0][0] == "Group" and len(rows) == 1 + 7  # one row per day, empty days too
    first, last = dt.date(2026, 12, 28), dt.date(2027, 1, 3)
    batches = batches_in([rebuilt.hawks.pk], first, last)
    assert sum(int(r[1]) for r in rows[1:]) == len(batches)
    assert sum(int(r[7]) for r in rows[1:]) == sum(b.total_items for b in batches)


def test_staff_see_the_whole_club(client, rebuilt):
    client.force_login(rebuilt.staff)
    html = client.get("/analytics/", QUERY).content.decode()
    assert "Whole club" in html and "Luleå Lynx" in html
    rows = csv_rows(client.get("/analytics/series.csv", QUERY))
    both = batches_in([rebuilt.hawks.pk, rebuilt.lynx.pk], dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert sum(int(r[1]) for r in rows[1:]) == len(both)
    lynx = csv_rows(client.get("/analytics/series.csv", {**QUERY, "team": "lynx"}))
    assert sum(int(r[1]) for r in lynx[1:]) == len(
        batches_in([rebuilt.lynx.pk], dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    )


def test_another_teams_figures_are_a_404(client, rebuilt):
    client.force_login(rebuilt.alice)
    assert client.get("/analytics/", {**QUERY, "team": "lynx"}).status_code == 404
    assert client.get("/analytics/errors.csv", {**QUERY, "team": "lynx"}).status_code == 404


def test_a_filter_change_through_htmx_returns_the_results_fragment(client, rebuilt):
    client.force_login(rebuilt.alice)
    response = client.get("/analytics/", {**QUERY, "group": "user"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert "alice" in html and "erik" in html and "bob" not in html


@pytest.mark.parametrize(
    "params,message",
    [
        ({"from": "2027-01-05", "to": "2027-01-01"}, "on or before"),
        ({"from": "yesterday"}, "Enter a valid date"),
        ({"group": "month"}, "Select a valid choice"),
        ({"from": "2015-01-01", "to": "2026-01-01"}, "at most"),
    ],
)
def test_bad_filters_are_a_400_that_says_why(client, rebuilt, params, message):
    client.force_login(rebuilt.alice)
    page = client.get("/analytics/", params)
    assert page.status_code == 400 and message in page.content.decode()
    fragment = client.get("/analytics/", params, headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and message in fragment.content.decode()
    download = client.get("/analytics/types.csv", params)
    assert download.status_code == 400 and message in download.content.decode()


def test_every_csv_downloads_with_its_header(client, rebuilt):
    client.force_login(rebuilt.staff)
    for table, first in (
        ("series", "Group"),
        ("types", "Operation type"),
        ("errors", "Error code"),
        ("load-weeks", "Week (Monday)"),
        ("load-players", "Player"),
    ):
        response = client.get(f"/analytics/{table}.csv", QUERY)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        assert csv_rows(response)[0][0] == first
    assert client.get("/analytics/nothing.csv", QUERY).status_code == 404


def test_the_dashboard_answers_in_constant_queries(client, rebuilt, django_assert_max_num_queries):
    client.force_login(rebuilt.staff)
    with django_assert_max_num_queries(20):
        assert client.get("/analytics/", {"from": "2026-03-01", "to": "2027-01-31"}).status_code == 200


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get("/analytics/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_table_cells_are_escaped():
    from analytics.charts import table_html

    html = table_html([["Code", "Action"], ["<b>X</b>", "Fix '<script>alert(1)</script>' first"]], "Errors")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;X&lt;/b&gt;" in html
