"""Admin for club staff: teams, roster, exercise library, facilities, workouts and templates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, F, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from medical.compliance import BLOCKED, ExerciseSpec, PlayerVerdict
from medical.gate import (
    PlannedWorkout,
    block_of,
    judge_pairs,
    local_date,
    may_override,
    medical_override_record,
    planned_workouts,
)
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
from workouts.rules import assignment_medical_fields


class PartsChangeParentMixin:
    """Exercises added, removed or edited in an inline change the workout (or template) itself.

    The database's version trigger bumps a row whose own columns change (whatever saves it); a change
    of its exercise rows leaves the parent row alone, so that case raises the parent's version here,
    once, unless its own fields changed in the same save (then the trigger already did).
    """

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for inline_form in formset.forms:
            if isinstance(inline_form, AssignmentAdminForm) and inline_form.instance.pk:
                inline_form.record_override(request)
        parts_changed = formset.new_objects or formset.deleted_objects or formset.changed_objects
        if change and parts_changed and not hasattr(formset.model, "version") and not form.changed_data:
            parent = form.instance
            type(parent).objects.filter(pk=parent.pk).update(version=F("version") + 1)
            parent.refresh_from_db(fields=["version"])


class AssignmentAdminForm(forms.ModelForm):
    """An assignment as staff edit it: the medical gate judges the player; a block needs a reason.

    The verdict and modifications are computed here and put on the instance (they are read-only in the
    admin); a load above the verdict's cap is refused. `user` is set by the admin per request.
    """

    user: Any = None
    medical_override_reason = forms.CharField(
        required=False,
        max_length=200,
        label="Medical override reason",
        help_text="Only to assign a medically blocked player anyway (medical staff; audited).",
    )

    class Meta:
        model = Assignment
        fields = ["workout", "player", "role", "load_percent", "status"]

    verdict: PlayerVerdict | None = None
    override: bool = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # In the workout's inline, "workout" is the workout as this very save leaves it (maybe new).
        workout = cleaned.get("workout")
        player = cleaned.get("player")
        if workout is None or player is None:
            return cleaned
        planned, moved = self.planned(workout)
        if not (
            moved
            or self.instance.pk is None
            or {"player", "workout", "load_percent"} & set(self.changed_data)
        ):
            return cleaned  # only the role or status changed: the verdict stands
        verdict = judge_pairs([(0, player.pk)], {0: planned})[(0, player.pk)]
        try:
            self.take_verdict(verdict, workout)
        except forms.ValidationError as error:
            self.add_error(None, error)
        return cleaned

    def take_verdict(self, verdict: PlayerVerdict, workout: Workout) -> None:
        """Refuse a block without a medical override reason, or a load above the cap; else put the
        verdict on the instance. Raises ValidationError (a field error for the load)."""
        cleaned = self.cleaned_data
        reason = (cleaned.get("medical_override_reason") or "").strip()
        self.override = False
        if verdict.verdict == BLOCKED:
            if not reason:
                block = block_of([verdict])
                raise forms.ValidationError(
                    f"{block.message} {block.suggested_action} Medical staff may assign anyway by giving "
                    "a medical override reason (audited).",
                    code="medical_restriction",
                )
            if not may_override(user=self.user, team=workout.team):
                raise forms.ValidationError(
                    "Only a medic or staff member may override a medical block.", code="medical_override"
                )
            self.override = True
        load = cleaned.get("load_percent")
        if load is not None and verdict.load_cap is not None and load > verdict.load_cap:
            self.add_error(
                "load_percent",
                f"At most {verdict.load_cap}% for {verdict.player_name}: {verdict.summary()}",
            )
            return
        _, fields = assignment_medical_fields(verdict, load or 0)
        for name, value in fields.items():
            setattr(self.instance, name, value)
        self.verdict = verdict

    @staticmethod
    def planned(workout: Workout) -> tuple[PlannedWorkout, bool]:
        """Return the workout as the gate judges it, and whether this save moves its day or intensity."""
        on_date = local_date(workout.scheduled_start)
        saved = planned_workouts([workout.pk]).get(workout.pk) if workout.pk else None
        if saved is None:  # a workout being added with its first assignments: no exercises yet
            return PlannedWorkout((), on_date, workout.intensity, workout.name), False
        moved = (saved.on_date, saved.intensity) != (on_date, workout.intensity)
        return PlannedWorkout(saved.exercises, on_date, workout.intensity, workout.name), moved

    def record_override(self, request: HttpRequest) -> None:
        """Audit a medical override (call once the assignment is saved)."""
        if self.override and self.verdict is not None:
            assignment = self.instance
            medical_override_record(
                actor=request.user,
                team=assignment.workout.team,
                verdicts=[self.verdict],
                workout_id=assignment.workout_id,
                channel="admin",
                reason=self.cleaned_data["medical_override_reason"].strip(),
                obj=assignment,
            )


class AssignmentInlineFormSet(BaseInlineFormSet):
    """A workout's assignments, judged again as a whole when the same save changes its exercises."""

    exercise_formset: Any = None  # the workout's exercises inline, linked by WorkoutAdmin

    def clean(self) -> None:
        super().clean()
        parts = self.exercise_formset
        if parts is None or not parts.has_changed() or not parts.is_valid():
            return
        rows = sorted(
            (
                f.cleaned_data
                for f in parts.forms
                if f.cleaned_data.get("exercise") and not f.cleaned_data.get("DELETE")
            ),
            key=lambda row: row.get("order") or 0,
        )
        workout = self.instance
        planned = PlannedWorkout(
            tuple(
                ExerciseSpec.from_exercise(r["exercise"], load_percent=r.get("load_percent")) for r in rows
            ),
            local_date(workout.scheduled_start),
            workout.intensity,
            workout.name,
        )
        forms_ = [
            f
            for f in self.forms
            if isinstance(f, AssignmentAdminForm)
            and getattr(f, "cleaned_data", None)
            and f.cleaned_data.get("player")
            and not f.cleaned_data.get("DELETE")
            and not f.errors
        ]
        verdicts = judge_pairs(
            [(f.prefix, f.cleaned_data["player"].pk) for f in forms_],
            dict.fromkeys([f.prefix for f in forms_], planned),
        )
        for form in forms_:
            try:
                form.take_verdict(verdicts[(form.prefix, form.cleaned_data["player"].pk)], workout)
            except forms.ValidationError as error:
                form.add_error(None, error)


