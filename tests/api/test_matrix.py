"""Every API endpoint × every persona: anonymous, trainer, other team's trainer, medic, staff, and a
revoked and an expired token. Checks the status, that errors are problem+json (never HTML), and
that another team's objects stay invisible."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from automations.models import Recipe
from batch.models import Batch, BatchItem
from calendars.models import ImportedCalendar
from calendars.services import feed_token_get_or_create
from hockeyhub.models import AuditEvent
from tests.api.conftest import PERSONAS
from tests.factories import PlayerFactory, RestrictionFactory, WorkoutFactory, WorkoutTemplateFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

A = 401  # anonymous, revoked and expired tokens are all 401


def create_op(op_id: str = "op-1") -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": "Leg day", "type": "STRENGTH"}}}


@pytest.fixture
def world(team, other_team, trainer, other_trainer, medic, staff):
    """A finished batch of the trainer's (nothing undoable, nothing to retry), a webhook with a delivery."""
    now = timezone.now()
    workout = WorkoutFactory(team=team)
    WorkoutTemplateFactory(team=team)
    RestrictionFactory(player=PlayerFactory(team=team))
    batch = Batch.objects.create(
        team=team,
        created_by=trainer,
        status=Batch.Status.COMPLETED,
        total_items=1,
        succeeded=1,
        options={"chunk_size": 10},
        finished_at=now,
        started_at=now - dt.timedelta(seconds=2),
        undo_deadline=now + dt.timedelta(hours=24),
    )
    BatchItem.objects.create(
        batch=batch,
        seq=0,
        op_id="op-1",
        type="UPDATE",
        data={"workoutId": workout.pk, "updates": {"notes": "x"}},
        status=BatchItem.Status.SUCCEEDED,
        result={"id": workout.pk, "workoutId": workout.pk},
    )
    endpoint = WebhookEndpoint.objects.create(
        team=team, url="http://127.0.0.1:9/hook", events=["batch.completed"], secret="whsec_dGVzdA=="
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, batch=batch, event="batch.completed", msg_id="msg_1", payload={"type": "x"}
    )
    calendar = ImportedCalendar.objects.create(team=team, name="League games")
    feed = feed_token_get_or_create(user=trainer, kind="team", team=team)
    recipe = Recipe.objects.create(team=team, name="Weekly", request={"operations": []}, created_by=trainer)
    return {
        "batch": batch.pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "workout": workout.pk,
        "calendar": calendar.pk,
        "feed": feed.pk,
        "recipe": recipe.pk,
    }


H = {"team": "hawks"}
# No facility 999999: the planner answers its 400 (a plan itself is tested in tests/planner/test_api.py).
PLAN = {**H, "from": "2030-02-04", "to": "2030-02-10", "sessions": [{"name": "Lift", "durationMinutes": 60}]}
PLAN["sessions"][0].update(intensity=50, facilityIds=[999999])
RECIPE_BODY = {"name": "r", "request": {"operations": []}}

