"""The `data` of each operation type: fields, limits and the rules one operation can check alone.

Rules that need the database (the workout exists, the calendar is free, the player may train) live
with the executors and the domain; what is here needs nothing but the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.utils import timezone
from pydantic import Field, PlainValidator, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from batch.exchange.fields import (
    Between,
    DateText,
    DateTimeText,
    ExchangeModel,
    Id,
    IdOrRef,
    Text,
    choice,
    parse_dt,
    rule_error,
)
from workouts.limits import (
    DEFAULT_LOAD_PERCENT,
    DEFAULT_REST_SECONDS,
    DEFAULT_SETS,
    MAX_LOAD_PERCENT,
    UPDATABLE_FIELDS,
)
from workouts.models import Assignment, Workout, WorkoutTemplate
from workouts.recurrence import FREQUENCIES, MAX_OCCURRENCES, WEEKDAYS, RecurrenceError, occurrence_days
from workouts.rules import UPDATE_STATUSES

# A CREATE that names neither a type nor a template gets this one (the seed guide's examples omit it).
DEFAULT_WORKOUT_TYPE = Workout.Type.HYBRID.value
NAME_MAX = 200
NOTES_MAX = 5000
MAX_ASSIGNMENTS = 200
MAX_EXERCISES = 100
MAX_COPIES = 100
MAX_SHIFT_DAYS = 365
MAX_TEMPLATE_SOURCES = 50

WorkoutType = choice(Workout.Type.values)
Role = choice(Assignment.Role.values)
LoadPercent = Between(0, MAX_LOAD_PERCENT)
Intensity = Between(0, 100)
Name = Text(NAME_MAX)
Notes = Text(NOTES_MAX)
MedicalCheck = Field(
    default=None,
    description="Per operation: false turns the medical gate off for it (medical or club staff only); "
    "default: the batch option medicalComplianceCheck.",
)

BLOCKED_PLAYERS = ("exclude", "fail")
BlockedPlayersMode = choice(BLOCKED_PLAYERS)
BlockedPlayers = Field(
    default=None,
    description='Per operation, for players the medical gate blocks: "exclude" leaves them out (or takes '
    "them off a workout moved onto a day they are blocked, undoably), assigns the rest and succeeds with a "
    'warning naming each one; "fail" fails the whole operation. Default: the batch option blockedPlayers.',
)


class AssignmentEntry(ExchangeModel):
    """One player to put on a workout."""

    player_id: Id
    role: Role = Field(default=None, description="Default participant.")
    load_percent: LoadPercent = Field(default=None, description=f"Default {DEFAULT_LOAD_PERCENT}.")


class ExerciseEntry(ExchangeModel):
    exercise_id: Id
    sets: Between(1, 30) = Field(default=None, description=f"Default {DEFAULT_SETS}.")
    reps: Between(0, 500) = None
    duration_seconds: Between(0, 36_000) = None
    load_percent: LoadPercent = None
    rest_seconds: Between(0, 3600) = Field(default=None, description=f"Default {DEFAULT_REST_SECONDS}.")


class CreateWorkout(ExchangeModel):
    name: Name = Field(default=None, description="Required unless a template gives it.")
    type: WorkoutType = Field(
        default=None, description=f"Default: the template's category, else {DEFAULT_WORKOUT_TYPE}."
    )
    status: choice([Workout.Status.DRAFT, Workout.Status.SCHEDULED]) = None
    scheduled_start: DateTimeText = None
    scheduled_end: DateTimeText = None
    facility_id: Id = None
    notes: Notes = None
    intensity: Intensity = None
    template_id: IdOrRef = Field(default=None, description="As in the seed guide; same as data.templateId.")


class CreateSchedule(ExchangeModel):
    start: DateTimeText
    end: DateTimeText = None
    facility_id: Id = None


class CreateData(ExchangeModel):
    """CREATE: a workout from scratch or from a template, with exercises, players and a time."""

    workout: CreateWorkout
    exercises: list[ExerciseEntry] = Field(default=None, max_length=MAX_EXERCISES)
    assignments: list[AssignmentEntry] = Field(default=None, max_length=MAX_ASSIGNMENTS)
    schedule: CreateSchedule = None
    template_id: IdOrRef = None
    check_medical_compliance: bool = MedicalCheck
    blocked_players: BlockedPlayersMode = BlockedPlayers

    @model_validator(mode="after")
    def _template_and_defaults(self) -> CreateData:
        inner = self.workout.template_id
        if inner is not None:
            if self.template_id is not None and self.template_id != inner:
                raise rule_error("templateId", "differs from data.workout.templateId; give the template once")
            self.template_id = inner
            self.workout.template_id = None
            self.workout.model_fields_set.discard("template_id")
        if self.template_id is None:
            if not self.workout.name or not self.workout.name.strip():
                raise rule_error("workout.name", "is required unless a templateId is given")
            if self.workout.type is None:
                self.workout.type = DEFAULT_WORKOUT_TYPE
        return self


class UpdateFields(ExchangeModel):
    """The fields UPDATE may change; null clears the time or the facility."""

    name: Text(NAME_MAX, required=True) = None
    type: WorkoutType = None
    status: choice(list(UPDATE_STATUSES)) = None
    scheduled_start: DateTimeText | None = None
    scheduled_end: DateTimeText | None = None
    facility_id: Id | None = None
    notes: Notes = None
    intensity: Intensity = None


# What UPDATE may change (workouts.limits.UPDATABLE_FIELDS) by exchange name: camelCase key -> model field.
UPDATABLE = {to_camel(Workout._meta.get_field(name).attname): name for name in UPDATABLE_FIELDS}


class UpdateData(ExchangeModel):
    """UPDATE: change some fields of a workout, optionally only at an expected version."""

    workout_id: IdOrRef
    updates: UpdateFields
    expected_version: Between(1, 2**31 - 1) = None
    check_medical_compliance: bool = MedicalCheck
    blocked_players: BlockedPlayersMode = BlockedPlayers

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateData:
        if not self.updates.model_fields_set:
            raise rule_error("updates", "must change at least one field")
        return self


class DeleteData(ExchangeModel):
    """DELETE: archive a workout (undoable), or remove it for good with `permanent`."""

    workout_id: IdOrRef
    permanent: bool = None


class ArchiveData(ExchangeModel):
    """ARCHIVE: archive a workout, or restore it with `restore`."""

    workout_id: IdOrRef
    restore: bool = None
    blocked_players: BlockedPlayersMode = BlockedPlayers


class AssignData(ExchangeModel):
    """ASSIGN: put players on a workout (updating their role and load when already on it)."""

    workout_id: IdOrRef
    assignments: list[AssignmentEntry] = Field(max_length=MAX_ASSIGNMENTS)
    remove_existing: bool = Field(default=None, description="Take every other player off the workout.")
    check_medical_compliance: bool = MedicalCheck
    blocked_players: BlockedPlayersMode = BlockedPlayers

    @model_validator(mode="after")
    def _someone(self) -> AssignData:
        if not self.assignments and not self.remove_existing:
            raise rule_error("assignments", "must name at least one player (or set removeExisting)")
        return self


def weekday(value: Any) -> int | str:
    if (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6) or value in WEEKDAYS:
        return value
    raise PydanticCustomError("weekday", "must be 0-6 (Monday = 0) or MO, TU, WE, TH, FR, SA, SU")


Weekday = Annotated[
    Any,
    PlainValidator(weekday),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 6}, {"enum": list(WEEKDAYS)}]}),
]


class Recurrence(ExchangeModel):
    """A series: see workouts.recurrence for how each frequency lays out its days."""

    frequency: choice(FREQUENCIES)
    weekdays: list[Weekday] = Field(default=None, max_length=7)
    until: DateText = Field(default=None, description="Inclusive.")
    count: Between(1, MAX_OCCURRENCES) = None
    exceptions: list[DateText] = Field(default=None, max_length=MAX_OCCURRENCES)


class ScheduleData(ExchangeModel):
    """SCHEDULE: move a workout, or lay out a recurring series of copies."""

    workout_id: IdOrRef
    start: DateTimeText
    end: DateTimeText = None
    facility_id: Id = None
    recurrence: Recurrence = None
    check_medical_compliance: bool = MedicalCheck
    blocked_players: BlockedPlayersMode = BlockedPlayers

    @model_validator(mode="after")
    def _series(self) -> ScheduleData:
        start = parse_dt(self.start)
        if self.end is not None and parse_dt(self.end) <= start:
            raise rule_error("end", "must be after the start")
        recurrence = self.recurrence
        if recurrence is None:
            return self
        if recurrence.until is None and recurrence.count is None:
            raise rule_error("recurrence", "needs until or count")
        try:
            days = occurrence_days(timezone.localtime(start).date(), recurrence.exchange())
        except RecurrenceError as exc:
            raise rule_error("recurrence", str(exc)) from None
        if not days:
            raise rule_error("recurrence", "produces no occurrence")
        return self


def pattern_ok(value: str) -> bool:
    rest = value.replace("{original}", "").replace("{n}", "")
    return "{" not in rest and "}" not in rest


class CopyChanges(ExchangeModel):
    """What every copy gets instead of the original's value (`name` is a pattern)."""

    name: Text(NAME_MAX, required=True) = None
    type: WorkoutType = None
    intensity: Intensity = None
    notes: Notes = None
    facility_id: Id = None


