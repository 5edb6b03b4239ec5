"""The trainer's batch screens through the Django test client, with the named personas."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from batch.actions import BatchActionDenied
from batch.models import Batch, BatchChange
from batch.services import batch_cancel
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
)
from workouts.models import Workout
from workouts.selectors import Selection, selected_workouts

pytestmark = pytest.mark.django_db
SELECT = reverse("workouts:select")
HX = {"HX-Request": "true"}


def _select_all(client, team, query: str = "") -> None:
    client.post(SELECT, {"team": team.slug, "action": "all", "query": query})


def _batch(team, user, **kwargs) -> Batch:
    defaults = {"status": Batch.Status.RUNNING, "total_items": 10, "options": {"notify_on_complete": True}}
    defaults.update(kwargs)
    return Batch.objects.create(team=team, created_by=user, **defaults)


# Selection ----------------------------------------------------------------------------------------


def test_select_all_matching_stores_the_filter_not_the_ids(trainer_client, team):
    WorkoutFactory.create_batch(3, team=team, type=Workout.Type.STRENGTH)
    WorkoutFactory(team=team, type=Workout.Type.CONDITIONING)
    _select_all(trainer_client, team, "type=STRENGTH&page=1")
    stored = trainer_client.session[f"workout-selection:{team.pk}"]
    assert stored == {"query": "type=STRENGTH", "included": [], "excluded": [], "view": "type=STRENGTH"}
    response = trainer_client.get(reverse("workouts:list"), {"type": "STRENGTH"})
    assert "All 3 matching selected" in response.content.decode()


def test_unchecking_a_row_after_select_all_excludes_it_and_survives_paging(trainer_client, team):
    workouts = WorkoutFactory.create_batch(3, team=team)
    _select_all(trainer_client, team)
    trainer_client.post(
        SELECT,
        {
            "team": team.slug,
            "action": "sync",
            "ids": [workouts[0].pk, workouts[1].pk],
            "page_ids": ",".join(str(w.pk) for w in workouts),
        },
        headers=HX,
    )
    selection = Selection.from_session(trainer_client.session, team)
    assert set(selected_workouts(team=team, selection=selection).values_list("pk", flat=True)) == {
        workouts[0].pk,
        workouts[1].pk,
    }


def test_sync_returns_the_bar_and_clear_returns_the_table(trainer_client, team):
    w = WorkoutFactory(team=team)
    response = trainer_client.post(
        SELECT, {"team": team.slug, "action": "sync", "ids": [w.pk], "page_ids": str(w.pk)}, headers=HX
    )
    assert response.content.decode().lstrip().startswith('<div id="selection-bar"')
    assert "1 of 1 selected" in response.content.decode()
    response = trainer_client.post(SELECT, {"team": team.slug, "action": "clear"}, headers=HX)
    assert response.content.decode().lstrip().startswith('<section id="workout-table"')
    assert "0 of 1 selected" in response.content.decode()


def test_selection_without_javascript_redirects_back_to_the_list(trainer_client, team):
    w = WorkoutFactory(team=team)
    response = trainer_client.post(
        SELECT, {"team": team.slug, "action": "sync", "ids": [w.pk], "page_ids": str(w.pk)}
    )
    assert response.status_code == 302 and "/workouts/" in response["Location"]


def test_bad_selection_post_is_a_400_with_a_message(trainer_client, team):
    response = trainer_client.post(SELECT, {"team": team.slug, "action": "explode"})
    assert response.status_code == 400 and b"action" in response.content
    response = trainer_client.post(SELECT, {"team": team.slug, "action": "sync", "page_ids": "1,x"})
    assert response.status_code == 400


def test_another_teams_ids_never_enter_the_selection(trainer_client, team, other_team):
    theirs = WorkoutFactory(team=other_team)
    trainer_client.post(SELECT, {"team": team.slug, "action": "sync", "ids": [theirs.pk], "page_ids": ""})
    selection = Selection.from_session(trainer_client.session, team)
    assert not selected_workouts(team=team, selection=selection).exists()


def test_list_with_selection_keeps_a_bounded_number_of_queries(
    trainer_client, team, django_assert_max_num_queries
):
    WorkoutFactory.create_batch(60, team=team)
    _select_all(trainer_client, team)
    with django_assert_max_num_queries(10):
        response = trainer_client.get(reverse("workouts:list"))
    assert response.content.count(b" checked>") == 50


# Operation modal ------------------------------------------------------------------------------------


def test_modal_loads_as_a_fragment_with_badged_players(trainer_client, team):
    WorkoutFactory(team=team)
    out = PlayerFactory(team=team, first_name="Erik", last_name="Out")
    MedicalRestriction.objects.create(
        player=out,
        title="Knee",
        severity=MedicalRestriction.Severity.COMPLETE,
        status=MedicalRestriction.Status.ACTIVE,
        effective_date=timezone.localdate() - dt.timedelta(days=1),
    )
    response = trainer_client.get(reverse("batch:operation", args=["assign"]), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="op-form"') and "<html" not in body
    assert 'data-medical="out"' in body and "<summary>Advanced</summary>" in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "op", ["assign", "schedule", "duplicate", "update", "delete", "archive", "template", "create"]
)
def test_every_modal_renders_as_a_page_without_javascript(trainer_client, team, op):
    response = trainer_client.get(reverse("batch:operation", args=[op]))
    assert response.status_code == 200 and b"<html" in response.content


def test_unknown_operation_is_404(trainer_client):
    assert trainer_client.get(reverse("batch:operation", args=["explode"])).status_code == 404


def test_validate_without_a_selection_is_a_form_error(trainer_client, team):
    response = trainer_client.post(
        reverse("batch:operation", args=["delete"]),
        {"team": team.slug, "action": "validate", "request_id": "x"},
    )
    assert response.status_code == 422
    assert "Select at least one workout" in response.content.decode()


def test_bad_fields_are_form_errors_not_500s(trainer_client, team):
    WorkoutFactory(team=team)
    _select_all(trainer_client, team)
    url = reverse("batch:operation", args=["duplicate"])
    response = trainer_client.post(
        url,
        {
            "team": team.slug,
            "action": "validate",
            "request_id": "r",
            "count": "zero",
            "name_pattern": "x",
            "opt-max_concurrency": "999",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter a whole number" in body
    response = trainer_client.post(url, {"team": team.slug, "action": "bogus"})
    assert response.status_code == 400


def _update_post(team, **extra):
    data = {
        "team": team.slug,
        "request_id": "req-1",
        "name": "Renamed",
        "opt-max_concurrency": 2,
        "opt-chunk_size": 10,
        "opt-retry_attempts": 1,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "SKIP",
        "opt-notify_on_complete": "on",
    }
    data.update(extra)
    return data


def test_validate_shows_the_dry_run_and_enables_run(trainer_client, team):
    WorkoutFactory.create_batch(2, team=team)
    _select_all(trainer_client, team)
    response = trainer_client.post(
        reverse("batch:operation", args=["update"]), _update_post(team, action="validate"), headers=HX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "ready to run" in body and "2 changes to write" in body and "can be undone" in body
    assert 'value="run" data-run\n' in body or ("data-run" in body and 'title="Validate first"' not in body)
    assert Batch.objects.count() == 0


def test_run_submits_once_per_request_id_and_redirects(trainer_client, team):
    WorkoutFactory.create_batch(2, team=team)
    _select_all(trainer_client, team)
    url = reverse("batch:operation", args=["update"])
    first = trainer_client.post(url, _update_post(team, action="run"), headers=HX)
    second = trainer_client.post(url, _update_post(team, action="run"), headers=HX)
    batch = Batch.objects.get()
    assert first["HX-Redirect"] == second["HX-Redirect"] == reverse("batch:detail", args=[batch.pk])
    assert batch.total_items == 2 and batch.options["max_concurrency"] == 2
    plain = trainer_client.post(url, _update_post(team, action="run"))
    assert plain.status_code == 302


def _delete_post(team, **extra):
    data = _update_post(team, permanent="on", **extra)
    del data["name"]
    return data


@pytest.mark.parametrize("claimed", [{}, {"warnings": "0"}, {"warnings": ""}])
def test_run_with_unacknowledged_warnings_is_refused_whatever_the_client_claims(
    trainer_client, team, claimed
):
    WorkoutFactory(team=team)
    _select_all(trainer_client, team)
    # A permanent delete always warns (not undoable); the server finds that out itself.
    response = trainer_client.post(
        reverse("batch:operation", args=["delete"]), _delete_post(team, action="run", **claimed)
    )
    assert response.status_code == 422 and "I have read the warnings" in response.content.decode()
    assert not Batch.objects.exists()


def test_run_with_acknowledged_warnings_submits(trainer_client, team):
    WorkoutFactory(team=team)
    _select_all(trainer_client, team)
    response = trainer_client.post(
        reverse("batch:operation", args=["delete"]), _delete_post(team, action="run", acknowledge="1")
    )
    assert response.status_code == 302
    assert Batch.objects.get().total_items == 1


def test_trainer_cannot_turn_the_medical_check_off(trainer_client, team):
    WorkoutFactory(team=team)
    _select_all(trainer_client, team)
    data = _update_post(team, action="validate")
    del data["opt-medical_check"]
    body = trainer_client.post(reverse("batch:operation", args=["update"]), data).content.decode()
    assert "only medical staff" in body.lower()


def test_dry_run_shows_a_medical_block_with_alternatives(trainer_client, team):
    squat = ExerciseFactory(name="Back squat")
    ExerciseFactory(name="Seated row", movement_patterns=["pull"], body_parts=["upper_back"], intensity=55)
    workout = WorkoutFactory(team=team, name="Legs")
    WorkoutExerciseFactory(workout=workout, exercise=squat)
    template = WorkoutTemplateFactory(team=team, name="Legs template")
    from tests.factories import TemplateExerciseFactory

    TemplateExerciseFactory(template=template, exercise=squat)
    player = PlayerFactory(team=team, first_name="Knee", last_name="Injured")
    MedicalRestriction.objects.create(
        player=player,
        title="ACL",
        severity="severe",
        status="active",
        body_parts=["knee"],
        effective_date=timezone.localdate() - dt.timedelta(days=3),
    )
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    data = {
        "team": team.slug,
        "request_id": "r",
        "action": "validate",
        "template": template.pk,
        "date_from": monday.isoformat(),
        "date_to": (monday + dt.timedelta(days=6)).isoformat(),
        "weekdays": ["0", "2"],
        "time": "09:00",
        "name_pattern": "{template} {date}",
        "players": [player.pk],
        "opt-max_concurrency": 2,
        "opt-chunk_size": 10,
        "opt-retry_attempts": 1,
        "opt-medical_check": "on",
        "opt-conflict_resolution": "SKIP",
    }
    body = trainer_client.post(reverse("batch:operation", args=["create"]), data).content.decode()
    assert "Knee Injured" in body
    assert "badge--blocked" in body
    assert "2 players will be left out" in body and "ready to run" in body  # blockedPlayers: exclude
    failing = {**data, "opt-blocked_players": "fail"}
    body = trainer_client.post(reverse("batch:operation", args=["create"]), failing).content.decode()
    assert "has errors" in body and "will be left out" not in body


# Batch pages --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, team, trainer):
    batch = _batch(team, trainer)
    for url in (
        reverse("batch:list"),
        reverse("batch:detail", args=[batch.pk]),
        reverse("batch:progress", args=[batch.pk]),
        reverse("batch:operation", args=["assign"]),
        reverse("workouts:calendar"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_teams_batch_is_404_everywhere(other_trainer_client, team, trainer):
    batch = _batch(team, trainer)
    for name in ("detail", "progress", "export"):
        assert other_trainer_client.get(reverse(f"batch:{name}", args=[batch.pk])).status_code == 404
    for name in ("cancel", "undo", "retry"):
        assert other_trainer_client.post(reverse(f"batch:{name}", args=[batch.pk])).status_code == 404


def test_progress_poll_costs_one_query_and_has_aria(
    trainer_client, team, trainer, django_assert_max_num_queries
):
    batch = _batch(team, trainer, succeeded=3, failed=1, started_at=timezone.now() - dt.timedelta(seconds=2))
    trainer_client.get(reverse("batch:list"))  # warm the session
    with django_assert_max_num_queries(3):  # session, user, batch
        response = trainer_client.get(reverse("batch:progress", args=[batch.pk]), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="progressbar"' in body and 'aria-valuenow="40"' in body and 'hx-trigger="every 1s"' in body
    assert "w-30" in body and "w-10" in body


def test_progress_stops_polling_with_286_when_final(trainer_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.COMPLETED, succeeded=10, finished_at=timezone.now())
    response = trainer_client.get(reverse("batch:progress", args=[batch.pk]), headers=HX)
    assert response.status_code == 286
    assert "every 1s" not in response.content.decode()


def test_final_page_shows_results_tabs_undo_and_export(trainer_client, team, trainer):
    batch = _batch(
        team,
        trainer,
        status=Batch.Status.COMPLETED_WITH_ERRORS,
        succeeded=1,
        failed=1,
        total_items=2,
        finished_at=timezone.now(),
        undo_deadline=timezone.now() + dt.timedelta(hours=23),
    )
    w = WorkoutFactory(team=team)
    done = batch.items.create(seq=0, op_id="a", type="UPDATE", data={"workoutId": w.pk}, status="SUCCEEDED")
    # Undo is offered only where it can work: here one logged, undoable change.
    BatchChange.objects.create(
        batch=batch, item=done, model="workouts.workout", object_id=w.pk, action="updated", version_after=2
    )
    batch.items.create(
        seq=1,
        op_id="b",
        type="UPDATE",
        data={"workoutId": w.pk},
        status="FAILED",
        error={"code": "VERSION_CONFLICT", "message": "changed since", "suggestedAction": "Reload it"},
    )
    body = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Completed with errors" in body and "Retry failed (1)" in body and "left (until" in body
    assert "Reload it" in body and reverse("workouts:detail", args=[w.pk]) in body
    failed = trainer_client.get(
        reverse("batch:detail", args=[batch.pk]), {"tab": "failed"}, headers=HX
    ).content.decode()
    assert failed.lstrip().startswith('<section id="results"') and failed.count('class="result ') == 1
    assert trainer_client.get(reverse("batch:detail", args=[batch.pk]), {"tab": "nope"}).status_code == 400
    export = trainer_client.get(reverse("batch:export", args=[batch.pk]))
    csv_text = b"".join(export.streaming_content).decode()
    assert csv_text.splitlines()[0].startswith("workout,date,") and "Edited by someone else since" in csv_text


def test_cancel_posts_and_get_is_refused(trainer_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.QUEUED)
    for action in ("cancel", "undo", "retry", "resume"):  # one POST-only view behind the four buttons
        assert trainer_client.get(reverse(f"batch:{action}", args=[batch.pk])).status_code == 405
    response = trainer_client.post(reverse("batch:cancel", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status in (Batch.Status.CANCELLING, Batch.Status.CANCELLED)


def test_a_medic_who_does_not_own_a_batch_cannot_cancel_it(medic_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.QUEUED)
    page = medic_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Cancel batch" not in page
    response = medic_client.post(reverse("batch:cancel", args=[batch.pk]), follow=True)
    assert "Only the batch&#x27;s owner or a staff user may cancel" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.QUEUED and batch.cancel_requested_at is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BATCH_CANCELLED).exists()


def test_service_refuses_cancel_by_a_non_owner_but_staff_may(team, trainer, medic, staff):
    batch = _batch(team, trainer, status=Batch.Status.QUEUED)
    with pytest.raises(BatchActionDenied):
        batch_cancel(batch_id=batch.pk, user=medic)
    assert batch_cancel(batch_id=batch.pk, user=staff).status in (
        Batch.Status.CANCELLING,
        Batch.Status.CANCELLED,
    )


def test_staff_may_cancel_anyones_batch(staff_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.QUEUED)
    assert "Cancel batch" in staff_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert staff_client.post(reverse("batch:cancel", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status in (Batch.Status.CANCELLING, Batch.Status.CANCELLED)


def test_history_lists_the_teams_batches_in_bounded_queries(
    trainer_client, team, other_team, trainer, other_trainer, django_assert_max_num_queries
):
    for _ in range(30):
        _batch(team, trainer)
    _batch(other_team, other_trainer, description="theirs")
    with django_assert_max_num_queries(8):
        response = trainer_client.get(reverse("batch:list"))
    assert response.status_code == 200
    assert response.content.count(b"<tr>") == 26  # header + 25
    assert b"theirs" not in response.content


def test_notifications_show_until_seen_and_skip_those_on_the_page(trainer_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.COMPLETED, succeeded=10, finished_at=timezone.now())
    _batch(team, trainer, status=Batch.Status.COMPLETED, options={"notify_on_complete": False})
    response = trainer_client.get(reverse("batch:notifications"), headers=HX)
    assert f"Batch {batch.pk} finished: Completed" in response.content.decode()
    assert response.content.decode().count("data-notice") == 1
    # Nothing of alice's is running: the notice comes with HTTP 286, which ends the poll.
    assert response.status_code == 286
    # Shown is not seen: after a reload the notice comes back.
    batch.refresh_from_db()
    assert batch.notified_at is None
    assert trainer_client.get(reverse("batch:notifications"), headers=HX).status_code == 286
    # While a batch that will notify runs, the poll goes on; one from a page showing it adds nothing.
    _batch(team, trainer, status=Batch.Status.RUNNING)
    again = trainer_client.get(reverse("batch:notifications"), headers=HX)
    assert again.status_code == 200 and again.content.decode().count("data-notice") == 1
    shown = trainer_client.get(reverse("batch:notifications"), {"shown": [batch.pk]}, headers=HX)
    assert shown.status_code == 204
    assert trainer_client.get(reverse("batch:notifications"), {"shown": "x"}).status_code == 400


def test_dismissing_a_notice_marks_it_seen(trainer_client, other_trainer, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.COMPLETED, succeeded=10, finished_at=timezone.now())
    url = reverse("batch:notifications")
    other = Client()
    other.force_login(other_trainer)
    assert other.post(url, {"seen": batch.pk}, headers=HX).status_code == 200
    batch.refresh_from_db()
    assert batch.notified_at is None  # someone else's notice is left alone
    response = trainer_client.post(url, {"seen": batch.pk}, headers=HX)
    assert response.status_code == 200 and response.content == b""
    batch.refresh_from_db()
    assert batch.notified_at is not None
    assert trainer_client.get(url, headers=HX).status_code == 286  # idle: the poll stops
    assert trainer_client.post(url, {"seen": "nope"}).status_code == 400


def test_dismissing_without_javascript_goes_back(trainer_client, team, trainer):
    batch = _batch(team, trainer, status=Batch.Status.FAILED, finished_at=timezone.now())
    back = "http://testserver" + reverse("batch:list")
    response = trainer_client.post(reverse("batch:notifications"), {"seen": batch.pk}, HTTP_REFERER=back)
    assert response.status_code == 302 and response["Location"] == back
    response = trainer_client.post(
        reverse("batch:notifications"), {"seen": batch.pk}, HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == reverse("workouts:list")


def test_opening_a_finished_batch_marks_its_notice_seen(trainer_client, team, trainer):
    running = _batch(team, trainer)
    done = _batch(team, trainer, status=Batch.Status.COMPLETED, succeeded=10, finished_at=timezone.now())
    trainer_client.get(reverse("batch:detail", args=[running.pk]))
    trainer_client.get(reverse("batch:detail", args=[done.pk]))
    running.refresh_from_db()
    done.refresh_from_db()
    assert running.notified_at is None and done.notified_at is not None
    assert trainer_client.get(reverse("batch:notifications"), headers=HX).status_code == 204


def test_progress_poll_swaps_the_live_status_only_when_the_state_changed(trainer_client, team, trainer):
    batch = _batch(team, trainer)
    url = reverse("batch:progress", args=[batch.pk])
    same = trainer_client.get(url, {"shown": "RUNNING"}, headers=HX).content.decode()
    assert 'id="progress-status"' not in same and """hx-vals='{"shown": "RUNNING"}'""" in same
    changed = trainer_client.get(url, {"shown": "QUEUED"}, headers=HX).content.decode()
    assert '<p id="progress-status" hx-swap-oob="innerHTML">' in changed and "Running" in changed
    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert page.count('aria-live="polite"') == 3  # toasts, notifications, the status line
    assert 'role="progressbar"' in page and 'aria-label="Batch progress"' in page


def test_calendar_shows_the_week_and_rejects_bad_weeks(trainer_client, team):
    start = timezone.make_aware(dt.datetime(2026, 11, 25, 10, 0))
    WorkoutFactory(team=team, name="Wednesday lift", scheduled_start=start)
    body = trainer_client.get(reverse("workouts:calendar"), {"week": "2026-W48"}).content.decode()
    assert "Wednesday lift" in body and "2026-W47" in body and "2026-W49" in body
    assert trainer_client.get(reverse("workouts:calendar"), {"week": "2026-W60"}).status_code == 400
    assert trainer_client.get(reverse("workouts:calendar"), {"week": "soon"}).status_code == 400


def test_schedule_form_builds_a_recurrence_the_engine_accepts(trainer_client, team):
    WorkoutFactory(team=team)
    _select_all(trainer_client, team)
    data = _update_post(
        team,
        action="validate",
        start="2030-01-07T09:00",
        frequency="weekly",
        weekdays=["MO", "TH"],
        count="4",
        exceptions="2030-01-10",
    )
    response = trainer_client.post(reverse("batch:operation", args=["schedule"]), data)
    body = response.content.decode()
    assert response.status_code == 200, body[:2000]
    assert "Dry run" in body
    bad = trainer_client.post(reverse("batch:operation", args=["schedule"]), {**data, "exceptions": "soon"})
    assert bad.status_code == 422 and "Use dates like" in bad.content.decode()


@pytest.mark.parametrize("op", ["assign", "update", "delete", "create"])
def test_an_empty_post_to_the_modal_is_a_form_error_not_a_500(trainer_client, team, op):
    response = trainer_client.post(reverse("batch:operation", args=[op]))
    assert response.status_code == 422
