"""Plans (workouts/plans.py): what a new workout, a copy or a series' occurrence writes, from loaded rows,
with no queries; or the refusal, with its code and where in the operation's data it lies."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.utils import timezone

from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    FacilityFactory,
    PlayerFactory,
    TemplateExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
)
from workouts import plans
from workouts.limits import DEFAULT_DURATION_MINUTES, DEFAULT_LOAD_PERCENT, DEFAULT_SETS
from workouts.models import Assignment, Workout
from workouts.rules import NOT_FOUND, Refusal

pytestmark = pytest.mark.django_db


def local(text: str) -> dt.datetime:
    """A wall-clock time in the club's zone (settings.TIME_ZONE)."""
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def catalog(**rows) -> plans.Catalog:
    """A Catalog of the given rows, keyed by id as the executors load them."""
    by_id = {
        name: {row.pk: row for row in values} for name, values in rows.items() if name != "template_exercises"
    }
    return plans.Catalog(template_exercises=rows.get("template_exercises", {}), **by_id)


def plan(data, rows: plans.Catalog, *, start=None, end=None, user_id=None):
    return plans.new_workout(data, rows, start=start, end=end, team_id=1, created_by_id=user_id)


def test_a_workout_from_a_template_lasts_as_long_as_the_template_and_takes_its_exercises(
    team, django_assert_num_queries
):
    template = WorkoutTemplateFactory(team=team, name="Legs", duration_minutes=45, intensity=80)
    squat, lunge = ExerciseFactory(), ExerciseFactory()
    rows = [
        TemplateExerciseFactory(template=template, exercise=squat, order=0, sets=5),
        TemplateExerciseFactory(template=template, exercise=lunge, order=1, sets=2),
    ]
    loaded = catalog(templates=[template], library=[squat, lunge], template_exercises={template.pk: rows})
    start = local("2026-11-20T17:00")
    with django_assert_num_queries(0):
        new = plan({"templateId": template.pk}, loaded, start=start, user_id=7)
    assert isinstance(new, plans.NewWorkout)
    row = new.workout
    assert row["scheduled_end"] - row["scheduled_start"] == dt.timedelta(minutes=45)
    assert (row["name"], row["intensity"], row["template_id"]) == ("Legs", 80, template.pk)
    assert (row["status"], row["created_by_id"]) == (Workout.Status.SCHEDULED, 7)
    assert [(e["exercise"], e["sets"]) for e in new.exercises] == [(squat, 5), (lunge, 2)]


def test_without_a_template_a_workout_lasts_the_default_and_without_a_start_is_a_draft(team):
    squat = ExerciseFactory()
    loaded = catalog(library=[squat])
    start = local("2026-11-20T17:00")
    timed = plan({"workout": {"name": "Gym"}}, loaded, start=start)
    assert timed.workout["scheduled_end"] == start + dt.timedelta(minutes=DEFAULT_DURATION_MINUTES)
    draft = plan({"workout": {"name": "Gym"}, "exercises": [{"exerciseId": squat.pk}]}, loaded)
    assert (draft.workout["status"], draft.workout["scheduled_end"]) == (Workout.Status.DRAFT, None)
    assert draft.exercises[0]["sets"] == DEFAULT_SETS


def test_an_end_before_the_start_is_refused_with_its_rule_and_field():
    start = local("2026-11-20T17:00")
    refusal = plan({"workout": {"name": "Gym"}}, catalog(), start=start, end=start - dt.timedelta(hours=1))
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.field) == ("END_BEFORE_START", "data.workout.scheduledEnd")
    scheduled = plan({"workout": {"name": "Gym", "status": "scheduled"}}, catalog())
    assert (scheduled.code, scheduled.field) == ("SCHEDULED_WITHOUT_START", "data.workout.status")


def test_a_player_listed_twice_is_refused_at_the_second_entry(team):
    player = PlayerFactory(team=team)
    data = {"workout": {"name": "Gym"}, "assignments": [{"playerId": player.pk}, {"playerId": player.pk}]}
    refusal = plan(data, catalog(players=[player]))
    assert (refusal.code, refusal.field) == ("LISTED_TWICE", "data.assignments[1]")
    once = plan({**data, "assignments": data["assignments"][:1]}, catalog(players=[player]))
    assert once.assignments == [
        {"player": player, "role": Assignment.Role.PARTICIPANT, "load_percent": DEFAULT_LOAD_PERCENT}
    ]


@pytest.mark.parametrize(
    ("data", "what", "field"),
    [
        ({"templateId": 999_001}, "Template", "data.templateId"),
        ({"schedule": {"facilityId": 999_001}}, "Facility", "data.workout.facilityId"),
        ({"exercises": [{"exerciseId": 999_001}]}, "Exercise", "data.exercises[0]"),
        ({"assignments": [{"playerId": 999_001}]}, "Player", "data.assignments[0].playerId"),
    ],
)
def test_an_unknown_row_is_not_found_naming_its_id_and_field(data, what, field):
    refusal = plan({"workout": {"name": "Gym"}, **data}, catalog())
    assert (refusal.code, refusal.field, refusal.ident) == (NOT_FOUND, field, 999_001)
    assert refusal.message == f"{what} 999001 does not exist in this team"


