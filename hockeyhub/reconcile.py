"""Steps the worker pool's master runs with the batch reconciler (batch.worker.reconcile), every
`--reconcile-every` seconds. Apps add theirs in AppConfig.ready() (webhooks: due deliveries), so the
engine does not import the apps above it."""

from __future__ import annotations

from collections.abc import Callable

RECONCILE_HOOKS: list[Callable[[], object]] = []
