from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from batch.models import Batch, BatchItem
from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent
from tests.factories import (
    AssignmentFactory,
    FacilityFactory,
    RestrictionFactory,
    TemplateExerciseFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def club(team, trainer, staff):
    """One of everything the admin shows."""
    workout = WorkoutFactory(team=team, facility=FacilityFactory())
    WorkoutExerciseFactory(workout=workout)
    assignment = AssignmentFactory(workout=workout)
    TemplateExerciseFactory(template__team=team)
    RestrictionFactory(player=assignment.player)
    audit_record(actor=staff, action=AuditEvent.Action.BATCH_SUBMITTED, obj=workout, team=team, channel="web")
    batch = Batch.objects.create(team=team, created_by=trainer, total_items=1)
    BatchItem.objects.create(
        batch=batch, seq=0, op_id="op-1", type="UPDATE", status="FAILED", error={"code": "VERSION_CONFLICT"}
    )
    return workout


OUR_APPS = {"auth", "hockeyhub", "workouts", "medical", "batch"}


def _registered():
    """Return our apps' admin pages (django_rq's dashboard entry is not a real table)."""
    return [
        (m, model_admin) for m, model_admin in admin.site._registry.items() if m._meta.app_label in OUR_APPS
    ]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(
    ("model", "model_admin"), _registered(), ids=lambda value: getattr(value, "__name__", "")
)
def test_staff_can_open_every_changelist_add_and_change_page(staff_client, club, model, model_admin):
    assert staff_client.get(_url(model, "changelist")).status_code == 200
    assert staff_client.get(_url(model, "changelist"), {"q": "a"}).status_code == 200
    if model_admin.has_add_permission(_StaffRequest()):
        assert staff_client.get(_url(model, "add")).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        assert staff_client.get(_url(model, "change", obj.pk)).status_code == 200


class _StaffRequest:
    class user:  # noqa: N801 - a stand-in for request.user
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(perm: str, obj: object = None) -> bool:
            return True


def test_every_domain_model_is_registered():
    from workouts import models as w

    for model in (w.Team, w.Player, w.Exercise, w.Facility, w.Workout, w.WorkoutTemplate, AuditEvent, Batch):
        assert admin.site.is_registered(model), model


def test_audit_events_are_read_only(staff_client, club):
    event = AuditEvent.objects.get()
    assert staff_client.get(_url(AuditEvent, "add")).status_code == 403
    assert staff_client.post(_url(AuditEvent, "delete", event.pk)).status_code == 403
    page = staff_client.get(_url(AuditEvent, "change", event.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_batch_change_page_links_to_its_items_which_list_their_error_code(staff_client, club):
    batch = Batch.objects.get()
    page = staff_client.get(_url(Batch, "change", batch.pk)).content.decode()
    items_url = f"{_url(BatchItem, 'changelist')}?batch={batch.pk}"
    assert f'href="{items_url}">All 1 items</a>' in page and "op-1" not in page
    items = staff_client.get(items_url).content.decode()
    assert "op-1" in items and "VERSION_CONFLICT" in items


def test_trainer_is_redirected_away_from_admin(trainer_client, club):
    response = trainer_client.get(_url(Batch, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_anonymous_is_redirected_away_from_admin(client, club):
    response = client.get("/admin/")
    assert response.status_code == 302


def test_an_admin_edit_moves_the_version_so_undo_will_not_overwrite_it(rf, staff, team):
    from django.contrib import admin as django_admin
    from django.forms.models import model_to_dict

    from tests.factories import WorkoutFactory
    from workouts.models import Workout

    workout = WorkoutFactory(team=team, name="Before")
    model_admin = django_admin.site._registry[Workout]
    request = rf.post("/admin/")
    request.user = staff
    form_class = model_admin.get_form(request, workout, change=True)
    data = {k: v for k, v in model_to_dict(workout).items() if v is not None}
    # The admin's split date/time widgets (a single value would clear the start: a scheduled workout
    # without a start, which the rulebook refuses).
    start, end = timezone.localtime(workout.scheduled_start), timezone.localtime(workout.scheduled_end)
    data.update(
        name="Edited by staff",
        scheduled_start_0=f"{start:%Y-%m-%d}",
        scheduled_start_1=f"{start:%H:%M:%S}",
        scheduled_end_0=f"{end:%Y-%m-%d}",
        scheduled_end_1=f"{end:%H:%M:%S}",
    )
    form = form_class(data, instance=workout)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    workout.refresh_from_db()
    assert (workout.name, workout.version) == ("Edited by staff", 2)
