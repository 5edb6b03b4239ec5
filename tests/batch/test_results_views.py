"""Results people can read: names and dates instead of ids, honest outcomes, readable CSV, and a
force undo that first shows what it would overwrite. Batches run in this process, inside the test's
transaction (`run_batches`): what is read here is the outcome, not how a worker picked the runner up.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from batch.actions import BatchActionDenied
from batch.models import Batch, BatchItem
from batch.selectors import batch_summary, force_undo_preview, item_targets
from batch.undo import batch_undo
from batch.views import bar_widths
from batch.wording import batch_outcome, plain
from tests.factories import AssignmentFactory, PlayerFactory, RestrictionFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def update(op_id: str, workout: Workout, **updates: Any) -> dict:
    return {"id": op_id, "type": "UPDATE", "data": {"workoutId": workout.pk, "updates": updates}}


def run(submit, run_batches, ops: list[dict], **options: Any) -> Batch:
    batch = submit(ops, **options)
    run_batches()
    batch.refresh_from_db()
    return batch


def csv_rows(client, batch: Batch) -> list[dict[str, str]]:
    response = client.get(reverse("batch:export", args=[batch.pk]))
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_results_json_carry_each_items_target_with_name_and_date(submit, run_batches, team):
    skate = WorkoutFactory(team=team, name="Morning skate")
    create = {"id": "c", "type": "CREATE", "data": {"workout": {"name": "Leg day", "type": "STRENGTH"}}}
    batch = run(submit, run_batches, [update("u", skate, intensity=70), create])

    results = {r["id"]: r for r in batch_summary(batch=batch)["results"]}

    start = timezone.localdate(skate.scheduled_start).isoformat()
    assert results["u"]["target"] == {"id": skate.pk, "name": "Morning skate", "date": start}
    created = Workout.objects.get(name="Leg day")
    assert results["c"]["target"] == {"id": created.pk, "name": "Leg day", "date": None}


def test_a_deleted_workout_keeps_its_name_from_the_change_log(submit, run_batches, team):
    doomed = WorkoutFactory(team=team, name="Old drill", status=Workout.Status.DRAFT)
    op = {"id": "d", "type": "DELETE", "data": {"workoutId": doomed.pk, "permanent": True}}
    batch = run(submit, run_batches, [op])
    assert not Workout.objects.filter(pk=doomed.pk).exists()

    [item] = BatchItem.objects.filter(batch=batch)
    assert item_targets([item], team_id=team.pk)["d"]["name"] == "Old drill"


def test_results_page_names_workouts_and_puts_problems_first(trainer_client, submit, run_batches, team):
    fine = WorkoutFactory(team=team, name="Aaa fine")
    stale = WorkoutFactory(team=team, name="Zzz edited")
    late = update("stale", stale, intensity=70)
    late["data"]["expectedVersion"] = 99
    # Without the dry-run gate, so the stale item fails at run time as if edited meanwhile.
    batch = run(
        submit,
        run_batches,
        [update("fine", fine, intensity=70), late],
        conflictResolution="FAIL",
        validateBeforeExecute=False,
    )
    assert (batch.succeeded, batch.failed) == (1, 1)

    body = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()

    assert body.index("Zzz edited") < body.index("Aaa fine"), "the failure comes first"
    assert "Completed with errors" in body and "alert--warn" in body
    assert "expected 99" not in body and "version 99" not in body and "conflictResolution" not in body
    assert "“If it clashes with another booking” set to" in body  # the option, as the modal labels it
    assert f"#{stale.pk}" not in body and ">stale<" not in body


def test_csv_has_readable_columns_and_neutralises_formulas(trainer_client, submit, run_batches, team):
    evil = WorkoutFactory(team=team, name='=HYPERLINK("http://x")')
    source = WorkoutFactory(team=team, name="Power skate")
    dup = {"id": "dup", "type": "DUPLICATE", "data": {"workoutId": source.pk, "count": 2, "dateShiftDays": 7}}
    batch = run(submit, run_batches, [update("u", evil, notes="x"), dup])

    rows = csv_rows(trainer_client, batch)

    assert list(rows[0]) == [
        "workout",
        "date",
        "player",
        "operation",
        "outcome",
        "problem",
        "message",
        "suggested action",
        "created",
        "workout id",
        "operation id",
    ]
    by_op = {r["operation id"]: r for r in rows}
    assert by_op["u"]["workout"] == '\'=HYPERLINK("http://x")' and by_op["u"]["outcome"] == "Done"
    assert by_op["dup"]["workout"] == "Power skate" and by_op["dup"]["operation"] == "Duplicate"
    assert by_op["dup"]["created"].count("Power skate") == 2
    assert not any(cell.startswith("{") for row in rows for cell in row.values()), "no raw JSON column"


def test_one_set_of_counts_after_a_cancel(team, trainer):
    batch = Batch.objects.create(
        team=team,
        created_by=trainer,
        status=Batch.Status.CANCELLED,
        total_items=202,
        succeeded=100,
        cancelled=102,
        finished_at=timezone.now(),
    )
    outcome = batch_outcome(batch)
    assert outcome.label == "Cancelled" and outcome.sentence == "100 succeeded, 102 cancelled of 202"
    assert bar_widths(batch) == {"ok": 49, "failed": 0, "skipped": 0, "cancelled": 51}


@pytest.mark.parametrize(
    ("counts", "label", "tone"),
    [
        ({"succeeded": 5}, "Completed", "ok"),
        ({"succeeded": 4, "failed": 1}, "Completed with errors", "warn"),
        ({"succeeded": 4, "skipped": 1}, "Completed with errors", "warn"),
        ({"failed": 5}, "Nothing changed", "error"),
    ],
)
def test_completed_only_when_everything_succeeded(team, trainer, counts, label, tone):
    batch = Batch(
        team=team, created_by=trainer, status=Batch.Status.COMPLETED_WITH_ERRORS, total_items=5, **counts
    )
    assert (batch_outcome(batch).label, batch_outcome(batch).tone) == (label, tone)


def test_plain_words_replace_engine_terms():
    text = plain(
        "workout 7 is at version 3, the update expected 1; or run with conflictResolution ADJUST_TIME, "
        "FIND_ALTERNATIVE or OVERRIDE.",
        workouts={7: "Leg day"},
    )
    assert text.startswith("“Leg day” was edited after you selected it")
    assert "ADJUST_TIME" not in text and "“Move to the next free time”" in text
    clash = plain("Main gym is already booked by Busy (workout 57) 2026-12-21 10:00–11:00")
    assert clash == "Main gym is already booked by Busy Mon 21 Dec 2026 10:00–11:00"
    assert plain("3 players left out on 2026-12-21, 2026-12-28 (medical)") == (
        "3 players left out on Mon 21 Dec 2026, Mon 28 Dec 2026 (medical)"
    )
    assert plain("not a day: 2026-02-30") == "Not a day: 2026-02-30"


def edited_after_undo(submit, run_batches, trainer, workout: Workout, **updates: Any) -> Batch:
    """A batch whose undo conflicts: the workout was edited after the batch."""
    batch = run(submit, run_batches, [update("u", workout, **updates)])
    Workout.objects.filter(pk=workout.pk).update(notes="coach's own edit", version=workout.version + 5)
    batch_undo(batch_id=batch.pk, user=trainer)
    run_batches()
    batch.refresh_from_db()
    return batch


def test_a_failed_undo_is_red_with_a_conflicts_tab_and_offers_a_previewed_force(
    trainer_client, submit, run_batches, trainer, team
):
    workout = WorkoutFactory(team=team, name="Tuesday power", notes="before")
    batch = edited_after_undo(submit, run_batches, trainer, workout, notes="batch")
    undo = batch.undos.get()
    assert undo.status == Batch.Status.FAILED and undo.conflicted == 1

    undo_page = trainer_client.get(reverse("batch:detail", args=[undo.pk])).content.decode()
    assert "Undo failed: 1 conflict" in undo_page and "alert--error" in undo_page
    assert "Conflicts <span" in undo_page and "Tuesday power" in undo_page
    # The next step names what this page offers: a force undo (of the original), previewed first.
    assert (
        reverse("batch:force_undo", args=[batch.pk]) in undo_page and "Review what “Force undo”" in undo_page
    )
    original = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Force undo" in original and "Partly undone" in original
    assert f"Undo batch {undo.pk}: Undo failed: 1 conflict" in original

    preview = trainer_client.get(reverse("batch:force_undo", args=[batch.pk])).content.decode()
    assert "Tuesday power" in preview and "coach&#x27;s own edit" in preview and "before" in preview
    assert Batch.objects.filter(undo_of=batch).count() == 1, "the preview writes nothing"

    response = trainer_client.post(reverse("batch:force_undo", args=[batch.pk]))
    forced = Batch.objects.filter(undo_of=batch).latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("batch:detail", args=[forced.pk])
    run_batches()
    assert Workout.objects.get(pk=workout.pk).notes == "before"


def test_force_undo_touching_a_restricted_player_needs_a_medic_or_staff(
    client, trainer_client, submit, run_batches, trainer, staff, team
):
    workout = WorkoutFactory(team=team, intensity=50)
    player = PlayerFactory(team=team)
    RestrictionFactory(player=player, effective_date=timezone.localdate())
    AssignmentFactory(workout=workout, player=player, medical_verdict="modified")
    batch = edited_after_undo(submit, run_batches, trainer, workout, intensity=90)
    assert force_undo_preview(batch=batch).medical

    page = trainer_client.get(reverse("batch:force_undo", args=[batch.pk])).content.decode()
    assert "a medic or staff member has to do it" in page and "Force undo: overwrite" not in page
    trainer_client.post(reverse("batch:force_undo", args=[batch.pk]))
    assert Batch.objects.filter(undo_of=batch).count() == 1
    with pytest.raises(BatchActionDenied):
        batch_undo(batch_id=batch.pk, user=trainer, force=True)

    client.force_login(staff)
    client.post(reverse("batch:force_undo", args=[batch.pk]))
    assert Batch.objects.filter(undo_of=batch).count() == 2


def test_a_cancelled_batch_offers_to_resume_what_never_ran(
    trainer_client, submit, run_batches, trainer, team
):
    from batch.services import batch_cancel

    workouts = WorkoutFactory.create_batch(3, team=team, intensity=40)
    batch = submit([update(f"u{w.pk}", w, intensity=70) for w in workouts])
    batch_cancel(batch_id=batch.pk, user=trainer, channel="test")
    run_batches()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and batch.cancelled == 3

    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Resume the remaining 3" in page and "Cancelled — nothing changed" in page
    assert "Cancelled <span" in page  # its own tab
    assert "Use “Resume” to run what did not run." in page

    response = trainer_client.post(reverse("batch:resume", args=[batch.pk]))
    resumed = Batch.objects.get(resume_of=batch)
    assert response["Location"] == reverse("batch:detail", args=[resumed.pk])
    run_batches()
    assert set(Workout.objects.filter(team=team).values_list("intensity", flat=True)) == {70}
    assert (
        "Resume the remaining"
        not in trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    )


def test_results_and_csv_name_the_players_an_assign_put_on(trainer_client, submit, run_batches, team):
    workout = WorkoutFactory(team=team, name="Leg day")
    erik = PlayerFactory(team=team, first_name="Erik", last_name="Karlsson", jersey_number=65)
    op = {
        "id": "a",
        "type": "ASSIGN",
        "data": {"workoutId": workout.pk, "assignments": [{"playerId": erik.pk}]},
    }
    batch = run(submit, run_batches, [op])
    assert batch.succeeded == 1

    page = trainer_client.get(reverse("batch:detail", args=[batch.pk])).content.decode()
    assert "Assigned: #65 Erik Karlsson" in page
    [row] = csv_rows(trainer_client, batch)
    assert row["workout"] == "Leg day" and row["created"] == "Assigned: #65 Erik Karlsson"
