"""Admin for club staff: teams, roster, exercise library, facilities, workouts and templates."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest

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


class WorkoutExerciseInline(admin.TabularInline):
    model = WorkoutExercise
    extra = 0
    autocomplete_fields = ["exercise"]
    fields = ["order", "exercise", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds"]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ["player"]
    fields = ["player", "role", "load_percent", "status", "medical_verdict", "modifications", "version"]
    # The compliance engine computes the verdict and its modifications; nobody types them.
    readonly_fields = ["medical_verdict", "modifications", "version"]


@admin.register(Workout)
class WorkoutAdmin(PartsChangeParentMixin, admin.ModelAdmin):
    list_display = ["name", "team", "type", "status", "scheduled_start", "facility", "intensity", "version"]
    list_filter = ["type", "status", "team", ("scheduled_start", admin.DateFieldListFilter), "facility"]
    search_fields = ["name", "notes", "team__name"]
    date_hierarchy = "scheduled_start"
    list_select_related = ["team", "facility"]
    autocomplete_fields = ["team", "facility", "template", "source_workout", "created_by"]
    readonly_fields = ["version", "archived_at", "status_before_archive", "created_at", "updated_at"]
    inlines = [WorkoutExerciseInline, AssignmentInline]
    list_per_page = 50


class TemplateExerciseInline(admin.TabularInline):
    model = TemplateExercise
    extra = 0
    autocomplete_fields = ["exercise"]
    fields = ["order", "exercise", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds"]


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
    list_display = ["workout", "player", "role", "load_percent", "status", "medical_verdict", "version"]
    list_filter = ["role", "status", "medical_verdict", "workout__team"]
    search_fields = ["workout__name", "player__first_name", "player__last_name"]
    list_select_related = ["workout", "player"]
    autocomplete_fields = ["workout", "player"]
    readonly_fields = ["medical_verdict", "modifications", "version", "created_at", "updated_at"]
