"""Plans: the rows a new workout, a copy or a series' occurrence writes, from rows the caller loaded.

Pure, like the rulebook (`workouts.rules`): no queries, no model instance per operation for a new
workout (a 100k-operation dry run asks `new_workout` once per operation). A plan function returns the
rows to write, or a Refusal whose `field` says where in the operation's data it lies. The batch
executors load a chunk, ask once per item, then put the plan through the medical gate and the calendar
(which may leave players out or move the slot), write and log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from workouts.calendar import at, local_day
from workouts.limits import (
    DEFAULT_DURATION_MINUTES,
    DEFAULT_INTENSITY,
    DEFAULT_LOAD_PERCENT,
    DEFAULT_REST_SECONDS,
    DEFAULT_SETS,
)
from workouts.models import Assignment, Workout
from workouts.rules import (
    Refusal,
    assignment_medical_fields,
    default_duration,
    default_status,
    listed_twice,
    timing_refusal,
    unknown,
)

if TYPE_CHECKING:  # only named in annotations
    from workouts.models import Exercise, Facility, Player, TemplateExercise, WorkoutTemplate

# --- a new workout (CREATE) ----------------------------------------------------------------------------

# A timing refusal's model field -> where it lies in a CREATE's data.
CREATE_PATHS = {"scheduled_end": "data.workout.scheduledEnd", "status": "data.workout.status"}


@dataclass(slots=True)
class Catalog:
    """The rows a group of new workouts names, loaded by the caller (each by id): facilities, the
    templates the user may use and their exercises in order, library exercises (the items' and the
    templates'), and the team's players."""

    facilities: Mapping[int, Facility] = field(default_factory=dict)
    templates: Mapping[int, WorkoutTemplate] = field(default_factory=dict)
    template_exercises: Mapping[int, Sequence[TemplateExercise]] = field(default_factory=dict)
    library: Mapping[int, Exercise] = field(default_factory=dict)
    players: Mapping[int, Player] = field(default_factory=dict)


@dataclass(slots=True)
class NewWorkout:
    """What a new workout writes: the workout as a plain row (the caller fills its id and whatever
    columns it leaves to their defaults), its exercises and its assignments (WorkoutExercise /
    Assignment keyword arguments, the library exercise and the player as instances)."""

    workout: dict[str, Any]
    exercises: list[dict[str, Any]]
    assignments: list[dict[str, Any]]


def players_listed(
    entries: Sequence[Mapping[str, Any]], players: Mapping[int, Player]
) -> list[tuple[Player, Mapping[str, Any]]] | Refusal:
    """The players an operation lists (its `assignments` entries, by `playerId`) with their entries,
    each the team's (`players`) and listed once: else the refusal at the first entry that is not
    (NOT_FOUND, LISTED_TWICE). CREATE and ASSIGN ask."""
    listed = []
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        player = players.get(entry["playerId"])
        if player is None:
            return unknown("Player", entry["playerId"], field=f"data.assignments[{index}].playerId")
        if (refusal := listed_twice(player, seen)) is not None:
            return replace(refusal, field=f"data.assignments[{index}]")
        seen.add(player.pk)
        listed.append((player, entry))
    return listed


def new_workout(
    data: Mapping[str, Any],
    catalog: Catalog,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    team_id: int,
    created_by_id: int | None,
) -> NewWorkout | Refusal:
    """Plan a CREATE from its data (`workout`, `schedule`, `exercises`, `assignments`, `templateId`,
    the exchange format's camelCase) and its start and end as the caller parsed them.

    Defaults: the template's (name, type, intensity, duration, exercises), else the domain's; the
    status is `default_status`; without an end the workout lasts its template's duration. Refused:
    an unknown template, facility, exercise or player (NOT_FOUND), a time that makes no sense, a
    player listed twice. The first refusal in that order is returned.
    """
    wdata = data.get("workout") or {}
    schedule = data.get("schedule") or {}
    template = None
    template_id = data.get("templateId")
    if template_id is not None:
        template = catalog.templates.get(template_id)
        if template is None:
            return unknown("Template", template_id, field="data.templateId")
    facility_id = schedule.get("facilityId", wdata.get("facilityId"))
    if facility_id is not None and facility_id not in catalog.facilities:
        return unknown("Facility", facility_id, field="data.workout.facilityId")
    status = wdata.get("status") or default_status(start)
    refusal = timing_refusal(status=status, start=start, end=end)
    if refusal is not None:
        return replace(refusal, field=CREATE_PATHS[refusal.field])
    if start and not end:
        end = start + dt.timedelta(
            minutes=template.duration_minutes if template else DEFAULT_DURATION_MINUTES
        )
    exercises: list[dict[str, Any]] = []
    if data.get("exercises"):
        library = catalog.library
        for index, entry in enumerate(data["exercises"]):
            exercise = library.get(entry["exerciseId"])
            if exercise is None:
                return unknown("Exercise", entry["exerciseId"], field=f"data.exercises[{index}]")
            exercises.append(
                {
                    "exercise": exercise,
                    "order": index,
                    "sets": entry.get("sets", DEFAULT_SETS),
                    "reps": entry.get("reps"),
                    "duration_seconds": entry.get("durationSeconds"),
                    "load_percent": entry.get("loadPercent"),
                    "rest_seconds": entry.get("restSeconds", DEFAULT_REST_SECONDS),
                }
            )
    elif template is not None:
        library = catalog.library
        for te in catalog.template_exercises.get(template.pk, ()):
            exercises.append(
                {
                    "exercise": library[te.exercise_id],
                    "order": te.order,
                    "sets": te.sets,
                    "reps": te.reps,
                    "duration_seconds": te.duration_seconds,
                    "load_percent": te.load_percent,
                    "rest_seconds": te.rest_seconds,
                }
            )
    listed = players_listed(data.get("assignments") or (), catalog.players)
    if isinstance(listed, Refusal):
        return listed
    assignments = [
        {
            "player": player,
            "role": entry.get("role", Assignment.Role.PARTICIPANT),
            "load_percent": entry.get("loadPercent", DEFAULT_LOAD_PERCENT),
        }
        for player, entry in listed
    ]
    workout = {
        "team_id": team_id,
        "name": wdata.get("name") or (template.name if template else ""),
        "type": wdata.get("type") or (template.category if template else ""),
        "status": status,
        "scheduled_start": start,
        "scheduled_end": end,
        "facility_id": facility_id,
        "notes": wdata.get("notes", ""),
        "intensity": wdata.get("intensity", template.intensity if template else DEFAULT_INTENSITY),
        "created_by_id": created_by_id,
        "template_id": template.pk if template else None,
    }
    return NewWorkout(workout=workout, exercises=exercises, assignments=assignments)


# --- copies (DUPLICATE) and a series' occurrences (SCHEDULE with recurrence) ----------------------------

DEFAULT_COPY_NAME = "{original} - Copy {n}"
# A workout exercise's prescription, as a copy (a workout's copy, a template's exercises) takes it.
EXERCISE_COPY = ("exercise_id", "sets", "reps", "duration_seconds", "load_percent", "rest_seconds")


def copy_pattern(*patterns: str | None) -> str:
    """The first pattern given (a copy's name from `modifications`, then `namePattern`), else
    DEFAULT_COPY_NAME."""
    for pattern in patterns:
        if pattern:
            return pattern
    return DEFAULT_COPY_NAME


def copy_name(pattern: str, original: Workout, n: int) -> str:
    """Name copy n of the workout after a pattern with the placeholders {original} and {n}."""
    return pattern.replace("{original}", original.name).replace("{n}", str(n))


def copy_days(first: dt.date, *, shift: int, count: int) -> list[dt.date]:
    """The club days of copies 1..count of a workout on `first`: copy n lands n × shift days later."""
    return [first + dt.timedelta(days=shift * n) for n in range(1, count + 1)]


def starts_on(days: Iterable[dt.date], like: dt.datetime) -> list[dt.datetime]:
    """Each day at `like`'s local wall-clock time: a copy or an occurrence keeps the time the club
    sees across a DST change (its UTC offset follows the day)."""
    wall = timezone.localtime(like).time()
    return [at(day, wall) for day in days]


@dataclass(slots=True)
class Occurrence:
    """One copy or one occurrence of a series: its number, name, club day and times (day, start and
    end None for an unscheduled copy, a draft)."""

    n: int
    name: str
    day: dt.date | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def copies(original: Workout, *, count: int, shift: int | None, pattern: str) -> list[Occurrence] | Refusal:
    """Copies 1..count of the workout, named after `pattern`. A scheduled workout's copies with a
    shift land n × shift days later at the same local time and last as long as it does (its
    `default_duration`); without a shift, or of an unscheduled workout, they are drafts. A shift of
    0 is refused: every copy would take the original's slot."""
    start = original.scheduled_start
    if start is None or shift is None:
        return [Occurrence(n, copy_name(pattern, original, n)) for n in range(1, count + 1)]
    if shift == 0:
        return Refusal(
            "copies shifted by 0 days would all take the original's slot",
            "Shift by at least one day, or leave dateShiftDays out for unscheduled drafts.",
            field="data.dateShiftDays",
        )
    duration = default_duration(original)
    days = copy_days(local_day(start), shift=shift, count=count)
    return [
        Occurrence(n, copy_name(pattern, original, n), day, begin, begin + duration)
        for n, (day, begin) in enumerate(zip(days, starts_on(days, start), strict=True), start=1)
    ]


def series(
    workout: Workout, *, start: dt.datetime, days: Sequence[dt.date], duration: dt.timedelta
) -> list[Occurrence]:
    """The occurrences (numbered from 0) of a series that starts at `start` on each of `days` (the
    recurrence's, `workouts.recurrence.occurrence_days`): each at the first one's local time, lasting
    `duration`, named as the workout."""
    return [
        Occurrence(n, workout.name, day, begin, begin + duration)
        for n, (day, begin) in enumerate(zip(days, starts_on(days, start), strict=True))
    ]


def day_loads(
    loads: Mapping[int, int], verdicts: Mapping[int, Any], *, out: Collection[int] = ()
) -> dict[int, int]:
    """The loads the players bring to a copy or an occurrence on a day (player id -> %), after that
    day's medical caps (`verdicts`: the gate's PlayerVerdicts by player), leaving out `out`."""
    return {
        pid: assignment_medical_fields(verdicts.get(pid), load)[0]
        for pid, load in loads.items()
        if pid not in out
    }


@dataclass(slots=True)
class WorkoutCopy:
    """One copy to insert: the new (unsaved) workout and its assignments' values; its exercises are
    the original's (`copy_exercise`)."""

    original: Workout
    workout: Workout
    assignments: list[dict[str, Any]] = field(default_factory=list)


def copy_assignments(
    assignments: Iterable[Assignment], verdicts: Mapping[int, Any], *, out: Collection[int] = ()
) -> list[dict[str, Any]]:
    """The original's assignments as the copy takes them (Assignment keyword arguments): player,
    role and load after the copy day's medical cap, with that day's verdict; players `out` stay off."""
    rows = []
    for a in assignments:
        if a.player_id in out:
            continue
        load, medical = assignment_medical_fields(verdicts.get(a.player_id), a.load_percent)
        rows.append({"player_id": a.player_id, "role": a.role, "load_percent": load, **medical})
    return rows


def copy_exercise(row: Any, names: Iterable[str] = EXERCISE_COPY) -> dict[str, Any]:
    """An exercise's prescription (the named attributes), as keyword arguments for its copy."""
    return {name: getattr(row, name) for name in names}


def workout_copy(
    original: Workout,
    *,
    name: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    facility_id: int | None,
    created_by: Any,
    changes: Mapping[str, Any] | None = None,
    assignments: Iterable[Assignment] = (),
    verdicts: Mapping[int, Any] | None = None,
    out: Collection[int] = (),
) -> WorkoutCopy:
    """Plan one copy of the workout: scheduled when it has a start, else a draft; it keeps the
    original's type, notes and intensity (unless `changes` say otherwise) and template, and takes
    `assignments` (the original's, or none) as `copy_assignments` carries them over."""
    changes = changes or {}
    workout = Workout(
        team_id=original.team_id,
        name=name[:200],
        type=changes.get("type", original.type),
        status=default_status(start),
        scheduled_start=start,
        scheduled_end=end if start else None,
        facility_id=facility_id,
        notes=changes.get("notes", original.notes),
        intensity=changes.get("intensity", original.intensity),
        created_by=created_by,
        template_id=original.template_id,
        source_workout=original,
    )
    return WorkoutCopy(original, workout, copy_assignments(assignments, verdicts or {}, out=out))
