"""Every URL in the URLconf, as every persona, with malformed query strings and bodies: never a 500.

The URL patterns are walked, not listed, so a new page is probed the day it is added. Path parameters
are filled with real object ids from the factories (and with absurd ones), then each URL gets malformed
query strings (GET) and bodies (POST): NUL bytes, huge numbers, out-of-range dates, wrong types,
overlong strings, bad JSON, invalid UTF-8. Each request runs in a savepoint that is rolled back, so
a POST that deletes or changes something leaves the next case the same world.

Every pattern is visited; the walk is sampled where the full set cannot find more. A path whose id
names nothing (the absurd one), and a method whose plainest request is turned away (to the login page,
401, 403) or not allowed (405), answer before any parameter is read, so they get a few variants; the
persona that is let in (trainer, staff) sends every variant to the same view with real ids.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from batch.forms import OPERATION_FORMS
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
from workouts.models import WorkoutTemplate

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
# Every parameter name the app's views, forms and the admin read; each malformed value goes to all.
KEYS = [
    "team",
    "q",
    "type",
    "status",
    "date_from",
    "date_to",
    "sort",
    "page",
    "week",
    "tab",
    "shown",
    "seen",
    "action",
    "ids",
    "page_ids",
    "query",
    "request_id",
    "players",
    "role",
    "load_percent",
    "remove_existing",
    "start",
    "end",
    "facility",
    "frequency",
    "weekdays",
    "until",
    "count",
    "exceptions",
    "name_pattern",
    "date_shift_days",
    "include_assignments",
    "name",
    "intensity",
    "notes",
    "permanent",
    "restore",
    "category",
    "visibility",
    "description",
    "template",
    "time",
    "acknowledge",
    "warnings",
    "opt-max_concurrency",
    "opt-chunk_size",
    "opt-retry_attempts",
    "opt-medical_check",
    "opt-conflict_resolution",
    "opt-notify_on_complete",
    "o",
    "p",
    "e",
    "_changelist_filters",
    "effective_date__gte",
    "effective_date__year",
    "effective_date__month",
    "scheduled_start__day",
    "next",
    "username",
    "password",
    "select_across",
    "index",
    "_selected_action",
    "post",
]
VALUES = {
    "nul": "\x00",
    "nul-inside": "abc\x00def",
    "huge-number": HUGE,
    "negative": "-1",
    "float-overflow": "1e309",
    "nan": "NaN",
    "date-far-future": "9999-12-31",
    "date-far-past": "0001-01-01",
    "week-far-future": "9999-W52",
    "week-zero": "0000-W00",
    "datetime-far-future": "9999-12-31T23:59",
    "overlong": "x" * 20_000,
    "wrong-type-json": '{"a": [1, 2',
    "percent": "%",
    "unicode": "\u202e\U0001f3d2\ufeff",
}
RAW_QUERIES = {
    "invalid-utf8": "team=%ff%fe&q=%c3%28&date_from=%e2%82",
    "repeated-keys": "&".join(f"{k}=1&{k}=2" for k in KEYS),
    "no-values": "&".join(KEYS),
    "empty-keys": "=&==&&&=x",
}


@dataclass(frozen=True)
class Case:
    persona: str
    method: str
    path: str
    variant: str


@pytest.fixture
def world(team, other_team, trainer, other_trainer, medic, staff):
    """One of everything a page can name, plus the ids to put into paths."""
    workout = WorkoutFactory(team=team, facility=FacilityFactory())
    WorkoutExerciseFactory(workout=workout)
    assignment = AssignmentFactory(workout=workout)
    template = TemplateExerciseFactory(template__team=team, template__created_by=trainer).template
    WorkoutTemplateFactory_private = TemplateExerciseFactory(
        template__team=team,
        template__visibility=WorkoutTemplate.Visibility.PRIVATE,
        template__created_by=medic,
    ).template
    restriction = RestrictionFactory(player=assignment.player)
    event = audit_record(
        actor=staff, action=AuditEvent.Action.BATCH_SUBMITTED, obj=workout, team=team, channel="web"
    )
    running = Batch.objects.create(team=team, created_by=trainer, total_items=1, status=Batch.Status.RUNNING)
    finished = Batch.objects.create(
        team=team, created_by=trainer, total_items=1, failed=1, status=Batch.Status.COMPLETED_WITH_ERRORS
    )
    BatchItem.objects.create(
        batch=finished,
        seq=0,
        op_id="op-1",
        type="UPDATE",
        status="FAILED",
        error={"code": "VERSION_CONFLICT"},
    )
    by_model = {
        "auth_user": trainer.pk,
        "auth_group": None,
        "hockeyhub_auditevent": getattr(event, "pk", None) or AuditEvent.objects.first().pk,
        "workouts_team": team.pk,
        "workouts_membership": trainer.memberships.first().pk,
        "workouts_player": assignment.player.pk,
        "workouts_exercise": assignment.workout.workout_exercises.first().exercise_id,
        "workouts_facility": workout.facility_id,
        "workouts_workout": workout.pk,
        "workouts_workouttemplate": template.pk,
        "workouts_assignment": assignment.pk,
        "medical_medicalrestriction": restriction.pk,
        "batch_batch": finished.pk,
    }
    return {
        "workout_id": [str(workout.pk)],
        "batch_id": [str(running.pk), str(finished.pk)],
        "pk": [str(restriction.pk)],
        "op": [*OPERATION_FORMS, "nope"],
        "id": [str(trainer.pk)],
        "content_type_id": [str(ContentType.objects.get_for_model(workout).pk)],
        "by_model": by_model,
        "private_template": WorkoutTemplateFactory_private,
        "users": {"trainer": trainer, "medic": medic, "staff": staff},
    }


def _patterns(patterns=None, prefix: str = ""):
    """Yield (route, name) for every URL pattern, routes joined from their resolvers."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name or ""


