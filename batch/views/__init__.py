"""Batch pages, by role: the operation modal and its dry run (`modal`), the batch page with its
progress and results (`detail`), its buttons (`controls`), import and the downloads (`transfer`), the
history and the end notices (`history`); `common` holds what they share.

Views are thin: a form parses the input, one service or selector does the work, a template renders.
Another team's batch is a 404. `batch.urls` names the modules; this package re-exports only what
other code imports from `batch.views`.
"""

from __future__ import annotations

from batch.views.detail import bar_widths

__all__ = ["bar_widths"]
