"""Every request example of the seed guide validates, with only object ids replaced by real ones.

shared/reference/upstream-batch-operations-guide.md shows its requests as TypeScript calls; here each
is the JSON its client would send. What is not JSON at all is left out and named: `progressCallback`
(a function) and `[...]` placeholders (filled with a real player). `new Date()` is the ISO string
JSON.stringify makes of it.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from batch.validation import batch_validate
from tests.factories import PlayerFactory, WorkoutFactory, WorkoutTemplateFactory

pytestmark = pytest.mark.django_db


def js_now() -> str:
    """What JSON.stringify(new Date()) gives: UTC with milliseconds and a Z."""
    now = timezone.now()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@pytest.fixture
def ids(team, trainer):
    """The guide's placeholder ids, replaced by real ones (as strings, the way the guide sends them)."""
    workouts = [WorkoutFactory(team=team) for _ in range(3)]
    return {
        "workout-1": str(workouts[0].pk),
        "workoutIds": [str(w.pk) for w in workouts],
        "player": str(PlayerFactory(team=team).pk),
        "templateId": str(WorkoutTemplateFactory(team=team).pk),
        "current-user": str(trainer.pk),
    }


def basic_usage(ids):
    # batchCreateWorkouts(workouts, {parallel, medicalComplianceCheck, maxConcurrency})
    workouts = [
        {"workout": {"name": "Workout 1", "type": "STRENGTH"}},
        {"workout": {"name": "Workout 2", "type": "CONDITIONING"}},
    ]
    return {
        "operations": [{"id": f"create-{i}", "type": "CREATE", "data": w} for i, w in enumerate(workouts)],
        "options": {"parallel": True, "medicalComplianceCheck": True, "maxConcurrency": 5},
    }


def bulk_delete(ids):
    # batchDelete(workoutIds, false, {rollbackOnError: true, stopOnError: false})
    return {
        "operations": [
            {"id": f"delete-{i}", "type": "DELETE", "data": {"workoutId": w, "permanent": False}}
            for i, w in enumerate(ids["workoutIds"])
        ],
        "options": {"rollbackOnError": True, "stopOnError": False},
    }


def advanced_usage(ids):
    # The custom batch: CREATE without a type, then ASSIGN waiting for it; progressCallback left out.
    return {
        "operations": [
            {"id": "op-1", "type": "CREATE", "data": {"workout": {"name": "New Workout"}}},
            {
                "id": "op-2",
                "type": "ASSIGN",
                "data": {"workoutId": ids["workout-1"], "assignments": [{"playerId": ids["player"]}]},
                "dependencies": ["op-1"],
            },
        ],
        "options": {"parallel": False, "validateBeforeExecute": True},
        "metadata": {
            "requestId": "custom-1764426671000",
            "userId": ids["current-user"],
            "timestamp": js_now(),
            "source": "custom-operation",
        },
    }


def type_definitions(ids):
    # BatchOperation<T> {id, type, data, priority?, dependencies?, metadata?} with CreateWorkoutData and
    # AssignWorkoutData {workoutId, assignments, removeExisting?, checkMedicalCompliance?}.
    return {
        "operations": [
            {
                "id": "create",
                "type": "CREATE",
                "data": {
                    "workout": {"name": "Partial workout"},
                    "assignments": [{"playerId": ids["player"]}],
                    "schedule": {"start": "2030-03-04T09:00:00.000Z"},
                    "templateId": ids["templateId"],
                },
                "priority": 1,
                "metadata": {"origin": "builder", "tags": ["a"]},
            },
            {
                "id": "assign",
                "type": "ASSIGN",
                "data": {
                    "workoutId": ids["workout-1"],
                    "assignments": [{"playerId": ids["player"]}],
                    "removeExisting": False,
                    "checkMedicalCompliance": True,
                },
                "dependencies": ["create"],
            },
        ]
    }


@pytest.mark.parametrize(
    "options",
    [
        {"parallel": True, "maxConcurrency": 3, "chunkSize": 5},
        {"parallel": True, "maxConcurrency": 5, "chunkSize": 10},
        {
            "parallel": True,
            "maxConcurrency": 8,
            "chunkSize": 20,
            "stopOnError": False,
            "retryFailedOperations": True,
        },
    ],
    ids=["small", "medium", "large"],
)
def test_the_performance_tuning_options_validate(trainer, team, ids, options):
    raw = {**basic_usage(ids), "options": options}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid, report.as_dict()


def error_recovery(ids):
    # failedOps.map(op => ({...op, retryCount: 1})), options {...originalOptions, retryAttempts: 1}
    original = bulk_delete(ids)
    return {
        "operations": [{**op, "retryCount": 1} for op in original["operations"]],
        "options": {**original["options"], "retryAttempts": 1},
        "metadata": {"source": "custom-operation", "description": "Retry failed operations"},
    }


def medical_compliance(ids):
    # batchAssign(assignments, {medicalComplianceCheck: true, stopOnError: true, rollbackOnError: true})
    return {
        "operations": [
            {
                "id": f"assign-{i}",
                "type": "ASSIGN",
                "data": {"workoutId": w, "assignments": [{"playerId": ids["player"]}]},
            }
            for i, w in enumerate(ids["workoutIds"])
        ],
        "options": {"medicalComplianceCheck": True, "stopOnError": True, "rollbackOnError": True},
    }


def create_from_template(ids):
    # workouts = Array.from({length: count}, (_, i) => ({workout: {name, templateId}, assignments, schedule}))
    return {
        "operations": [
            {
                "id": f"create-{i}",
                "type": "CREATE",
                "data": {
                    "workout": {"name": f"Workout {i + 1}", "templateId": ids["templateId"]},
                    "assignments": [{"playerId": ids["player"]}],
                    "schedule": {"start": f"2030-03-0{i + 1}T09:00:00.000Z"},
                },
            }
            for i in range(3)
        ]
    }


@pytest.mark.parametrize(
    "example",
    [
        basic_usage,
        bulk_delete,
        advanced_usage,
        type_definitions,
        error_recovery,
        medical_compliance,
        create_from_template,
    ],
)
def test_each_guide_example_validates(trainer, team, ids, example):
    raw = example(ids)
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid, report.as_dict()
    assert len(report.request.operations) == len(raw["operations"])


def test_the_guide_examples_keep_their_extras(trainer, team, ids):
    report = batch_validate(user=trainer, team=team, raw=advanced_usage(ids))
    assert report.request.metadata["userId"] == ids["current-user"]
    create, assign = report.request.operations
    assert create.data["workout"]["type"] == "HYBRID"  # CREATE without a type: the documented default
    assert assign.data["workoutId"] == int(ids["workout-1"])
    retried = batch_validate(user=trainer, team=team, raw=error_recovery(ids)).request
    assert {op.retry_count for op in retried.operations} == {1}
    typed = batch_validate(user=trainer, team=team, raw=type_definitions(ids)).request
    assert typed.operations[0].metadata == {"origin": "builder", "tags": ["a"]}
    from_template = batch_validate(user=trainer, team=team, raw=create_from_template(ids)).request
    assert all(op.data["templateId"] == int(ids["templateId"]) for op in from_template.operations)