def _fill(route: str, name: str, world: dict) -> list[str]:
    """Return concrete paths for a route: real ids, plus an absurd one for each id parameter."""
    route = route.replace("^", "").replace("$", "").replace("/?", "/")
    route = re.sub(r"\(\?P<token>\[\\w\]\+\)\?", "nope", route)
    route = re.sub(r"\(\?P<app_label>[^)]*\)", "workouts", route)
    route = re.sub(r"\(\?P<url>\.\*\)", "nope/", route)
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if not params:
        return ["/" + route]
    model = re.match(r"^(\w+?_\w+?)_(change|delete|history)$", name)
    values: dict[str, list[str]] = {}
    for _, param in params:
        if param == "object_id":
            pk = world["by_model"].get(model.group(1)) if model else world["workout_id"][0]
            values[param] = [str(pk) if pk else "1", HUGE]
        elif param in world and param != "by_model":
            values[param] = [*world[param], HUGE] if param != "op" else world[param]
        elif param in ("queue_index", "scheduler_index", "connection_index"):
            values[param] = ["0"]
        else:
            values[param] = ["nope"]
    # One path per value of the first multi-valued parameter; the others take their first value.
    paths = []
    varying = next((p for _, p in params if len(values[p]) > 1), params[0][1])
    for value in values[varying]:
        path = route
        for _, param in params:
            path = re.sub(
                rf"<(?:\w+:)?{param}>", value if param == varying else values[param][0], path, count=1
            )
        paths.append("/" + path)
    return paths


def _queries() -> dict[str, str]:
    queries = {"none": ""}
    for label, value in VALUES.items():
        queries[label] = "&".join(f"{k}={quote(value)}" for k in KEYS)
    queries.update(RAW_QUERIES)
    return queries


def _bodies() -> dict[str, tuple[bytes | dict, str]]:
    form = "application/x-www-form-urlencoded"
    bodies: dict[str, tuple[bytes | dict, str]] = {"empty": (b"", form)}
    for label, value in VALUES.items():
        bodies[label] = ("&".join(f"{k}={quote(value)}" for k in KEYS).encode(), form)
    bodies["invalid-utf8"] = (b"team=%ff%fe&action=%c3%28&" + b"\xff\xfe=\x00", form)
    bodies["bad-json"] = (b'{"operations": [', "application/json")
    bodies["json-array"] = (b"[1, 2, 3]", "application/json")
    bodies["binary"] = (bytes(range(256)), "application/octet-stream")
    bodies["bad-multipart"] = (
        b"--x\r\nContent-Disposition: form-data; name=\x00\r\n\r\n",
        "multipart/form-data",
    )
    return bodies


