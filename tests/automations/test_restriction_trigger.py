"""A restriction takes effect: the player's blocked sessions are emptied of them by a batch of its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from automations.models import Notice, RestrictionReaction
from batch.actions import BatchActionDenied
from batch.models import Batch
from batch.services import batch_submit
from batch.undo import batch_undo
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.automations.conftest import CLUB
from tests.factories import (
    AssignmentFactory,
    ExerciseFactory,
    FacilityFactory,
    MembershipFactory,
    PlayerFactory,
    RestrictionFactory,
    UserFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)
from workouts.models import Assignment, Membership

pytestmark = [pytest.mark.worker]

TODAY = dt.date(2026, 12, 9)


def session(team, trainer, day: dt.date, name: str):
    start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=CLUB)
    workout = WorkoutFactory(
        team=team,
        name=name,
        created_by=trainer,
        facility=FacilityFactory(name="Main gym"),
        scheduled_start=start,
        scheduled_end=start + dt.timedelta(hours=1),
    )
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name=f"Squat for {name}"))
    return workout


@pytest.fixture
def squad(wednesday, rq_queue, team, trainer):
    erik = PlayerFactory(team=team, first_name="Erik", last_name="Karlsson")
    nils = PlayerFactory(team=team, first_name="Nils", last_name="Lundkvist")
    thursday = session(team, trainer, TODAY + dt.timedelta(days=1), "Thursday strength")
    saturday = session(team, trainer, TODAY + dt.timedelta(days=3), "Saturday strength")
    later = session(team, trainer, TODAY + dt.timedelta(days=20), "Strength in three weeks")
    for w in (thursday, saturday, later):
        AssignmentFactory(workout=w, player=erik)
        AssignmentFactory(workout=w, player=nils, load_percent=90)
    return {"erik": erik, "nils": nils, "in_window": [thursday, saturday], "later": later}


def on(workout) -> set[str]:
    return set(Assignment.objects.filter(workout=workout).values_list("player__first_name", flat=True))


def complete(player, **extra) -> dict:
    return {
        "player": player,
        "title": "Concussion",
        "severity": MedicalRestriction.Severity.COMPLETE,
        "body_parts": [],
        "effective_date": TODAY,
        "expiry_date": TODAY + dt.timedelta(days=9),
        "clinical_notes": "Symptoms after a hit; SCAT5 positive.",
        **extra,
    }


def assert_taken_off(squad, trainer) -> Batch:
    for w in squad["in_window"]:
        assert on(w) == {"Nils"}
    assert on(squad["later"]) == {"Erik", "Nils"}  # outside the window
    assert Assignment.objects.get(workout=squad["in_window"][0], player=squad["nils"]).load_percent == 90
    batch = Batch.objects.get()
    assert batch.status == Batch.Status.COMPLETED
    assert batch.created_by.username == "automations" and batch.source == "automation"
    assert "restriction" in batch.description.lower() and "Erik Karlsson" in batch.description
    assert batch.undo_deadline is not None
    notice = Notice.objects.get(user=trainer)
    text = notice.title + notice.body
    assert "Erik Karlsson" in text and "Thursday strength" in text and "Saturday strength" in text
    assert "Strength in three weeks" not in text
    assert "SCAT5" not in text and "Symptoms" not in text  # never clinical notes
    assert notice.batch == batch and notice.offers_undo
    return batch


def test_a_restriction_saved_through_the_orm_takes_the_player_off_blocked_sessions(
    squad, run_worker, trainer, medic
):
    restriction = RestrictionFactory(**complete(squad["erik"], prescribed_by=medic))
    run_worker()
    batch = assert_taken_off(squad, trainer)
    assert RestrictionReaction.objects.get().batch == batch

    # The same event again (a save that changes nothing the gate reads) changes nothing.
    restriction.title = "Concussion (follow-up booked)"
    restriction.save()
    run_worker()
    assert Batch.objects.count() == 1 and Notice.objects.count() == 1

    # Cleared: nobody is put back by itself; the trainer is told, and undo (by the trainer, although the
    # automations user started the batch) puts the player back.
    restriction.status = MedicalRestriction.Status.CLEARED
    restriction.save()
    run_worker()
    for w in squad["in_window"]:
        assert on(w) == {"Nils"}
    cleared = Notice.objects.exclude(pk=Notice.objects.order_by("pk").first().pk).get(user=trainer)
    assert "cleared" in cleared.title and cleared.offers_undo and cleared.batch == batch

    undo = batch_undo(batch_id=batch.pk, user=trainer)
    run_worker()
    undo.refresh_from_db()
    assert undo.status == Batch.Status.COMPLETED, undo.error
    for w in squad["in_window"]:
        assert on(w) == {"Erik", "Nils"}
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.UNDONE


def test_a_restriction_added_in_the_admin_is_handled_too(squad, run_worker, trainer, staff_client):
    data = complete(squad["erik"].pk, status="active")
    data.update(effective_date=TODAY.isoformat(), expiry_date=(TODAY + dt.timedelta(days=9)).isoformat())
    data = {k: v for k, v in data.items() if k != "body_parts"}
    response = staff_client.post(reverse("admin:medical_medicalrestriction_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    run_worker()
    assert_taken_off(squad, trainer)


def test_a_restriction_reaching_its_effective_date_is_judged_again(squad, run_worker, trainer, wednesday):
    from automations.triggers import restrictions_taking_effect

    RestrictionFactory(**complete(squad["erik"], effective_date=TODAY + dt.timedelta(days=1)))
    run_worker()
    assert Batch.objects.count() == 1
    # Meanwhile somebody put him back on Thursday's session through a path that skips the gate.
    Assignment.objects.create(workout=squad["in_window"][0], player=squad["erik"])
    wednesday.move_to(dt.datetime(2026, 12, 10, 0, 5, tzinfo=CLUB))
    assert restrictions_taking_effect(day=TODAY + dt.timedelta(days=1))
    run_worker()
    assert on(squad["in_window"][0]) == {"Nils"}
    assert Batch.objects.count() == 2
    # The tick runs every minute: a restriction handled for its day is not enqueued again.
    assert restrictions_taking_effect(day=TODAY + dt.timedelta(days=1)) == []


def test_a_modifying_restriction_records_the_gates_cap_on_the_assignment(squad, run_worker, trainer):
    RestrictionFactory(
        player=squad["erik"],
        severity=MedicalRestriction.Severity.MILD,
        body_parts=[],
        max_exertion=50,
        effective_date=TODAY,
        expiry_date=TODAY + dt.timedelta(days=9),
    )
    run_worker()
    for w in squad["in_window"]:
        a = Assignment.objects.get(workout=w, player=squad["erik"])
        assert a.medical_verdict == Assignment.Verdict.MODIFIED and a.load_percent == 50
    assert Assignment.objects.get(workout=squad["later"], player=squad["erik"]).load_percent == 100
    assert "modifications" in Notice.objects.get(user=trainer).body


def test_the_teams_medic_may_force_an_undo_the_medical_gate_refuses(squad, run_worker, trainer, medic, team):
    thursday = squad["in_window"][0]
    raw = {
        "operations": [
            {
                "id": "off",
                "type": "ASSIGN",
                "data": {
                    "workoutId": thursday.pk,
                    "assignments": [{"playerId": squad["nils"].pk}],
                    "removeExisting": True,
                },
            }
        ]
    }
    mine = batch_submit(user=trainer, team=team, raw=raw)
    run_worker()
    assert on(thursday) == {"Nils"}
    RestrictionFactory(**complete(squad["erik"]))
    run_worker()
    # The trainer's undo while the restriction holds: the gate refuses to put Erik back (CONFLICT).
    batch_undo(batch_id=mine.pk, user=trainer)
    run_worker()
    assert on(thursday) == {"Nils"}
    eve = UserFactory(username="eve")
    MembershipFactory(user=eve, team=team, role=Membership.Role.TRAINER)
    with pytest.raises(BatchActionDenied):
        batch_undo(batch_id=mine.pk, user=eve, force=True)
    with pytest.raises(BatchActionDenied):
        batch_undo(batch_id=mine.pk, user=trainer, force=True)  # the owner, but not medical staff
    forced = batch_undo(batch_id=mine.pk, user=medic, force=True)
    run_worker()
    forced.refresh_from_db()
    assert forced.created_by == medic and forced.status == Batch.Status.COMPLETED
    assert on(thursday) == {"Erik", "Nils"}
    override = AuditEvent.objects.get(action=AuditEvent.Action.MEDICAL_OVERRIDE)
    assert override.actor == medic
    assert AuditEvent.objects.filter(action=AuditEvent.Action.BATCH_UNDONE, actor=medic).exists()


def test_a_medic_may_ask_to_force_but_not_to_undo_a_trainers_batch(team, trainer, medic, other_trainer, db):
    from batch.actions import may_act

    owner_batch = Batch.objects.create(team=team, created_by=trainer)
    assert may_act(trainer, owner_batch)
    assert not may_act(medic, owner_batch)
    assert may_act(medic, owner_batch, force=True)
    assert not may_act(other_trainer, owner_batch, force=True)


def test_a_restriction_recorded_through_the_api_is_handled_too(squad, run_worker, trainer, medic, team):
    from tests.api.conftest import ApiClient, make_token

    api = ApiClient(make_token(medic, team))
    body = {
        "playerId": squad["erik"].pk,
        "title": "Concussion",
        "severity": "complete",
        "effectiveDate": TODAY.isoformat(),
        "expiryDate": (TODAY + dt.timedelta(days=9)).isoformat(),
        "clinicalNotes": "Symptoms after a hit; SCAT5 positive.",
    }
    response = api.post("/api/v1/restrictions", body, params={"team": "hawks"})
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.RESTRICTION_CHANGED)
    assert (event.actor, event.channel) == (medic, "api")
    run_worker()
    assert_taken_off(squad, trainer)
    trainer_api = ApiClient(make_token(trainer, team))
    assert trainer_api.post("/api/v1/restrictions", body, params={"team": "hawks"}).status_code == 403
