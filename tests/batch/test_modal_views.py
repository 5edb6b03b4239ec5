"""The operation modal and the list's selection: named targets, a selection bound to its filter, a
run that uses the selection up, and a refused run that keeps the dry run and its acknowledgement."""

from __future__ import annotations

import pytest
from django.urls import reverse

from batch.models import Batch
from tests.factories import WorkoutFactory
from workouts.models import Workout
from workouts.selectors import Selection

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
SELECT = reverse("workouts:select")


def select_all(client, team, query: str = "") -> None:
    client.post(SELECT, {"team": team.slug, "action": "all", "query": query})


def test_the_modal_names_the_first_twenty_targets_then_how_many_more(trainer_client, team):
    WorkoutFactory.create_batch(23, team=team, name="Skills block")
    WorkoutFactory(team=team, name="Aaa first", scheduled_start=None, scheduled_end=None)
    select_all(trainer_client, team)
    body = trainer_client.get(reverse("batch:operation", args=["archive"]), {"team": team.slug}, headers=HX)
    text = body.content.decode()
    assert text.count('<li><span class="op-targets__name">') == 20
    assert "and 4 more" in text and "Skills block" in text


def test_a_selection_made_under_another_filter_is_shown_as_not_in_this_view(trainer_client, team):
    WorkoutFactory.create_batch(3, team=team, status=Workout.Status.DRAFT)
    WorkoutFactory(team=team, status=Workout.Status.COMPLETED)
    select_all(trainer_client, team, "status=draft")

    body = trainer_client.get(reverse("workouts:list"), {"status": "completed"}).content.decode()

    assert "3 selected, not in this view" in body
    assert "status=draft" in body  # the Show link goes back to the drafts
    assert 'data-op="archive"' in body and 'href="/batches/new/archive/' not in body  # no operation offered
    modal = trainer_client.get(
        reverse("batch:operation", args=["archive"]),
        {"team": team.slug, "view": "status=completed"},
        headers=HX,
    ).content.decode()
    assert 'data-testid="op-count">0<' in modal and "made under another filter" in modal


def test_ticking_a_box_under_a_new_filter_starts_a_new_selection(trainer_client, team):
    drafts = WorkoutFactory.create_batch(3, team=team, status=Workout.Status.DRAFT)
    done = WorkoutFactory(team=team, status=Workout.Status.COMPLETED)
    select_all(trainer_client, team, "status=draft")
    trainer_client.post(
        SELECT,
        {
            "team": team.slug,
            "action": "sync",
            "query": "status=completed",
            "ids": [done.pk],
            "page_ids": str(done.pk),
        },
        headers=HX,
    )
    selection = Selection.from_session(trainer_client.session, team)
    assert (
        selection.included == {done.pk} and selection.query is None and selection.view == "status=completed"
    )
    assert not {d.pk for d in drafts} & selection.included


def update_post(team, **extra) -> dict:
    data = {
        "team": team.slug,
        "request_id": "req-1",
        "name": "Renamed",
        "opt-max_concurrency": 2,
        "opt-chunk_size": 10,
        "opt-retry_attempts": 3,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "SKIP",
        "opt-notify_on_complete": "on",
    }
    data.update(extra)
    return data


def test_a_run_uses_the_selection_up(trainer_client, team):
    WorkoutFactory.create_batch(2, team=team)
    select_all(trainer_client, team)
    response = trainer_client.post(
        reverse("batch:operation", args=["update"]), update_post(team, action="run"), headers=HX
    )
    assert response.status_code == 200 and Batch.objects.count() == 1
    assert Selection.from_session(trainer_client.session, team).empty
    names = sorted(Workout.objects.values_list("name", flat=True))
    assert all(name in Batch.objects.get().description for name in names)  # history says which
    # A second click on Run still lands on the same batch.
    again = trainer_client.post(
        reverse("batch:operation", args=["update"]), update_post(team, action="run"), headers=HX
    )
    assert again["HX-Redirect"] == response["HX-Redirect"]


def test_a_refused_run_keeps_the_dry_run_and_the_acknowledgement_next_to_run(trainer_client, team):
    WorkoutFactory(team=team, name="Old drill", status=Workout.Status.DRAFT)
    select_all(trainer_client, team)
    data = update_post(team, action="run", permanent="on")
    del data["name"]
    response = trainer_client.post(reverse("batch:operation", args=["delete"]), data, headers=HX)
    body = response.content.decode()
    assert response.status_code == 422 and not Batch.objects.exists()
    assert 'data-testid="dry-run"' in body and "Old drill" in body
    footer = body[body.index('<footer class="modal__footer">') :]
    assert 'name="acknowledge"' in footer and 'aria-invalid="true"' in footer
    assert footer.index('name="acknowledge"') < footer.index('id="op-run"')
    assert "tick “I have read the warnings”" in footer


def test_recurrence_fields_are_grouped_and_folded_until_it_repeats(trainer_client, team):
    WorkoutFactory(team=team)
    select_all(trainer_client, team)
    body = trainer_client.get(reverse("batch:operation", args=["schedule"]), headers=HX).content.decode()
    group = body[body.index("data-recurrence") : body.index("op-options")]
    assert "data-off" in group
    for name in ("weekdays", "until", "count", "exceptions"):
        assert f'name="{name}"' in group
    assert 'name="frequency"' not in group
