"""By exception: dry runs and results lead with counts and problems by kind, fold what is clear, show
each change before → after; a batch done only in part (players left out or taken off, dates skipped)
is amber on its page, in the history, in the notice and in the CSV's problem column."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from batch.models import Batch
from batch.selectors import problem_counts
from batch.validation import batch_validate
from batch.views.dry_run import ROWS_SHOWN, dry_run_context
from batch.wording import batch_outcome, problem_kinds
from medical.models import MedicalRestriction
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    club_time,
)

pytestmark = pytest.mark.django_db

TAKEN_OFF = "Players taken off (medical restriction)"


def edit(workout, intensity: int) -> dict:
    return {
        "id": f"w{workout.pk}",
        "type": "UPDATE",
        "data": {"workoutId": workout.pk, "updates": {"intensity": intensity}},
    }


@pytest.fixture
def week(team):
    """Six sessions at intensity 50, four fit players on each; Pat Hurt (exertion capped at 60) is on
    the third one only."""
    exercise = ExerciseFactory(name="Band rows", body_parts=["shoulder"], intensity=40)
    fit = PlayerFactory.create_batch(4, team=team)
    hurt = PlayerFactory(team=team, first_name="Pat", last_name="Hurt")
    RestrictionFactory(
        player=hurt, severity=MedicalRestriction.Severity.SEVERE, body_parts=[], max_exertion=60, title="Rib"
    )
    workouts = []
    for n in range(6):
        w = WorkoutFactory(
            team=team,
            name=f"Session {n + 1}",
            intensity=50,
            scheduled_start=club_time(n + 1, 9),
            scheduled_end=club_time(n + 1, 10),
        )
        WorkoutExerciseFactory(workout=w, exercise=exercise)
        for p in fit:
            AssignmentFactory(workout=w, player=p)
        workouts.append(w)
    AssignmentFactory(workout=workouts[2], player=hurt)
    return workouts, fit, hurt


def test_a_dry_run_leads_with_the_problem_by_kind_and_folds_the_clear_players(trainer, team, week):
    workouts, fit, hurt = week
    report = batch_validate(user=trainer, team=team, raw={"operations": [edit(w, 90) for w in workouts]})
    context = dry_run_context(report, team)

    [group] = context["problem_groups"]
    assert (group.kind, group.tone, group.total) == (TAKEN_OFF, "warn", 1)
    assert group.shown[0].target.name == "Session 3"
    assert "Pat Hurt will be taken off" in group.shown[0].text or "will be taken off" in group.shown[0].text
    # The change, before → after, counted over the workouts it applies to.
    assert context["planned_changes"] == [("intensity", 50, 90, 6)]
    # One line per workout, its clear players folded into a count.
    lines = context["workout_lines"]
    assert [line["target"].name for line in lines][0] == "Session 3"  # problems first
    assert all(len(line["clear"]) == 4 for line in lines)
    assert context["report"]["summary"]["clear"] == 24

    html = render_to_string("batch/_dry_run.html", context)
    assert TAKEN_OFF in html
    assert html.count("<details") == 1 + 6  # every workout, then each one's clear players
    assert "24 players clear to train" in html
    assert "4 players clear" in html
    for player in (*fit, hurt):
        name = f"{player.first_name} {player.last_name}"
        assert f"{name} {name}" not in html  # names appear once
    assert "After the run" in html and "mini-diff" in html


def test_a_big_edit_keeps_each_kind_short(trainer, team):
    exercise = ExerciseFactory(body_parts=["shoulder"], intensity=40)
    workouts = []
    for n in range(ROWS_SHOWN + 5):
        w = WorkoutFactory(team=team, intensity=50, scheduled_start=club_time(1 + n % 5, 8 + n // 5))
        WorkoutExerciseFactory(workout=w, exercise=exercise)
        hurt = PlayerFactory(team=team)
        RestrictionFactory(
            player=hurt, severity=MedicalRestriction.Severity.SEVERE, body_parts=[], max_exertion=60
        )
        AssignmentFactory(workout=w, player=hurt)
        workouts.append(w)
    report = batch_validate(user=trainer, team=team, raw={"operations": [edit(w, 95) for w in workouts]})
    [group] = dry_run_context(report, team)["problem_groups"]
    assert group.total == ROWS_SHOWN + 5
    assert len(group.shown) == ROWS_SHOWN
    assert len(group.folded) == 5


def test_an_edit_that_takes_a_player_off_ends_amber_and_says_so(
    submit, run_batches, trainer_client, team, week
):
    workouts, _fit, hurt = week
    batch = submit([edit(w, 90) for w in workouts], notifyOnComplete=True)
    run_batches()
    batch.refresh_from_db()

    assert (batch.status, batch.succeeded, batch.warned) == (Batch.Status.COMPLETED, 6, 1)
    outcome = batch_outcome(batch)
    assert (outcome.label, outcome.tone) == ("Completed with warnings", "warn")
    assert "(1 with warnings)" in outcome.sentence
    assert problem_kinds(problem_counts(batch)) == [{"label": TAKEN_OFF, "items": 1, "tone": "warn"}]

    # The end notice (before the batch page: opening it counts as seeing the notice).
    notice = trainer_client.get(reverse("batch:notifications")).content.decode()
    assert f"Batch {batch.pk} finished: Completed with warnings" in notice and "notice--warn" in notice

    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Completed with warnings" in page
    assert 'data-testid="problem-kinds"' in page and TAKEN_OFF in page
    assert "taken off" in page and "Pat Hurt" in page
    assert "Intensity" in page and "<td>50</td>" in page  # its change, before → after

    history = trainer_client.get(reverse("batch:list"), {"team": team.slug}).content.decode()
    assert "Completed with warnings" in history and "badge--tone-warn" in history

    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    trainer_client.get(reverse("batch:export", args=[batch.pk])).streaming_content
                ).decode()
            )
        )
    )
    problems = {row["workout"]: row["problem"] for row in rows}
    assert problems["Session 3"] == TAKEN_OFF
    assert "taken off" in next(r["message"] for r in rows if r["workout"] == "Session 3")
    assert problems["Session 1"] == ""

    # Integrators see the same count: the results JSON and the CLI's summary.
    body = json.loads(
        b"".join(trainer_client.get(reverse("batch:export_json", args=[batch.pk])).streaming_content)
    )
    assert body["summary"]["withWarnings"] == 1


def test_a_clean_batch_stays_green_and_an_undos_notes_are_not_news(submit, run_batches, team):
    w = WorkoutFactory(team=team, intensity=50)
    batch = submit([edit(w, 55)])
    run_batches()
    batch.refresh_from_db()
    assert (batch.warned, batch_outcome(batch).label, batch_outcome(batch).tone) == (0, "Completed", "ok")
    undo = Batch(kind=Batch.Kind.UNDO, status=Batch.Status.COMPLETED, total_items=2, succeeded=2, warned=2)
    assert (batch_outcome(undo).label, batch_outcome(undo).tone) == ("Undo completed", "ok")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_counts_the_items_done_in_part(submit, run_worker, trainer, team, week):
    workouts, _fit, _hurt = week
    batch = submit([edit(w, 90) for w in workouts], chunkSize=2)  # three chunks: the counts add up
    run_worker()
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded, batch.warned) == (Batch.Status.COMPLETED, 6, 1)
    assert batch_outcome(batch).label == "Completed with warnings"
