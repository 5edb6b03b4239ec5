"""Property-based tests of the request parser (hypothesis).

Any JSON value gives a request or a list of problems, never an exception; a valid request survives
being stored and exported (batch_export) and parses again to the same request.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.errors import RequestProblem
from batch.exchange import CONFLICT_STRATEGIES, DATA_MODELS, PUBLIC_TYPES, BatchOptions, RequestMetadata
from batch.request import BatchRequest, parse_request
from batch.store import create_batch
from batch.validation import batch_validate
from workouts.models import Assignment, Workout, WorkoutTemplate

pytestmark = pytest.mark.django_db

FIXTURES_OK = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)

# --- any JSON --------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def keys_of(model) -> list[str]:
    return [f.alias for f in model.model_fields.values()]


DATA_KEYS = sorted({key for model in DATA_MODELS.values() for key in keys_of(model)} | {"$ref"})
OPERATION_KEYS = [
    "id",
    "type",
    "data",
    "priority",
    "dependencies",
    "conflictResolution",
    "metadata",
    "retryCount",
]
plausible_values = (
    json_values
    | st.integers(min_value=1, max_value=10**6)
    | st.sampled_from(["2030-01-02T09:00:00+01:00", "2030-01-02", "1999-01-01", "9999-12-31T23:59:59Z"])
    | st.sampled_from(["STRENGTH", "draft", "participant", "monthly", "MO", "team", "SKIP", "{original} {n}"])
    | st.builds(lambda t: {"$ref": t}, st.sampled_from(["a", "b", "c", ""]))
)
plausible_data = st.recursive(
    st.dictionaries(st.sampled_from(DATA_KEYS), plausible_values, max_size=6),
    lambda children: (
        st.dictionaries(st.sampled_from(DATA_KEYS), children | plausible_values, max_size=5)
        | st.lists(children, max_size=3)
    ),
    max_leaves=20,
)
plausible_operation = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "", 7]), "type": st.sampled_from([*PUBLIC_TYPES, "REVERT", "x"])},
    optional={
        "data": plausible_data,
        "priority": plausible_values,
        "dependencies": st.lists(st.sampled_from(["a", "b", "c", "z"]), max_size=3) | plausible_values,
        "conflictResolution": st.sampled_from([*CONFLICT_STRATEGIES, "NOPE"]),
        "metadata": json_values,
        "retryCount": plausible_values,
    },
)
plausible_request = st.fixed_dictionaries(
    {},
    optional={
        "operations": st.lists(plausible_operation, max_size=4) | json_values,
        "options": st.dictionaries(st.sampled_from([*keys_of(BatchOptions), "turbo"]), plausible_values),
        "metadata": st.dictionaries(st.sampled_from([*keys_of(RequestMetadata), "x"]), plausible_values),
    },
)


def check_outcome(raw) -> tuple[BatchRequest, list[RequestProblem]]:
    request, problems = parse_request(raw)
    assert isinstance(request, BatchRequest) and isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem, RequestProblem) and problem.message and str(problem)
    if not problems:
        assert request.operations
    return request, problems


@given(raw=json_values)
@FIXTURES_OK
def test_any_json_value_gives_a_request_or_problems(raw):
    check_outcome(raw)


@given(raw=plausible_request)
@settings(max_examples=400, deadline=None)
def test_requests_close_to_the_format_give_a_request_or_problems(raw):
    request, problems = check_outcome(raw)
    if not problems:
        again, problems_again = parse_request(exchange_of(request))
        assert problems_again == [] and same(again, request)


@given(raw=plausible_request)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_dry_run_answers_any_request_with_a_report(trainer, team, raw):
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert isinstance(report.as_dict(), dict)
    json.dumps(report.as_dict(), default=str)


# --- valid requests --------------------------------------------------------------------------------

op_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20)
ids = st.integers(min_value=1, max_value=2**40) | st.integers(min_value=1, max_value=10**9).map(str)
names = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() and "\x00" not in s)
texts = st.text(max_size=300).filter(lambda s: "\x00" not in s)
moments = st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2100, 12, 30)).map(
    lambda d: d.replace(microsecond=0).isoformat()
)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)).map(dt.date.isoformat)
players = st.lists(
    st.fixed_dictionaries(
        {"playerId": ids},
        optional={
            "role": st.sampled_from(Assignment.Role.values),
            "loadPercent": st.integers(min_value=0, max_value=150),
        },
    ),
    min_size=1,
    max_size=5,
)
workout_types = st.sampled_from(Workout.Type.values)
data_by_type = {
    "CREATE": st.fixed_dictionaries(
        {"workout": st.fixed_dictionaries({"name": names}, optional={"type": workout_types, "notes": texts})},
        optional={"assignments": players, "schedule": st.fixed_dictionaries({"start": moments})},
    ),
    "UPDATE": st.fixed_dictionaries(
        {
            "workoutId": ids,
            "updates": st.fixed_dictionaries(
                {"name": names}, optional={"intensity": st.integers(0, 100), "scheduledEnd": st.none()}
            ),
        },
        optional={"expectedVersion": st.integers(1, 1000)},
    ),
    "DELETE": st.fixed_dictionaries({"workoutId": ids}, optional={"permanent": st.booleans()}),
    "ARCHIVE": st.fixed_dictionaries({"workoutId": ids}, optional={"restore": st.booleans()}),
    "ASSIGN": st.fixed_dictionaries(
        {"workoutId": ids, "assignments": players},
        optional={"removeExisting": st.booleans(), "checkMedicalCompliance": st.just(True)},
    ),
    "SCHEDULE": st.fixed_dictionaries({"workoutId": ids, "start": moments}),
    "DUPLICATE": st.fixed_dictionaries(
        {"workoutId": ids, "count": st.integers(1, 100)},
        optional={"namePattern": st.just("{original} #{n}"), "dateShiftDays": st.integers(-365, 365)},
    ),
    "TEMPLATE": st.fixed_dictionaries(
        {
            "workoutIds": st.lists(ids, min_size=1, max_size=50),
            "name": names,
            "category": workout_types,
            "visibility": st.sampled_from(WorkoutTemplate.Visibility.values),
        },
        optional={"tags": st.lists(st.text(max_size=40).filter(lambda s: "\x00" not in s), max_size=20)},
    ),
}
small_json = st.dictionaries(
    st.text(max_size=10).filter(lambda s: "\x00" not in s),
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.text(max_size=20).filter(lambda s: "\x00" not in s),
    max_size=5,
)


@st.composite
def valid_requests(draw):
    count = draw(st.integers(min_value=1, max_value=6))
    unique_ids = draw(st.lists(op_ids, min_size=count, max_size=count, unique=True))
    operations = []
    for index, op_id in enumerate(unique_ids):
        op_type = draw(st.sampled_from(PUBLIC_TYPES))
        op = {"id": op_id, "type": op_type, "data": draw(data_by_type[op_type])}
        earlier = unique_ids[:index]
        if earlier and draw(st.booleans()):
            op["dependencies"] = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=3, unique=True))
        for key, strategy in (
            ("priority", st.integers(-1000, 1000)),
            ("conflictResolution", st.sampled_from(CONFLICT_STRATEGIES)),
            ("metadata", small_json),
            ("retryCount", st.integers(0, 100)),
        ):
            if draw(st.booleans()):
                op[key] = draw(strategy)
        operations.append(op)
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "parallel": st.booleans(),
                "chunkSize": st.integers(1, 1000),
                "maxConcurrency": st.integers(1, 16),
                "retryAttempts": st.integers(0, 10),
                "conflictResolution": st.sampled_from(CONFLICT_STRATEGIES),
                "stopOnError": st.booleans(),
            },
        )
    )
    metadata = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "description": texts,
                "source": st.text(max_size=40).filter(lambda s: "\x00" not in s),
                "tags": st.lists(st.text(max_size=40).filter(lambda s: "\x00" not in s), max_size=20),
            },
        )
    )
    return {"operations": operations, "options": options, "metadata": metadata}


def exchange_of(request: BatchRequest) -> dict:
    from batch.request import operation_to_exchange, options_to_exchange

    return {
        "operations": [
            operation_to_exchange(
                op_id=op.id,
                op_type=op.type,
                data=op.data,
                priority=op.priority,
                dependencies=op.dependencies,
                conflict_resolution=op.conflict_resolution or "",
                metadata=op.metadata,
                retry_count=op.retry_count,
            )
            for op in request.operations
        ],
        "options": options_to_exchange(request.options),
        "metadata": request.metadata,
    }


def same(a: BatchRequest, b: BatchRequest) -> bool:
    return a.operations == b.operations and a.options == b.options and a.metadata == b.metadata


@given(raw=valid_requests())
@settings(max_examples=200, deadline=None)
def test_generated_valid_requests_parse(raw):
    request, problems = parse_request(raw)
    assert problems == [], [str(p) for p in problems]
    assert [op.id for op in request.operations] == [op["id"] for op in raw["operations"]]


@given(raw=valid_requests())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_valid_requests_round_trip_through_batch_export(trainer, team, raw):
    request, problems = parse_request(raw)
    assert problems == []
    batch = create_batch(
        user=trainer, team=team, request=request, source="test", channel="test", enqueue=False
    )
    out = StringIO()
    call_command("batch_export", str(batch.pk), stdout=out)
    exported = json.loads(out.getvalue())
    again, problems = parse_request(exported)
    assert problems == [], [str(p) for p in problems]
    assert again.options == request.options and again.metadata == request.metadata
    by_id = {op.id: op for op in request.operations}
    # The export lists operations in request order (seq), so the same request comes back.
    assert [op.id for op in again.operations] == [op.id for op in request.operations]
    for op in again.operations:
        original = by_id[op.id]
        assert (op.type, op.data, op.priority, op.dependencies) == (
            original.type,
            original.data,
            original.priority,
            original.dependencies,
        )
        assert (op.conflict_resolution or None, op.metadata, op.retry_count) == (
            original.conflict_resolution or None,
            original.metadata,
            original.retry_count,
        )


@given(raw=valid_requests())
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_dry_run_of_any_valid_request_is_a_report(trainer, team, raw):
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.problems == [] or all(p.code == "PERMISSION_DENIED" for p in report.problems)
    assert {i["id"] for i in report.as_dict()["items"]} == {
        op["id"] for op in raw["operations"]
    } or report.problems
    json.dumps(report.as_dict(), default=str)


def with_real_ids(value, workouts, players, key=""):
    """Point every generated id at a real object of the team (picked by the generated number)."""
    if isinstance(value, dict):
        return {k: with_real_ids(v, workouts, players, k) for k, v in value.items()}
    if isinstance(value, list):
        return [with_real_ids(v, workouts, players, key) for v in value]
    pool = {"workoutId": workouts, "workoutIds": workouts, "playerId": players}.get(key)
    if pool and not isinstance(value, bool):
        return pool[int(value) % len(pool)]
    return value


@given(raw=valid_requests())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_dry_run_of_valid_requests_on_real_workouts_is_a_report(trainer, team, real_objects, raw):
    workouts, players = real_objects
    raw = {
        **raw,
        "operations": [
            {**op, "data": with_real_ids(op["data"], workouts, players)} for op in raw["operations"]
        ],
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.problems == [], [str(p) for p in report.problems]
    assert {i["id"] for i in report.as_dict()["items"]} == {op["id"] for op in raw["operations"]}
    json.dumps(report.as_dict(), default=str)


@pytest.fixture
def real_objects(team):
    from tests.factories import AssignmentFactory, PlayerFactory, WorkoutExerciseFactory, WorkoutFactory

    workouts = [WorkoutFactory(team=team) for _ in range(3)] + [
        WorkoutFactory(team=team, scheduled_start=None)
    ]
    players = [PlayerFactory(team=team) for _ in range(3)]
    for workout in workouts:
        WorkoutExerciseFactory(workout=workout)
    AssignmentFactory(workout=workouts[0], player=players[0])
    return [w.pk for w in workouts], [p.pk for p in players]
