"""DUPLICATE, TEMPLATE and CREATE's calendar conflicts run in-process by the runner, with query bounds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batch.models import Batch, BatchChange, BatchItem
from batch.validation import batch_validate
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    FacilityFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import TemplateExercise, Workout, WorkoutTemplate

pytestmark = pytest.mark.django_db
QUERY_BOUND = 45


def item(batch: Batch, op_id: str) -> BatchItem:
    return BatchItem.objects.get(batch=batch, op_id=op_id)


def dup(op_id: str, workout_id, count: int = 2, **data) -> dict:
    return {"id": op_id, "type": "DUPLICATE", "data": {"workoutId": workout_id, "count": count, **data}}


def tmpl(op_id: str, ids, **data) -> dict:
    base = {"workoutIds": ids, "name": "Leg day", "category": "STRENGTH", "visibility": "team"}
    return {"id": op_id, "type": "TEMPLATE", "data": {**base, **data}}


def worker_queries(run_batches) -> int:
    with CaptureQueriesContext(connection) as captured:
        run_batches()
    return len(captured.captured_queries)


def test_duplicate_copies_with_pattern_shift_assignments_and_modifications(submit, run_batches, team):
    original = WorkoutFactory(team=team, name="Legs")
    WorkoutExerciseFactory.create_batch(2, workout=original)
    AssignmentFactory(workout=original, load_percent=70)
    batch = submit(
        [dup("d", original.pk, 3, dateShiftDays=7, includeAssignments=True, modifications={"intensity": 40})]
    )
    run_batches()
    result = item(batch, "d")
    assert result.status == "SUCCEEDED", result.error
    copies = list(Workout.objects.filter(source_workout=original).order_by("scheduled_start"))
    assert [c.name for c in copies] == ["Legs - Copy 1", "Legs - Copy 2", "Legs - Copy 3"]
    assert [(c.scheduled_start - original.scheduled_start).days for c in copies] == [7, 14, 21]
    assert all(c.intensity == 40 and c.workout_exercises.count() == 2 for c in copies)
    assert all(c.assignments.get().load_percent == 70 for c in copies)
    assert result.result["createdIds"] == [c.pk for c in copies] and result.result["id"] == copies[0].pk
    assert BatchChange.objects.filter(batch=batch, action="created").count() == 3


def test_duplicate_without_shift_makes_unscheduled_drafts(submit, run_batches, team):
    original = WorkoutFactory(team=team, name="Core")
    submit([dup("d", original.pk, 2, namePattern="{n}: {original}")])
    run_batches()
    copies = Workout.objects.filter(source_workout=original).order_by("name")
    assert [(c.name, c.status, c.scheduled_start) for c in copies] == [
        ("1: Core", "draft", None),
        ("2: Core", "draft", None),
    ]


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"count": 0}, "data.count", ">= 1"),
        ({"count": 101}, "data.count", "<= 100"),
        ({"namePattern": "{original} {x}"}, "data.namePattern", "placeholders"),
        ({"modifications": {"colour": "red"}}, "data.modifications.colour", "unknown field"),
    ],
)
def test_duplicate_request_errors(trainer, team, data, field, fragment):
    report = batch_validate(user=trainer, team=team, raw={"operations": [dup("d", 1, **data)]})
    assert any(p.field == field and fragment in p.message for p in report.problems), report.problems


def test_duplicate_copies_conflicts_and_medical(submit, run_batches, team, trainer):
    gym = FacilityFactory(name="Gym")
    original = WorkoutFactory(team=team, facility=gym)
    WorkoutExerciseFactory(workout=original)
    WorkoutFactory(team=team, facility=gym, scheduled_start=original.scheduled_start + dt.timedelta(days=1))
    raw = {
        "operations": [dup("d", original.pk, 2, dateShiftDays=1)],
        "options": {"conflictResolution": "SKIP"},
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.items["d"].conflicts[0]["details"]["conflict"] == "FACILITY_DOUBLE_BOOKED"
    hurt = PlayerFactory(team=team)
    AssignmentFactory(workout=original, player=hurt)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.SEVERE)
    batch = submit(
        [dup("d", original.pk, 1, dateShiftDays=3, includeAssignments=True)],
        validateBeforeExecute=False,
        blockedPlayers="fail",
    )
    run_batches()
    assert item(batch, "d").error["code"] == "MEDICAL_RESTRICTION"


def test_template_from_successful_workouts_takes_the_union_of_exercises(submit, run_batches, team):
    a = WorkoutFactory(team=team, status="completed", intensity=60)
    b = WorkoutFactory(team=team, status="scheduled", intensity=80)
    shared = WorkoutExerciseFactory(workout=a, sets=5).exercise
    WorkoutExerciseFactory(workout=b, exercise=shared, sets=2)
    extra = WorkoutExerciseFactory(workout=b).exercise
    batch = submit([tmpl("t", [a.pk, b.pk], tags=["legs"], description="Heavy")])
    run_batches()
    template = WorkoutTemplate.objects.get(name="Leg day")
    rows = list(TemplateExercise.objects.filter(template=template).order_by("order"))
    assert [(r.exercise_id, r.sets) for r in rows] == [(shared.pk, 5), (extra.pk, 3)]
    assert template.intensity == 70 and template.source_workout_ids == [a.pk, b.pk]
    assert template.tags == ["legs"] and template.duration_minutes == 60
    change = BatchChange.objects.get(batch=batch)
    assert (change.model, change.object_id, change.action) == (
        "workouts.workouttemplate",
        template.pk,
        "created",
    )
    assert item(batch, "t").result["templateId"] == template.pk


def test_template_errors(trainer, team, other_team):
    draft = WorkoutFactory(team=team, status="draft")
    archived = WorkoutFactory(team=team, status="completed", archived_at=timezone.now())
    empty = WorkoutFactory(team=team, status="completed")
    foreign = WorkoutFactory(team=other_team, status="completed")
    raw = {
        "operations": [
            tmpl("draft", [draft.pk]),
            tmpl("archived", [archived.pk]),
            tmpl("empty", [empty.pk]),
            tmpl("foreign", [foreign.pk]),
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert "completed or scheduled" in report.items["draft"].errors[0]["message"]
    assert "completed or scheduled" in report.items["archived"].errors[0]["message"]
    assert "no exercises" in report.items["empty"].errors[0]["message"]
    assert report.items["foreign"].errors[0]["code"] == "NOT_FOUND"
    bad = batch_validate(user=trainer, team=team, raw={"operations": [tmpl("x", [], visibility="world")]})
    assert {p.field for p in bad.problems} == {"data.workoutIds", "data.visibility"}


def test_create_with_schedule_goes_through_the_calendar(submit, run_batches, team):
    gym = FacilityFactory(name="Gym", opens_at=dt.time(7), closes_at=dt.time(21))
    busy = WorkoutFactory(team=team, facility=gym)
    start = timezone.localtime(busy.scheduled_start).isoformat()
    op = {
        "id": "c",
        "type": "CREATE",
        "data": {
            "workout": {"name": "New", "type": "STRENGTH"},
            "schedule": {"start": start, "facilityId": gym.pk},
        },
    }
    batch = submit([op], conflictResolution="ADJUST_TIME")
    run_batches()
    created = Workout.objects.get(name="New")
    assert created.scheduled_start == busy.scheduled_end and created.facility_id == gym.pk
    assert item(batch, "c").warnings[0]["code"] == "CONFLICT_FACILITY_DOUBLE_BOOKED"
    batch = submit([{**op, "id": "c2"}], conflictResolution="SKIP", validateBeforeExecute=False)
    run_batches()
    assert item(batch, "c2").status == "SKIPPED"


@pytest.mark.parametrize("op_type", ["DUPLICATE", "TEMPLATE"])
def test_a_100_item_chunk_runs_in_as_many_queries_as_a_10_item_one(submit, run_batches, team, op_type):
    counts = []
    for n in (10, 100):
        workouts = WorkoutFactory.create_batch(n, team=team)
        for i, w in enumerate(workouts):
            WorkoutExerciseFactory(workout=w)
            if i < 5:
                AssignmentFactory(workout=w)
        if op_type == "DUPLICATE":
            ops = [dup(f"{n}-{w.pk}", w.pk, 2, dateShiftDays=1, includeAssignments=True) for w in workouts]
        else:
            ops = [tmpl(f"{n}-{w.pk}", [w.pk]) for w in workouts]
        batch = submit(ops, chunkSize=n, conflictResolution="FIND_ALTERNATIVE")
        counts.append(worker_queries(run_batches))
        assert Batch.objects.get(pk=batch.pk).succeeded == n
    assert max(counts) <= QUERY_BOUND and abs(counts[1] - counts[0]) <= 3, counts