class DuplicateData(ExchangeModel):
    """DUPLICATE: copies of a workout, named by a pattern, optionally shifted by whole days."""

    workout_id: IdOrRef
    count: Between(1, MAX_COPIES)
    name_pattern: Text(NAME_MAX, required=True) = Field(
        default=None, description="{original} and {n} are replaced."
    )
    date_shift_days: Between(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS) = None
    include_assignments: bool = None
    modifications: CopyChanges = None
    check_medical_compliance: bool = MedicalCheck
    blocked_players: BlockedPlayersMode = BlockedPlayers

    @model_validator(mode="after")
    def _patterns(self) -> DuplicateData:
        for where, pattern in (
            ("namePattern", self.name_pattern),
            ("modifications.name", self.modifications.name if self.modifications else None),
        ):
            if pattern is not None and not pattern_ok(pattern):
                raise rule_error(where, "may use only the placeholders {original} and {n}")
        return self


class TemplateData(ExchangeModel):
    """TEMPLATE: a template from successful (completed or scheduled) workouts of the team."""

    workout_ids: list[IdOrRef] = Field(min_length=1, max_length=MAX_TEMPLATE_SOURCES)
    name: Text(NAME_MAX, required=True)
    category: WorkoutType
    description: Notes = None
    tags: list[Text(40)] = Field(default=None, max_length=20)
    visibility: choice(WorkoutTemplate.Visibility.values)


class RevertData(ExchangeModel):
    """REVERT (internal, built by undo): write one logged change's before-image back."""

    change_id: Id
    force: bool = None


DATA_MODELS: dict[str, type[ExchangeModel]] = {
    "CREATE": CreateData,
    "UPDATE": UpdateData,
    "DELETE": DeleteData,
    "ARCHIVE": ArchiveData,
    "ASSIGN": AssignData,
    "SCHEDULE": ScheduleData,
    "DUPLICATE": DuplicateData,
    "TEMPLATE": TemplateData,
    "REVERT": RevertData,
}