# (name, method, path, params or body, {persona: status}) — persona order: trainer, other, medic, staff.
ENDPOINTS = [
    ("validate", "post", "/api/v1/batches/validate", {"operations": [create_op()]}, (200, 404, 200, 200)),
    ("submit", "post", "/api/v1/batches", {"operations": [create_op()]}, (202, 404, 202, 202)),
    ("history", "get", "/api/v1/batches", H, (200, 404, 200, 200)),
    ("detail", "get", "/api/v1/batches/{batch}", None, (200, 404, 200, 200)),
    ("results", "get", "/api/v1/batches/{batch}/results", None, (200, 404, 200, 200)),
    ("export", "get", "/api/v1/batches/{batch}/export", None, (200, 404, 200, 200)),
    ("cancel", "post", "/api/v1/batches/{batch}/cancel", None, (202, 404, 403, 202)),
    ("undo", "post", "/api/v1/batches/{batch}/undo", None, (409, 404, 403, 409)),
    ("retry", "post", "/api/v1/batches/{batch}/retry", None, (409, 404, 403, 409)),
    ("resume", "post", "/api/v1/batches/{batch}/resume", None, (409, 404, 403, 409)),
    ("workouts", "get", "/api/v1/workouts", H, (200, 404, 200, 200)),
    ("players", "get", "/api/v1/players", H, (200, 404, 200, 200)),
    ("templates", "get", "/api/v1/templates", H, (200, 404, 200, 200)),
    ("restrictions", "get", "/api/v1/restrictions", H, (200, 404, 200, 200)),
    (
        "clinical notes",
        "get",
        "/api/v1/restrictions",
        {**H, "include": "clinicalNotes"},
        (403, 404, 200, 200),
    ),
    ("schema", "get", "/api/v1/schema", None, (200, 200, 200, 200)),
    (
        "webhook create",
        "post",
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:8/other", "events": ["batch.failed"]},
        (201, 404, 201, 201),
    ),
    ("webhook list", "get", "/api/v1/webhooks", None, (200, 200, 200, 200)),
    ("webhook show", "get", "/api/v1/webhooks/{endpoint}", None, (200, 404, 200, 200)),
    ("webhook deliveries", "get", "/api/v1/webhooks/{endpoint}/deliveries", None, (200, 404, 200, 200)),
    (
        "webhook redeliver",
        "post",
        "/api/v1/webhooks/{endpoint}/deliveries/{delivery}/redeliver",
        None,
        (202, 404, 202, 202),
    ),
    ("webhook delete", "delete", "/api/v1/webhooks/{endpoint}", None, (204, 404, 204, 204)),
    ("calendars list", "get", "/api/v1/calendars", H, (200, 404, 200, 200)),
    ("calendar import without a file", "post", "/api/v1/calendars", None, (400, 400, 400, 400)),
    (
        "calendar busy",
        "get",
        "/api/v1/calendars/busy",
        {**H, "start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"},
        (200, 404, 200, 200),
    ),
    ("calendar show", "get", "/api/v1/calendars/{calendar}", None, (200, 404, 200, 200)),
    ("calendar events", "get", "/api/v1/calendars/{calendar}/events", None, (200, 404, 200, 200)),
    ("calendar delete", "delete", "/api/v1/calendars/{calendar}", None, (204, 404, 204, 204)),
    ("feeds list", "get", "/api/v1/calendars/feeds", H, (200, 404, 200, 200)),
    ("feed create", "post", "/api/v1/calendars/feeds", {"kind": "team"}, (201, 404, 201, 201)),
    ("feed rotate", "post", "/api/v1/calendars/feeds/{feed}/rotate", None, (201, 404, 201, 201)),
    ("feed revoke", "delete", "/api/v1/calendars/feeds/{feed}", None, (204, 404, 204, 204)),
    (
        "planner",
        "post",
        "/api/v1/planner",
        {
            **H,
            "from": "2030-02-04",
            "to": "2030-02-10",
            "sessions": [{"name": "Lift", "durationMinutes": 60, "intensity": 50, "facilityIds": [999999]}],
        },
        (400, 404, 400, 400),
    ),
    ("recipe create", "post", "/api/v1/recipes", RECIPE_BODY, (201, 404, 201, 201)),
    (
        "schedule create",
        "post",
        "/api/v1/recipes/{recipe}/schedules",
        {"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18", "start": "2027-01-03T18:00:00+01:00"},
        (201, 404, 201, 201),
    ),
    ("recipe list", "get", "/api/v1/automations/recipes", H, (200, 404, 200, 200)),
    ("schedule list", "get", "/api/v1/automations/schedules", H, (200, 404, 200, 200)),
    ("run list", "get", "/api/v1/automations/runs", H, (200, 404, 200, 200)),
    ("analytics batches", "get", "/api/v1/analytics/batches", {**H, "groupBy": "type"}, (200, 404, 200, 200)),
    ("analytics load", "get", "/api/v1/analytics/load", H, (200, 404, 200, 200)),
    (
        "restriction create",
        "post",
        "/api/v1/restrictions",
        {"playerId": 2**53, "title": "x", "severity": "mild", "effectiveDate": "2026-11-18"},
        (403, 404, 422, 422),
    ),
]
CASES = [
    pytest.param(name, method, path, payload, persona, expected, id=f"{name}-{persona}")
    for name, method, path, payload, statuses in ENDPOINTS
    for persona in PERSONAS
    for expected in [dict(zip(("trainer", "other", "medic", "staff"), statuses, strict=True)).get(persona, A)]
]


def test_the_matrix_covers_every_operation_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json()
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    covered = {
        (
            m,
            p.replace("{batch}", "{batch_id}")
            .replace("{endpoint}", "{endpoint_id}")
            .replace("{delivery}", "{delivery_id}")
            .replace("{calendar}", "{calendar_id}")
            .replace("{feed}", "{feed_id}")
            .replace("{recipe}", "{recipe_id}"),
        )
        for _, m, p, _, _ in ENDPOINTS
    }
    assert documented == covered
    assert len(CASES) == len(ENDPOINTS) * 7


@pytest.mark.parametrize(
    ("name", "method", "path", "payload", "persona_api", "expected"),
    [
        pytest.param(c.values[0], c.values[1], c.values[2], c.values[3], c.values[4], c.values[5], id=c.id)
        for c in CASES
    ],
    indirect=["persona_api"],
)
def test_endpoint_answers_each_persona(world, name, method, path, payload, persona_api, expected):
    url = path.format(**world)
    if method == "get":
        response = persona_api.get(url, payload)
    elif method == "post":
        params = (
            H
            if "{" not in path and "webhook" not in name
            else ({"team": "hawks"} if name == "webhook create" else None)
        )
        response = persona_api.post(url, payload, params=params)
    else:
        response = persona_api.delete(url)
    assert response.status_code == expected, response.content[:500]
    content_type = response.get("Content-Type", "")
    if expected >= 400:
        assert content_type == "application/problem+json"
        body = response.json()
        assert body["status"] == expected and body["detail"] and body["type"].startswith("tag:hockeyhub")
    elif expected != 204:
        assert "json" in content_type, content_type
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"<html" not in body[:200].lower()


def test_lists_show_no_other_teams_objects(world, other_api, trainer_api):
    assert other_api.get("/api/v1/webhooks").json()["data"] == []
    assert other_api.get("/api/v1/batches").json()["data"] == []
    assert [e["id"] for e in trainer_api.get("/api/v1/webhooks").json()["data"]] == [world["endpoint"]]
    assert [b["id"] for b in trainer_api.get("/api/v1/batches").json()["data"]] == [world["batch"]]


def test_each_clinical_notes_read_is_audited(world, medic_api, medic):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ).count()
    body = medic_api.get("/api/v1/restrictions", {"include": "clinicalNotes"}).json()
    assert body["data"][0]["clinicalNotes"] == "Grade II MCL sprain; MRI 2026-11-20."
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ)
    assert events.count() == before + 1
    assert events.first().channel == "api" and events.first().actor == medic
    # Summaries alone are not a notes read and carry no notes.
    plain = medic_api.get("/api/v1/restrictions").json()
    assert "clinicalNotes" not in plain["data"][0] or plain["data"][0]["clinicalNotes"] is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ).count() == before + 1
