"""Who imports whom around calendars: the rules in workouts/ learn busy time only through their registry."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"hockeyhub", "workouts", "medical", "batch", "api", "webhooks", "calendars"}


def apps_imported_by(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found |= {name.split(".")[0] for name in names} & OURS
    return found - {package}


def test_workouts_never_imports_calendars_and_calendars_stays_above_it():
    assert "calendars" not in apps_imported_by("workouts")
    assert apps_imported_by("calendars") <= {"workouts", "webhooks", "hockeyhub"}
    for below in ("webhooks", "batch", "medical", "hockeyhub"):
        assert "calendars" not in apps_imported_by(below), below


def test_the_busy_provider_is_registered_when_the_app_is_ready():
    from calendars.selectors import busy_provider
    from workouts import calendar

    assert busy_provider in calendar._busy_providers
