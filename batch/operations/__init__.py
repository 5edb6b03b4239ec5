"""Operation executors, one module per type; importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil

from batch.operations.base import REGISTRY, Executor, executor_for

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "medical"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Executor", "executor_for"]
