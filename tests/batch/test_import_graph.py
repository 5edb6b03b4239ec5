"""`batch/` reads top-down: its modules import each other without a circle, at module level only."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from batch import queueing, tasks

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "batch"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def batch_modules() -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(), filename=str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
    }


def imported(node: ast.AST, known: set[str]) -> set[str]:
    """Return the batch modules an import statement names (a `from package import module` included)."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def import_graph() -> dict[str, set[str]]:
    modules = batch_modules()
    known = set(modules)
    return {
        name: {dep for node in tree.body for dep in imported(node, known)} - {name}
        for name, tree in modules.items()
    }


def test_batch_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle among batch modules: {' -> '.join(exc.args[1])}")
    # The runner's entry point is the top: nothing in batch/ imports it.
    assert "batch.tasks" not in {dep for deps in graph.values() for dep in deps}
    assert order.index("batch.runner") > order.index("batch.undo") > order.index("batch.store")


def test_no_batch_module_imports_a_batch_module_inside_a_function():
    known = set(batch_modules())
    hidden = []
    for name, tree in batch_modules().items():
        for node in ast.walk(tree):
            if name == "batch.apps" and getattr(node, "name", None) == "ready":
                continue  # AppConfig.ready(): where an app registers its hooks, once the models are loaded
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if imported(inner, known):
                        hidden.append(f"{name}.{node.name} imports {sorted(imported(inner, known))}")
    assert hidden == []


def test_runner_jobs_name_the_task_entry_point_by_its_path():
    module, _, function = queueing.RUNNER_JOB.rpartition(".")
    assert module == tasks.__name__ and getattr(tasks, function) is tasks.run_batch_job
