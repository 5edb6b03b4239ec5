"""Who may import whom (docs/architecture.md, "Apps and who imports whom"), as contracts that fail the
suite: a small AST walk in the manner of import-linter. Every import counts, at module level or inside a
function (a lazy import is still an arrow), except the root urls, which compose the apps.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEW_APPS = ("automations", "calendars", "analytics", "planner")
FEATURE_APPS = ("workouts", "medical", "batch", "api", "webhooks", *NEW_APPS, "demo")
APPS = ("hockeyhub", *FEATURE_APPS)
# The root urls put every app's pages together: the one module of hockeyhub that imports feature apps.
COMPOSITION = frozenset({"hockeyhub.urls"})

FORBIDDEN = {
    "workouts": {"medical", "batch", "api", "webhooks", *NEW_APPS, "demo"},
    "medical": {"batch", "api", "webhooks", *NEW_APPS, "demo"},
    "hockeyhub": set(FEATURE_APPS),
    # batch sits below the apps that use it (its webhook notices are the one arrow up, a known debt).
    "batch": {"api", *NEW_APPS, "demo"},
    # Nothing the product needs depends on the demo club.
    **{app: {"demo"} for app in ("api", "webhooks", *NEW_APPS)},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = ast.parse(path.read_text(), filename=str(path))
    return found


def imports(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every module an import statement names (with `from package import name`, both), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in APPS else None


def module_graph() -> dict[str, set[str]]:
    trees = modules()
    known = set(trees)
    return {
        name: {target for target, _ in imports(tree) if target in known} - {name}
        for name, tree in trees.items()
    }


def app_arrows() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> where: "module:line"."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for name, tree in modules().items():
        if name in COMPOSITION:
            continue
        source = app_of(name)
        for target, line in imports(tree):
            imported = app_of(target)
            if imported is not None and imported != source:
                arrows.setdefault((source, imported), []).append(f"{name}:{line}")
    return arrows


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_imports_no_app_its_contract_forbids(app):
    broken = {
        f"{source} -> {imported}": sorted(set(where))
        for (source, imported), where in app_arrows().items()
        if source == app and imported in FORBIDDEN[app]
    }
    assert broken == {}


def test_the_apps_import_each_other_without_a_circle():
    graph: dict[str, set[str]] = {app: set() for app in APPS}
    for source, imported in app_arrows():
        graph[source].add(imported)
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import circle among apps: {' -> '.join(exc.args[1])}")


def test_no_module_of_ours_is_in_an_import_circle():
    try:
        list(graphlib.TopologicalSorter(module_graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import circle among modules: {' -> '.join(exc.args[1])}")
