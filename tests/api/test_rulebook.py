"""The API asks the same workout rules as every other path, and names them the same way."""

from __future__ import annotations

import pytest

from tests.factories import WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def test_the_api_refuses_a_move_in_history_and_a_scheduled_workout_without_a_start(trainer_api, team):
    done = WorkoutFactory(team=team, status=Workout.Status.COMPLETED)
    start = (done.scheduled_start.replace(hour=10)).isoformat()
    body = {
        "operations": [
            {
                "id": "move",
                "type": "UPDATE",
                "data": {"workoutId": done.pk, "updates": {"scheduledStart": start}},
            },
            {"id": "create", "type": "CREATE", "data": {"workout": {"name": "Legs", "status": "scheduled"}}},
        ]
    }

    report = trainer_api.post("/api/v1/batches/validate", body).json()
    submitted = trainer_api.post("/api/v1/batches", body)

    errors = {i["id"]: i["errors"][0] for i in report["items"]}
    assert errors["move"]["details"]["rule"] == "MOVE_HISTORY"
    assert errors["create"]["details"]["rule"] == "SCHEDULED_WITHOUT_START"
    assert errors["create"]["message"] == "a scheduled workout needs a start"
    assert submitted.status_code == 422
    assert sorted(e["operationId"] for e in submitted.json()["errors"]) == ["create", "move"]