def test_a_known_facility_is_kept():
    gym = FacilityFactory()
    new = plan({"schedule": {"facilityId": gym.pk}}, catalog(facilities=[gym]))
    assert new.workout["facility_id"] == gym.pk


def test_copies_land_n_times_the_shift_later_named_by_the_pattern(team):
    original = WorkoutFactory.build(
        team=team,
        name="Legs",
        scheduled_start=local("2026-11-20T17:00"),
        scheduled_end=local("2026-11-20T18:30"),
    )
    copies = plans.copies(original, count=3, shift=2, pattern=plans.copy_pattern(None, "{original} #{n}"))
    assert [c.name for c in copies] == ["Legs #1", "Legs #2", "Legs #3"]
    assert [c.day for c in copies] == [dt.date(2026, 11, 22), dt.date(2026, 11, 24), dt.date(2026, 11, 26)]
    assert all(c.end - c.start == dt.timedelta(minutes=90) for c in copies)
    drafts = plans.copies(original, count=2, shift=None, pattern=plans.copy_pattern(None, None))
    assert [(c.name, c.start, c.end) for c in drafts] == [
        ("Legs - Copy 1", None, None),
        ("Legs - Copy 2", None, None),
    ]
    refusal = plans.copies(original, count=2, shift=0, pattern="x")
    assert isinstance(refusal, Refusal) and refusal.field == "data.dateShiftDays"


@time_machine.travel(dt.datetime(2027, 3, 20, 9, 0, tzinfo=dt.UTC), tick=False)
def test_copies_and_a_series_across_the_spring_dst_change_keep_the_local_time(team):
    # Stockholm moves its clocks forward on Sunday 28 March 2027: 18:00 is 17:00 UTC before, 16:00 after.
    start = local("2027-03-25T18:00")
    original = WorkoutFactory.build(
        team=team, name="Legs", scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1)
    )
    copy = plans.copies(original, count=1, shift=7, pattern="{original}")[0]
    assert timezone.localtime(copy.start).time() == dt.time(18, 0)
    # Six days and 23 hours of real time: the night the clocks go forward is an hour short.
    assert copy.start.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(days=7, hours=-1)
    days = [dt.date(2027, 3, 25), dt.date(2027, 4, 1)]
    occurrences = plans.series(original, start=start, days=days, duration=dt.timedelta(minutes=45))
    assert [o.n for o in occurrences] == [0, 1]
    assert [timezone.localtime(o.start).time() for o in occurrences] == [dt.time(18, 0)] * 2
    assert [o.start.astimezone(dt.UTC).hour for o in occurrences] == [17, 16]
    assert all(o.end - o.start == dt.timedelta(minutes=45) for o in occurrences)


def test_a_copy_is_a_draft_without_a_start_and_scheduled_with_one(team):
    original = WorkoutFactory.build(team=team, name="Legs", notes="n", intensity=70)
    draft = plans.workout_copy(
        original, name="x", start=None, end=None, facility_id=None, created_by=None
    ).workout
    start = timezone.now()
    copy = plans.workout_copy(
        original,
        name="y" * 300,
        start=start,
        end=start,
        facility_id=None,
        created_by=None,
        changes={"intensity": 40},
    ).workout
    assert draft.status == Workout.Status.DRAFT and draft.scheduled_end is None
    assert copy.status == Workout.Status.SCHEDULED and len(copy.name) == 200 and copy.intensity == 40
    assert copy.source_workout is original and copy.notes == "n"


def test_a_copy_carries_the_players_but_those_left_out_with_the_days_caps(team):
    workout = WorkoutFactory(team=team)
    capped = AssignmentFactory(workout=workout, load_percent=100)
    gone = AssignmentFactory(workout=workout, load_percent=90)
    free = AssignmentFactory(workout=workout, load_percent=80)
    verdicts = {
        capped.player_id: SimpleNamespace(load_cap=60, verdict="modified", substitutions=("swap",)),
        gone.player_id: SimpleNamespace(load_cap=None, verdict="blocked", substitutions=()),
    }
    rows = plans.copy_assignments([capped, gone, free], verdicts, out={gone.player_id})
    assert [(r["player_id"], r["load_percent"], r["medical_verdict"]) for r in rows] == [
        (capped.player_id, 60, "modified"),
        (free.player_id, 80, Assignment.Verdict.UNCHECKED),
    ]
    loads = {a.player_id: a.load_percent for a in (capped, gone, free)}
    assert plans.day_loads(loads, verdicts, out={gone.player_id}) == {
        capped.player_id: 60,
        free.player_id: 80,
    }
