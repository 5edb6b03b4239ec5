"""Writes to workouts, one change at a time.

Every service is atomic and bumps `version` on each object it changes, so undo and conflict
detection can tell whether somebody edited an object since. The batch engine calls these inside its
chunk transaction (one savepoint per item), which is why they use plain `transaction.atomic()` rather
than `durable=True`: they are building blocks, not top-level requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workouts.errors import InvalidField, InvalidState, ScheduleConflict, VersionConflict, WrongTeam
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Player,
    Team,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)
from workouts.rules import mark_archived, mark_restored, template_visible_to, within_opening_hours

# Fields `workout_update` may change. Status moves to/from "archived" only via archive/restore.
UPDATABLE_FIELDS = frozenset(
    {"name", "type", "status", "scheduled_start", "scheduled_end", "facility", "notes", "intensity"}
)
EXERCISE_FIELDS = ("order", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds")


def workout_snapshot(*, workout: Workout, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Return a JSON-able before/after image of the workout's fields (facility as its id)."""
    names = list(fields) if fields is not None else [*sorted(UPDATABLE_FIELDS), "archived_at"]
    image: dict[str, Any] = {}
    for name in names:
        value = workout.facility_id if name == "facility" else getattr(workout, name)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        image[name] = value
    return image


def _check_version(obj: Workout | Assignment, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise VersionConflict(
            f"{obj._meta.verbose_name.capitalize()} {obj.pk} is at version {obj.version}, "
            f"expected {expected_version}; somebody changed it meanwhile.",
            details={"id": obj.pk, "expected": expected_version, "actual": obj.version},
        )


def _lock(workout: Workout) -> Workout:
    """Re-read the workout under a row lock so version checks and increments cannot race."""
    try:
        return Workout.objects.select_for_update().get(pk=workout.pk)
    except Workout.DoesNotExist as exc:
        raise InvalidState(
            f"Workout {workout.pk} no longer exists.", code="NOT_FOUND", details={"id": workout.pk}
        ) from exc


def _ensure_not_archived(workout: Workout) -> None:
    if workout.archived_at is not None:
        raise InvalidState(
            f"Workout {workout.pk} is archived.",
            code="ARCHIVED",
            suggested_action="Restore the workout before changing it.",
            details={"id": workout.pk},
        )


def _clean_field(name: str, value: Any) -> Any:
    """Validate one value with the model field's own validators; raise InvalidField."""
    field = Workout._meta.get_field(name)
    if value in (None, "") and not field.null and not field.blank:
        raise InvalidField(f"{name} is required.", details={"field": name})
    try:
        return field.clean(value, None)
    except ValidationError as exc:
        raise InvalidField(
            f"{name}: {'; '.join(exc.messages)}", details={"field": name, "value": str(value)}
        ) from exc


def _resolve_facility(value: Facility | int | str | None) -> Facility | None:
    if value is None or value == "" or isinstance(value, Facility):
        return value or None
    try:
        return Facility.objects.get(pk=int(value))
    except (Facility.DoesNotExist, ValueError, TypeError) as exc:
        raise InvalidField(f"Unknown facility {value!r}.", details={"field": "facility"}) from exc


def _check_times(start: dt.datetime | None, end: dt.datetime | None) -> None:
    for name, value in (("scheduled_start", start), ("scheduled_end", end)):
        if value is not None and timezone.is_naive(value):
            raise InvalidField(f"{name} must include a time zone.", details={"field": name})
    if end is not None and (start is None or end <= start):
        raise InvalidField(
            "The workout must end after it starts.",
            details={"field": "scheduled_end"},
            suggested_action="Pick an end time later than the start time.",
        )


def _check_opening_hours(
    facility: Facility | None, start: dt.datetime | None, end: dt.datetime | None
) -> None:
    if facility is None or start is None:
        return
    if not within_opening_hours(facility, start, end):
        raise ScheduleConflict(
            f"{facility.name} is open {facility.opens_at:%H:%M}–{facility.closes_at:%H:%M}.",
            code="OUTSIDE_OPENING_HOURS",
            details={"facility": facility.pk, "start": start.isoformat()},
        )


def _exercise_rows(workout: Workout, exercises: Iterable[Mapping[str, Any]]) -> list[WorkoutExercise]:
    specs = list(exercises)
    ids = {
        spec["exercise"].pk if isinstance(spec["exercise"], Exercise) else spec["exercise"] for spec in specs
    }
    known = set(Exercise.objects.filter(pk__in=ids).values_list("pk", flat=True))
    rows = []
    for position, spec in enumerate(specs):
        ex = spec["exercise"]
        ex_id = ex.pk if isinstance(ex, Exercise) else ex
        if ex_id not in known:
            raise InvalidField(f"Unknown exercise {ex_id!r}.", details={"field": "exercises"})
        values = {key: spec[key] for key in EXERCISE_FIELDS if spec.get(key) is not None}
        values.setdefault("order", position)
        rows.append(WorkoutExercise(workout=workout, exercise_id=ex_id, **values))
    return rows


def workout_create(
    *,
    team: Team,
    user: Any,
    name: str,
    type: str,
    status: str = Workout.Status.DRAFT,
    scheduled_start: dt.datetime | None = None,
    scheduled_end: dt.datetime | None = None,
    facility: Facility | int | None = None,
    notes: str = "",
    intensity: int = 60,
    template: WorkoutTemplate | None = None,
    source_workout: Workout | None = None,
    exercises: Iterable[Mapping[str, Any]] | None = None,
) -> Workout:
    """Create a workout with its exercises (or the template's, when exercises is None)."""
    name = _clean_field("name", (name or "").strip())
    type = _clean_field("type", type)
    status = _clean_field("status", status)
    if status == Workout.Status.ARCHIVED:
        raise InvalidField("A new workout cannot be archived.", details={"field": "status"})
    intensity = _clean_field("intensity", intensity)
    facility = _resolve_facility(facility)
    _check_times(scheduled_start, scheduled_end)
    _check_opening_hours(facility, scheduled_start, scheduled_end)
    if template is not None and template.team_id != team.pk and template.visibility != "club":
        raise WrongTeam(f"Template {template.pk} belongs to another team.", details={"template": template.pk})
    if template is not None and not template_visible_to(
        template, user_id=user.pk if getattr(user, "is_authenticated", False) else None
    ):
        raise InvalidField(
            f"Template {template.pk} is private to the trainer who made it.", details={"field": "template"}
        )
    with transaction.atomic():
        workout = Workout.objects.create(
            team=team,
            name=name,
            type=type,
            status=status,
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
            facility=facility,
            notes=notes,
            intensity=intensity,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            template=template,
            source_workout=source_workout,
        )
        if exercises is None and template is not None:
            exercises = [
                {"exercise": te.exercise_id, **{key: getattr(te, key) for key in EXERCISE_FIELDS}}
                for te in template.template_exercises.all()
            ]
            WorkoutTemplate.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
        if exercises:
            WorkoutExercise.objects.bulk_create(_exercise_rows(workout, exercises))
    return workout


def workout_update(
    *, workout: Workout, fields: Mapping[str, Any], expected_version: int | None = None
) -> Workout:
    """Change some of the workout's fields; raise VersionConflict if it moved past expected_version."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidField(
            f"These fields cannot be updated: {', '.join(sorted(unknown))}.",
            details={"fields": sorted(unknown)},
        )
    if not fields:
        raise InvalidField("Nothing to update.", details={"fields": []})
    with transaction.atomic():
        locked = _lock(workout)
        _check_version(locked, expected_version)
        _ensure_not_archived(locked)
        for name, value in fields.items():
            if name == "facility":
                locked.facility = _resolve_facility(value)
                continue
            cleaned = _clean_field(name, value)
            if name == "status" and cleaned == Workout.Status.ARCHIVED:
                raise InvalidField("Use archive to archive a workout.", details={"field": "status"})
            setattr(locked, name, cleaned)
        _check_times(locked.scheduled_start, locked.scheduled_end)
        if {"facility", "scheduled_start", "scheduled_end"} & set(fields):
            _check_opening_hours(locked.facility, locked.scheduled_start, locked.scheduled_end)
        locked.version += 1
        locked.save(update_fields=[*fields, "version", "updated_at"])
    return locked


def workout_archive(*, workout: Workout, expected_version: int | None = None) -> Workout:
    """Archive the workout, remembering its status so restore can put it back."""
    with transaction.atomic():
        locked = _lock(workout)
        _check_version(locked, expected_version)
        if locked.archived_at is not None:
            raise InvalidState(
                f"Workout {locked.pk} is already archived.",
                code="ALREADY_ARCHIVED",
                details={"id": locked.pk},
            )
        mark_archived(locked, now=timezone.now())
        locked.save(update_fields=["status_before_archive", "status", "archived_at", "version", "updated_at"])
    return locked


def workout_restore(*, workout: Workout, expected_version: int | None = None) -> Workout:
    """Un-archive the workout with the status it had before."""
    with transaction.atomic():
        locked = _lock(workout)
        _check_version(locked, expected_version)
        if locked.archived_at is None:
            raise InvalidState(
                f"Workout {locked.pk} is not archived.", code="NOT_ARCHIVED", details={"id": locked.pk}
            )
        mark_restored(locked)
        locked.save(update_fields=["status_before_archive", "status", "archived_at", "version", "updated_at"])
    return locked


def workout_assign(
    *,
    workout: Workout,
    player: Player,
    role: str = Assignment.Role.PARTICIPANT,
    load_percent: int = 100,
    medical_verdict: str = Assignment.Verdict.UNCHECKED,
    modifications: list[dict[str, Any]] | None = None,
) -> Assignment:
    """Assign the player to the workout, or update the existing assignment (bumping its version)."""
    if player.team_id != workout.team_id:
        raise WrongTeam(
            f"{player} does not play for the workout's team.",
            details={"player": player.pk, "workout": workout.pk},
        )
    _ensure_not_archived(workout)
    if role not in Assignment.Role.values:
        raise InvalidField(f"Unknown role {role!r}.", details={"field": "role"})
    if medical_verdict not in Assignment.Verdict.values:
        raise InvalidField(
            f"Unknown medical verdict {medical_verdict!r}.", details={"field": "medical_verdict"}
        )
    if not isinstance(load_percent, int) or not 0 <= load_percent <= 150:
        raise InvalidField("Load must be between 0 and 150 %.", details={"field": "load_percent"})
    values = {
        "role": role,
        "load_percent": load_percent,
        "medical_verdict": medical_verdict,
        "modifications": modifications or [],
    }
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().filter(workout=workout, player=player).first()
        if assignment is None:
            return Assignment.objects.create(workout=workout, player=player, **values)
        for key, value in values.items():
            setattr(assignment, key, value)
        assignment.version += 1
        assignment.save(update_fields=[*values, "version", "updated_at"])
    return assignment


def workout_unassign(*, workout: Workout, player: Player) -> bool:
    """Remove the player's assignment; return whether there was one."""
    with transaction.atomic():
        deleted, _ = Assignment.objects.filter(workout=workout, player=player).delete()
    return deleted > 0


def workout_schedule(
    *,
    workout: Workout,
    start: dt.datetime,
    end: dt.datetime,
    facility: Facility | int | None,
    expected_version: int | None = None,
) -> Workout:
    """Put the workout on the calendar at a facility; a draft becomes scheduled."""
    facility = _resolve_facility(facility)
    _check_times(start, end)
    _check_opening_hours(facility, start, end)
    with transaction.atomic():
        locked = _lock(workout)
        _check_version(locked, expected_version)
        _ensure_not_archived(locked)
        if locked.status in (Workout.Status.COMPLETED, Workout.Status.CANCELLED):
            raise InvalidState(
                f"A {locked.get_status_display().lower()} workout cannot be rescheduled.",
                details={"id": locked.pk, "status": locked.status},
            )
        locked.scheduled_start, locked.scheduled_end, locked.facility = start, end, facility
        if locked.status == Workout.Status.DRAFT:
            locked.status = Workout.Status.SCHEDULED
        locked.version += 1
        locked.save(
            update_fields=["scheduled_start", "scheduled_end", "facility", "status", "version", "updated_at"]
        )
    return locked


def workout_duplicate(
    *,
    workout: Workout,
    user: Any,
    name: str | None = None,
    scheduled_start: dt.datetime | None = None,
    scheduled_end: dt.datetime | None = None,
    include_assignments: bool = False,
) -> Workout:
    """Copy the workout (exercises, optionally assignments) as a new draft; keeps its duration."""
    if (
        scheduled_start is not None
        and scheduled_end is None
        and workout.scheduled_start
        and workout.scheduled_end
    ):
        scheduled_end = scheduled_start + (workout.scheduled_end - workout.scheduled_start)
    exercises = [
        {"exercise": we.exercise_id, **{key: getattr(we, key) for key in EXERCISE_FIELDS}}
        for we in workout.workout_exercises.all()
    ]
    with transaction.atomic():
        copy = workout_create(
            team=workout.team,
            user=user,
            name=name or f"{workout.name} (copy)",
            type=workout.type,
            status=Workout.Status.SCHEDULED if scheduled_start else Workout.Status.DRAFT,
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end if scheduled_start else None,
            facility=workout.facility_id,
            notes=workout.notes,
            intensity=workout.intensity,
            template=workout.template,
            source_workout=workout,
            exercises=exercises,
        )
        if include_assignments:
            Assignment.objects.bulk_create(
                Assignment(workout=copy, player_id=a.player_id, role=a.role, load_percent=a.load_percent)
                for a in workout.assignments.all()
            )
    return copy


def template_from_workouts(
    *,
    workouts: Sequence[Workout],
    user: Any,
    name: str,
    visibility: str = WorkoutTemplate.Visibility.TEAM,
    description: str = "",
    tags: Sequence[str] = (),
) -> WorkoutTemplate:
    """Make a template from one or more workouts of one team: their exercises, first occurrence wins."""
    if not workouts:
        raise InvalidField("Pick at least one workout.", details={"field": "workouts"})
    team_ids = {w.team_id for w in workouts}
    if len(team_ids) > 1:
        raise WrongTeam(
            "All workouts of a template must belong to one team.", details={"teams": sorted(team_ids)}
        )
    if not (name or "").strip():
        raise InvalidField("The template needs a name.", details={"field": "name"})
    if visibility not in WorkoutTemplate.Visibility.values:
        raise InvalidField(f"Unknown visibility {visibility!r}.", details={"field": "visibility"})
    durations = [
        int((w.scheduled_end - w.scheduled_start).total_seconds() // 60)
        for w in workouts
        if w.scheduled_start and w.scheduled_end
    ]
    ids = [w.pk for w in workouts]
    rows = WorkoutExercise.objects.filter(workout_id__in=ids).order_by("workout_id", "order", "id")
    by_workout: dict[int, list[WorkoutExercise]] = {}
    for row in rows:
        by_workout.setdefault(row.workout_id, []).append(row)
    seen: set[int] = set()
    picked: list[WorkoutExercise] = []
    for workout_id in ids:
        for row in by_workout.get(workout_id, []):
            if row.exercise_id not in seen:
                seen.add(row.exercise_id)
                picked.append(row)
    first = workouts[0]
    with transaction.atomic():
        template = WorkoutTemplate.objects.create(
            team_id=first.team_id,
            name=name.strip(),
            category=first.type,
            description=description,
            tags=list(tags),
            visibility=visibility,
            intensity=round(sum(w.intensity for w in workouts) / len(workouts)),
            duration_minutes=round(sum(durations) / len(durations)) if durations else 60,
            source_workout=first if len(workouts) == 1 else None,
            source_workout_ids=ids,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        TemplateExercise.objects.bulk_create(
            TemplateExercise(
                template=template,
                exercise_id=row.exercise_id,
                order=position,
                **{key: getattr(row, key) for key in EXERCISE_FIELDS if key != "order"},
            )
            for position, row in enumerate(picked)
        )
    return template
