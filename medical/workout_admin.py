"""The medical gate in the admin: the workout and assignment admins of `workouts/admin.py`, registered
again with the gate on top (workouts imports no other app of ours, so the gate comes from here).

An assignment's player is judged for the workout as the same save leaves it (its day, intensity and
exercises); a blocked player needs a medic's or staff member's reason, audited; the verdict and its
modifications are computed, never typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from medical.compliance import BLOCKED, ExerciseSpec, PlayerVerdict
from medical.gate import (
    PlannedWorkout,
    block_of,
    judge_pairs,
    medical_override_record,
    planned_workouts,
)
from medical.roles import is_medic_or_staff
from workouts import admin as workouts_admin
from workouts.admin import AssignmentForm
from workouts.admin import AssignmentInlineFormSet as BaseAssignmentInlineFormSet
from workouts.calendar import workout_day
from workouts.models import Assignment, Workout
from workouts.rules import assignment_medical_fields


class AssignmentAdminForm(AssignmentForm):
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

    verdict: PlayerVerdict | None = None
    override: bool = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the workout rules first (no players on a cancelled workout)
        if self.errors:
            return cleaned
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
            if not is_medic_or_staff(user=self.user, team=workout.team):
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
        on_date = workout_day(workout.scheduled_start)
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


class AssignmentInlineFormSet(BaseAssignmentInlineFormSet):
    """A workout's assignments, judged again as a whole when the same save changes its exercises."""

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
            workout_day(workout.scheduled_start),
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


class AssignmentInline(workouts_admin.AssignmentInline):
    form = AssignmentAdminForm
    formset = AssignmentInlineFormSet
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

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_user(formset.form, request)
        return formset


admin.site.unregister(Workout)
admin.site.unregister(Assignment)


@admin.register(Workout)
class WorkoutAdmin(workouts_admin.WorkoutAdmin):
    inlines = [workouts_admin.WorkoutExerciseInline, AssignmentInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if isinstance(inline_form, AssignmentAdminForm) and inline_form.instance.pk:
                inline_form.record_override(request)


@admin.register(Assignment)
class AssignmentAdmin(workouts_admin.AssignmentAdmin):
    form = AssignmentAdminForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        return with_user(super().get_form(request, obj, change=change, **kwargs), request)

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        form.record_override(request)
