"""Admin for club staff: teams, roster, exercise library, facilities, workouts and templates.

The workout and assignment forms ask the rulebook every other path asks (workouts.rules and the
calendar): a workout's time, a move of a workout in history, facility and player double bookings,
opening hours, daily load, and no players on a cancelled or archived workout. The medical gate is the
medical app's: medical/admin.py registers these admins again with its checks on top (workouts imports
no other app of ours).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, F, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from workouts.calendar import calendar_refusals
from workouts.limits import UPDATABLE_FIELDS
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Membership,
    Player,
    Team,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)
from workouts.rules import Refusal, assign_refusal, edit_refusal, move_refusal, timing_refusal

# A change of these puts the workout somewhere else on the calendar (or back on it).
BOOKING_FIELDS = frozenset({"scheduled_start", "scheduled_end", "facility", "status"})
MOVE_FIELDS = frozenset({"scheduled_start", "scheduled_end", "facility"})


def refusal_error(refusal: Refusal) -> forms.ValidationError:
    """A rulebook refusal as a form error, its rule's code the error's code."""
    return forms.ValidationError(f"{refusal.message}. {refusal.suggestion}", code=refusal.code or "refused")


class PartsChangeParentMixin:
    """Exercises added, removed or edited in an inline change the workout (or template) itself.

    The database's version trigger bumps a row whose own columns change (whatever saves it); a change
    of its exercise rows leaves the parent row alone, so that case raises the parent's version here,
    once, unless its own fields changed in the same save (then the trigger already did).
    """

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        parts_changed = formset.new_objects or formset.deleted_objects or formset.changed_objects
        if change and parts_changed and not hasattr(formset.model, "version") and not form.changed_data:
            parent = form.instance
            type(parent).objects.filter(pk=parent.pk).update(version=F("version") + 1)
            parent.refresh_from_db(fields=["version"])


class WorkoutAdminForm(forms.ModelForm):
    """A workout as staff edit it, judged by the rules every path asks (no queries unless it is new
    or its time, facility or status changes; then the calendar's three)."""

    class Meta:
        model = Workout
        fields = ["team", *UPDATABLE_FIELDS, "created_by", "template", "source_workout"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        saved = self.instance  # still as the database has it: the form's values go on it after clean()
        changed = set(self.changed_data)
        if saved.pk is not None:
            refusal = edit_refusal(saved) or (move_refusal(saved) if MOVE_FIELDS & changed else None)
            if refusal is not None:
                raise refusal_error(refusal)
        start, end = cleaned.get("scheduled_start"), cleaned.get("scheduled_end")
        refusal = timing_refusal(status=cleaned.get("status") or "", start=start, end=end)
        if refusal is not None:
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal_error(refusal))
            return cleaned
        team, status = cleaned.get("team"), cleaned.get("status")
        if start is None or team is None or (saved.pk is not None and not BOOKING_FIELDS & changed):
            return cleaned
        for refusal in calendar_refusals(
            team=team,
            workout_id=saved.pk,
            status=status,
            start=start,
            end=end,
            facility=cleaned.get("facility"),
            name=cleaned.get("name") or "",
        ):
            self.add_error(None, refusal_error(refusal))
        return cleaned


class AssignmentForm(forms.ModelForm):
    """An assignment as staff edit it: no player goes on a cancelled or archived workout."""

    class Meta:
        model = Assignment
        fields = ["workout", "player", "role", "load_percent", "status"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # In the workout's inline, "workout" is the workout as this very save leaves it (maybe new).
        workout = cleaned.get("workout")
        if workout is None or cleaned.get("player") is None:
            return cleaned
        if self.instance.pk is None or {"player", "workout"} & set(self.changed_data):
            refusal = assign_refusal(workout)
            if refusal is not None:
                raise refusal_error(refusal)
        return cleaned


class AssignmentInlineFormSet(BaseInlineFormSet):
    """A workout's assignments; the medical app's subclass judges them again with the exercises."""

    exercise_formset: Any = None  # the workout's exercises inline, linked by WorkoutAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class PlayerInline(admin.TabularInline):
    model = Player
    extra = 0
    fields = ["jersey_number", "first_name", "last_name", "position", "availability", "daily_load_limit"]
    show_change_link = True


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "season", "player_count", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["season"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, PlayerInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(player_count=Count("players", distinct=True))

    @admin.display(description="Players", ordering="player_count")
    def player_count(self, obj: Team) -> int:
        return obj.player_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["jersey_number", "last_name", "first_name", "team", "position", "availability"]
    list_display_links = ["jersey_number", "last_name"]
    list_filter = ["team", "position", "availability"]
    search_fields = ["first_name", "last_name"]
    list_select_related = ["team"]
    ordering = ["team", "jersey_number"]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "intensity", "contact", "unilateral", "patterns", "parts"]
    list_filter = ["category", "contact", "unilateral"]
    search_fields = ["name", "description"]

    @admin.display(description="Movement patterns")
    def patterns(self, obj: Exercise) -> str:
        return ", ".join(obj.movement_patterns)

    @admin.display(description="Body parts")
    def parts(self, obj: Exercise) -> str:
        return ", ".join(obj.body_parts)


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["name", "opens_at", "closes_at", "capacity"]
    search_fields = ["name"]


class ExerciseLineInline(admin.TabularInline):
    """A workout's or a template's exercises, edited in place on the parent's page."""

    extra = 0
    autocomplete_fields = ["exercise"]
    fields = ["order", "exercise", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds"]


class WorkoutExerciseInline(ExerciseLineInline):
    model = WorkoutExercise


class AssignmentInline(admin.TabularInline):
    model = Assignment
    form = AssignmentForm
    formset = AssignmentInlineFormSet
    extra = 0
    autocomplete_fields = ["player"]
    fields = ["player", "role", "load_percent", "status", "medical_verdict", "modifications", "version"]
    # The compliance engine computes the verdict and its modifications; nobody types them.
    readonly_fields = ["medical_verdict", "modifications", "version"]


@admin.register(Workout)
class WorkoutAdmin(PartsChangeParentMixin, admin.ModelAdmin):
    form = WorkoutAdminForm
    list_display = ["name", "team", "type", "status", "scheduled_start", "facility", "intensity", "version"]
    list_filter = ["type", "status", "team", ("scheduled_start", admin.DateFieldListFilter), "facility"]
    search_fields = ["name", "notes", "team__name"]
    date_hierarchy = "scheduled_start"
    list_select_related = ["team", "facility"]
    autocomplete_fields = ["team", "facility", "template", "source_workout", "created_by"]
    readonly_fields = ["version", "archived_at", "status_before_archive", "created_at", "updated_at"]
    inlines = [WorkoutExerciseInline, AssignmentInline]
    list_per_page = 50

    def _create_formsets(self, request: HttpRequest, obj: Any, change: bool) -> Any:
        # The assignments are judged on the exercises this same save leaves the workout with.
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        parts = next((f for f in formsets if f.model is WorkoutExercise), None)
        for formset in formsets:
            if isinstance(formset, AssignmentInlineFormSet):
                formset.exercise_formset = parts
        return formsets, inline_instances


class TemplateExerciseInline(ExerciseLineInline):
    model = TemplateExercise


@admin.register(WorkoutTemplate)
class WorkoutTemplateAdmin(PartsChangeParentMixin, admin.ModelAdmin):
    list_display = ["name", "team", "category", "visibility", "intensity", "duration_minutes", "usage_count"]
    list_filter = ["category", "visibility", "team"]
    search_fields = ["name", "description"]
    list_select_related = ["team"]
    autocomplete_fields = ["team", "source_workout", "created_by"]
    readonly_fields = ["usage_count", "version", "created_at"]
    inlines = [TemplateExerciseInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentForm
    list_display = ["workout", "player", "role", "load_percent", "status", "medical_verdict", "version"]
    list_filter = ["role", "status", "medical_verdict", "workout__team"]
    search_fields = ["workout__name", "player__first_name", "player__last_name"]
    list_select_related = ["workout", "player"]
    autocomplete_fields = ["workout", "player"]
    readonly_fields = ["medical_verdict", "modifications", "version", "created_at", "updated_at"]