@pytest.fixture
def quiet_logs():
    """Every refused request logs a warning holding the request; 10,000 of them would fill the memory."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


# Django's admin and the RQ dashboard (under /admin/) get fewer variants: their code is not ours and
# every page of them is alike; non-staff users are turned away before any parameter is read.
ADMIN_VARIANTS = {
    "GET": {"none", "nul", "huge-number", "date-far-future", "overlong", "invalid-utf8", "repeated-keys"},
    "POST": {"empty", "nul", "huge-number", "date-far-future", "overlong", "bad-json"},
}
TURNED_AWAY_VARIANTS = {"GET": {"none", "nul"}, "POST": {"empty"}}
# A path with an id that names nothing is a 404 before its parameters are read; these still try that.
ABSURD_ID_VARIANTS = {
    "GET": {"none", "nul", "huge-number", "invalid-utf8"},
    "POST": {"empty", "nul", "bad-json"},
}
PLAIN = {"GET": "none", "POST": "empty"}  # the plainest request of each method: sent first on every path


Cases = list[tuple[str, str, object]]


def _keep(cases: Cases, variants: dict[str, set[str]]) -> Cases:
    return [case for case in cases if case[1] in variants[case[0]]]


def _cases_for(path: str, persona: str, cases: Cases) -> Cases:
    """The cases for one path, the plainest GET and POST first."""
    if path.startswith("/admin/"):
        cases = _keep(cases, ADMIN_VARIANTS if persona == "staff" else TURNED_AWAY_VARIANTS)
    if HUGE in path:
        cases = _keep(cases, ABSURD_ID_VARIANTS)
    return sorted(cases, key=lambda case: case[1] != PLAIN[case[0]])


def _turned_away(response) -> bool:
    """True when the persona is sent to log in or refused, or the method is not allowed (405): each gate
    comes before any parameter is read."""
    if response.status_code in (401, 403, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["anonymous", "trainer", "staff"])
def test_no_url_answers_500_to_malformed_input(world, persona, quiet_logs, capsys):
    client = Client(raise_request_exception=False)
    user = world["users"].get(persona)
    if user is not None:
        client.force_login(user)
    queries, bodies = _queries(), _bodies()
    paths = [path for route, name in _patterns() for path in _fill(route, name, world)]
    assert len(paths) > 150  # the walk found the whole URLconf (app, admin, RQ dashboard)
    cases = [("GET", label, query) for label, query in queries.items()]
    cases += [("POST", label, body) for label, body in bodies.items()]
    failures: dict[Case, str] = {}
    statuses: Counter[int] = Counter()
    for path in paths:
        refused: set[str] = set()  # methods whose plainest request was turned away or not allowed
        for method, label, payload in _cases_for(path, persona, cases):
            is_plain = label == PLAIN[method]
            # Refused on its plainest request of a method: a few malformed ones more, not every variant.
            if method in refused and not is_plain and label not in TURNED_AWAY_VARIANTS[method]:
                continue
            # A savepoint per request: a POST that deletes or changes something leaves the world as it was.
            sid = transaction.savepoint()
            if method == "GET":
                response = client.get(path, QUERY_STRING=payload)
            else:
                data, content_type = payload
                response = client.generic("POST", path, data, content_type=content_type)
            transaction.savepoint_rollback(sid)
            statuses[response.status_code] += 1
            if is_plain and _turned_away(response):
                refused.add(method)
            # /healthz answers 503 by design while workers or Redis are down; every other 5xx is a crash.
            if response.status_code >= 500 and not (response.status_code == 503 and path == "/healthz"):
                exc = getattr(response, "exc_info", None)
                failures[Case(persona, method, path, label)] = repr(exc[1])[:300] if exc else ""
            if user is not None and "logout" in path:
                client.force_login(user)
    with capsys.disabled():
        print(
            f"\n[{persona}] malformed web requests: {statuses.total()} tried, "
            f"{len(failures)} answered 500; "
            f"statuses {dict(sorted(statuses.items()))}"
        )
    assert not failures, "\n".join(
        f"{c.method} {c.path} [{c.variant}]: {e}" for c, e in list(failures.items())[:80]
    )