def with_user(form_class: type[AssignmentAdminForm], request: HttpRequest) -> type[AssignmentAdminForm]:
    return type(form_class.__name__, (form_class,), {"user": request.user})


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
    form = AssignmentAdminForm
    formset = AssignmentInlineFormSet
    extra = 0
    autocomplete_fields = ["player"]
    fields = [
        "player",
        "role",
        "load_percent",
        "status",
        "medical_override_reason",
        "medical_verdict",
        "modifications",
        "version",
    ]
    # The compliance engine computes the verdict and its modifications; nobody types them.
    readonly_fields = ["medical_verdict", "modifications", "version"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_user(formset.form, request)
        return formset


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

    def _create_formsets(self, request: HttpRequest, obj: Any, change: bool) -> Any:
        # The assignments are judged on the exercises this same save leaves the workout with.
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        parts = next((f for f in formsets if f.model is WorkoutExercise), None)
        for formset in formsets:
            if isinstance(formset, AssignmentInlineFormSet):
                formset.exercise_formset = parts
        return formsets, inline_instances


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
    form = AssignmentAdminForm
    list_display = ["workout", "player", "role", "load_percent", "status", "medical_verdict", "version"]
    list_filter = ["role", "status", "medical_verdict", "workout__team"]
    search_fields = ["workout__name", "player__first_name", "player__last_name"]
    list_select_related = ["workout", "player"]
    autocomplete_fields = ["workout", "player"]
    readonly_fields = ["medical_verdict", "modifications", "version", "created_at", "updated_at"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        return with_user(super().get_form(request, obj, change=change, **kwargs), request)

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        form.record_override(request)
