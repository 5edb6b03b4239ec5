"""The operation forms by the modal's URL slug (`batch:operation`)."""

from __future__ import annotations

from batch.forms.base import OperationForm
from batch.forms.create import CreateFromTemplateForm
from batch.forms.selection import (
    ArchiveForm,
    AssignForm,
    DeleteForm,
    DuplicateForm,
    ScheduleForm,
    TemplateForm,
    UpdateForm,
)

OPERATION_FORMS: dict[str, type[OperationForm]] = {
    "assign": AssignForm,
    "schedule": ScheduleForm,
    "duplicate": DuplicateForm,
    "update": UpdateForm,
    "delete": DeleteForm,
    "archive": ArchiveForm,
    "template": TemplateForm,
    "create": CreateFromTemplateForm,
}
