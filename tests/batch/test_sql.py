"""batch/sql.py writes rows as Django would: the same defaults, timestamps, JSON and ids, through COPY."""

from __future__ import annotations

import pytest
from django.db import transaction

from batch.sql import copy_create, insert_rows, values_update_versions
from tests.factories import PlayerFactory, WorkoutFactory
from tests.parallel import isolate
from workouts.models import Assignment, Workout

pytestmark = pytest.mark.django_db


def test_insert_rows_fills_defaults_and_timestamps_and_returns_ids_in_order(team, trainer):
    workout = WorkoutFactory(team=team)
    players = [PlayerFactory(team=team) for _ in range(3)]
    rows = [
        {"workout_id": workout.pk, "player_id": p.pk, "modifications": [{"exerciseId": i}]}
        for i, p in enumerate(players)
    ]
    ids = insert_rows(Assignment, rows)
    assert [row["id"] for row in rows] == ids and len(set(ids)) == 3
    saved = {a.pk: a for a in Assignment.objects.filter(pk__in=ids)}
    for i, (row, pk) in enumerate(zip(rows, ids, strict=True)):
        assignment = saved[pk]
        assert assignment.player_id == players[i].pk and assignment.modifications == [{"exerciseId": i}]
        # Left out: the model's defaults, as save() would give them, also written back into the row.
        assert (assignment.role, assignment.load_percent, assignment.version) == ("participant", 100, 1)
        assert assignment.medical_verdict == Assignment.Verdict.UNCHECKED == row["medical_verdict"]
        assert assignment.created_at is not None and assignment.created_at == row["created_at"]
    assert insert_rows(Assignment, []) == []


def test_copy_create_saves_model_instances_with_their_ids(team):
    made = copy_create(Workout, [Workout(team=team, name=f"W{i}", type="STRENGTH") for i in range(3)])
    assert all(w.pk and not w._state.adding for w in made)
    assert list(Workout.objects.filter(pk__in=[w.pk for w in made]).values_list("name", flat=True)) == [
        "W0",
        "W1",
        "W2",
    ]


@pytest.mark.parametrize("count", [3, 200])  # the VALUES form, and the COPY-staged form from 64 rows on
def test_values_update_versions_reports_what_the_version_trigger_left(team, count):
    workouts = [WorkoutFactory(team=team) for _ in range(count)]
    rows = [{"pk": w.pk, "notes": f"n{w.pk}", "version": w.version} for w in workouts]  # version unchanged
    with transaction.atomic():
        versions = values_update_versions(Workout, rows, ["notes", "version"])
    # The trigger bumps a content change even when the caller forgot to: RETURNING says so.
    assert versions == {w.pk: w.version + 1 for w in workouts}
    assert Workout.objects.get(pk=workouts[-1].pk).notes == f"n{workouts[-1].pk}"


def test_each_xdist_process_gets_its_own_redis_database_and_queues():
    env = {"PYTEST_XDIST_WORKER": "gw1", "REDIS_URL": "redis://127.0.0.1:6379/3", "RQ_QUEUE_NAME": "q"}
    isolate(env)
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/5" and env["RQ_QUEUE_NAME"] == "q-gw1"
    alone = {"REDIS_URL": "redis://127.0.0.1:6379/3", "RQ_QUEUE_NAME": "q"}
    isolate(alone)  # no xdist: nothing changes
    assert alone == {"REDIS_URL": "redis://127.0.0.1:6379/3", "RQ_QUEUE_NAME": "q"}
