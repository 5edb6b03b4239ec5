"""Forms of the batch pages, by role: the operation forms that turn the modal's fields into an
exchange-format request (`base`, `selection`, `create`, registered by slug in `operations`), the
advanced options (`options`), and the small forms of the results tabs and the import (`pages`).

The request is built on the server from the session selection: the browser never sends the list of
workout ids. This package re-exports only what other code imports from `batch.forms`.
"""

from __future__ import annotations

from batch.forms.operations import OPERATION_FORMS
from batch.forms.options import OptionsForm
from batch.forms.selection import AssignForm, DuplicateForm, ScheduleForm, UpdateForm

__all__ = ["OPERATION_FORMS", "AssignForm", "DuplicateForm", "OptionsForm", "ScheduleForm", "UpdateForm"]
