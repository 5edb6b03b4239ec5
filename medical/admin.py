"""Admin for restrictions. Opening a change page shows clinical notes, so each open is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse

from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from medical import workout_admin  # noqa: F401 (registers the gated workout and assignment admins)
from medical.models import MedicalRestriction
from medical.services import clinical_notes_read


@admin.register(MedicalRestriction)
class MedicalRestrictionAdmin(admin.ModelAdmin):
    list_display = ("title", "player", "team", "severity", "status", "effective_date", "expiry_date")
    list_filter = ("severity", "status", ("player__team", admin.RelatedOnlyFieldListFilter))
    search_fields = ("player__first_name", "player__last_name", "title")
    date_hierarchy = "effective_date"
    list_select_related = ("player__team",)
    raw_id_fields = ("player", "prescribed_by")
    readonly_fields = ("created_at", "updated_at")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Django lets any local field be filtered from the URL (?clinical_notes__icontains=MCL): that
        # would read the notes of every row without an audit row. Notes are only read on a change page.
        if "clinical_notes" in lookup.split(LOOKUP_SEP):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Team", ordering="player__team__name")
    def team(self, obj: MedicalRestriction) -> str:
        return obj.player.team.name

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            restriction = self.get_queryset(request).filter(pk=unquote(object_id)).first()
            if restriction is not None and self.has_view_or_change_permission(request, restriction):
                clinical_notes_read(
                    user=request.user, restriction=restriction, channel="admin", purpose="admin change page"
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: MedicalRestriction, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.RESTRICTION_CHANGED,
                obj=obj,
                team=obj.player.team,
                channel="admin",
                purpose="admin change" if change else "admin add",
                details={"changed": sorted(form.changed_data)},
            )
