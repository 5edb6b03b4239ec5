"""The exchange format as declared models: shapes, bounds, the guide's extras, limits shared with forms."""

from __future__ import annotations

import datetime as dt
import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from batch.exchange import (
    CONFLICT_STRATEGIES,
    DATA_MODELS,
    DEFAULT_WORKOUT_TYPE,
    PUBLIC_TYPES,
    AssignmentEntry,
    BatchOptions,
    DuplicateData,
    limits,
    request_json_schema,
)
from batch.forms import AssignForm, DuplicateForm, OptionsForm, ScheduleForm, UpdateForm
from batch.models import Batch, BatchItem
from batch.planner import dependency_levels
from batch.request import find_cycle, parse_request
from batch.selectors import batch_summary
from batch.services import batch_submit
from batch.validation import batch_validate
from hockeyhub.models import AuditEvent
from medical.models import MedicalRestriction
from tests.factories import (
    ExerciseFactory,
    PlayerFactory,
    RestrictionFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    WorkoutTemplateFactory,
)
from workouts.models import Workout

pytestmark = pytest.mark.django_db


def create_op(op_id: str, **data) -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": f"W {op_id}"}, **data}}


def problems_of(raw) -> list[tuple[str | None, str | None, str]]:
    _, problems = parse_request(raw)
    return [(p.operation_id, p.field, p.message) for p in problems]


def test_every_public_type_has_its_own_data_model_and_revert_is_not_public():
    assert set(PUBLIC_TYPES) == {
        "CREATE",
        "UPDATE",
        "DELETE",
        "ARCHIVE",
        "ASSIGN",
        "SCHEDULE",
        "DUPLICATE",
        "TEMPLATE",
    }
    assert set(DATA_MODELS) == {*PUBLIC_TYPES, "REVERT"}
    assert problems_of({"operations": [{"id": "r", "type": "REVERT", "data": {"changeId": 1}}]}) == [
        ("r", "type", "type must be one of " + ", ".join(PUBLIC_TYPES))
    ]


def test_the_data_is_checked_against_the_model_of_its_own_type():
    # workoutId is a DELETE field, not a CREATE one: the discriminator picks the model.
    raw = {"operations": [{"id": "c", "type": "CREATE", "data": {"workout": {"name": "x"}, "workoutId": 3}}]}
    [(op_id, field, message)] = problems_of(raw)
    assert (op_id, field) == ("c", "data.workoutId") and message.startswith("unknown field 'workoutId'")
    assert "allowed: workout, exercises, assignments" in message


def test_ids_may_be_integers_or_numeric_strings_and_are_stored_as_integers():
    raw = {
        "operations": [
            {"id": "a", "type": "ASSIGN", "data": {"workoutId": "12", "assignments": [{"playerId": "7"}]}},
            {
                "id": "t",
                "type": "TEMPLATE",
                "data": {"workoutIds": ["3", 4], "name": "T", "category": "STRENGTH", "visibility": "team"},
            },
        ]
    }
    request, problems = parse_request(raw)
    assert problems == []
    assert request.operations[0].data == {"workoutId": 12, "assignments": [{"playerId": 7}]}
    assert request.operations[1].data["workoutIds"] == [3, 4]


@pytest.mark.parametrize("bad", [True, 0, -4, "12a", "", " 7", 1.5, "99999999999999999999", [], {"id": 1}])
def test_anything_else_is_not_an_id(bad):
    raw = {"operations": [{"id": "d", "type": "DELETE", "data": {"workoutId": bad}}]}
    [(op_id, field, message)] = problems_of(raw)
    assert (op_id, field) == ("d", "data.workoutId") and message.startswith("must be an id")


def test_a_ref_stands_for_an_id_only_where_an_operation_can_produce_it():
    ok = {
        "operations": [
            create_op("c"),
            {
                "id": "u",
                "type": "UPDATE",
                "dependencies": ["c"],
                "data": {"workoutId": {"$ref": "c"}, "updates": {"name": "n"}},
            },
        ]
    }
    assert problems_of(ok) == []
    players_are_never_created = {
        "operations": [
            create_op("c"),
            {
                "id": "a",
                "type": "ASSIGN",
                "dependencies": ["c"],
                "data": {"workoutId": 1, "assignments": [{"playerId": {"$ref": "c"}}]},
            },
        ]
    }
    [(op_id, field, _)] = problems_of(players_are_never_created)
    assert (op_id, field) == ("a", "data.assignments[0].playerId")


def test_create_without_a_type_gets_the_documented_default_and_a_template_keeps_its_category():
    request, problems = parse_request({"operations": [create_op("c")]})
    assert (
        problems == [] and request.operations[0].data["workout"]["type"] == DEFAULT_WORKOUT_TYPE == "HYBRID"
    )
    request, _ = parse_request(
        {"operations": [{"id": "t", "type": "CREATE", "data": {"workout": {"templateId": "5"}}}]}
    )
    # The guide puts templateId inside workout; it is stored where the executor reads it.
    assert request.operations[0].data == {"workout": {}, "templateId": 5}


def test_create_from_a_template_named_inside_workout_runs_through_the_dry_run(trainer, team):
    template = WorkoutTemplateFactory(team=team, category=Workout.Type.AGILITY, name="Ladders")
    raw = {
        "operations": [{"id": "c", "type": "CREATE", "data": {"workout": {"templateId": str(template.pk)}}}]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid, report.as_dict()
    mismatch = {
        "operations": [
            {
                "id": "c",
                "type": "CREATE",
                "data": {"workout": {"templateId": template.pk}, "templateId": template.pk + 1},
            }
        ]
    }
    assert problems_of(mismatch) == [
        ("c", "data.templateId", "differs from data.workout.templateId; give the template once")
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"workout": {"name": "x", "scheduledStart": "1999-12-31T10:00:00+01:00"}},
            "data.workout.scheduledStart",
        ),
        (
            {"workout": {"name": "x", "scheduledStart": "9999-12-31T23:59:00+14:00"}},
            "data.workout.scheduledStart",
        ),
        ({"workout": {"name": "x"}, "schedule": {"start": "2101-01-01T09:00"}}, "data.schedule.start"),
    ],
)
def test_dates_outside_the_documented_range_are_refused_clearly(data, field):
    [(op_id, where, message)] = problems_of({"operations": [{"id": "c", "type": "CREATE", "data": data}]})
    assert (op_id, where, message) == ("c", field, "must be between 2000-01-01 and 2100-12-31")


def test_recurrence_and_metadata_dates_are_bounded_too():
    raw = {
        "operations": [
            {
                "id": "s",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": 1,
                    "start": "2030-01-01T09:00",
                    "recurrence": {
                        "frequency": "weekly",
                        "until": "2200-01-01",
                        "exceptions": ["1900-01-01"],
                    },
                },
            },
        ],
        "metadata": {"timestamp": "0001-01-01T00:00:00Z"},
    }
    assert sorted(problems_of(raw), key=str) == sorted(
        [
            ("s", "data.recurrence.until", "must be between 2000-01-01 and 2100-12-31"),
            ("s", "data.recurrence.exceptions[0]", "must be between 2000-01-01 and 2100-12-31"),
            (None, "metadata.timestamp", "must be between 2000-01-01 and 2100-12-31"),
        ],
        key=str,
    )


def test_a_monthly_series_running_past_the_calendar_answers_at_once_with_a_clear_error(trainer, team):
    workout = WorkoutFactory(team=team)
    raw = {
        "operations": [
            {
                "id": "s",
                "type": "SCHEDULE",
                "data": {
                    "workoutId": workout.pk,
                    "start": "2100-01-31T09:00:00+01:00",
                    "recurrence": {"frequency": "monthly", "count": 366},
                },
            }
        ]
    }
    began = time.monotonic()
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert time.monotonic() - began < 2
    assert [(p.operation_id, p.field, p.message) for p in report.problems] == [
        ("s", "data.recurrence", "runs past 2100-12-31, the last date the calendar accepts; lower count")
    ]


def test_strings_are_bounded_and_nul_bytes_refused():
    raw = {
        "operations": [
            {"id": "x" * 101, "type": "DELETE", "data": {"workoutId": 1}},
            {"id": "n", "type": "UPDATE", "data": {"workoutId": 1, "updates": {"notes": "a\x00b"}}},
            {"id": "l", "type": "UPDATE", "data": {"workoutId": 1, "updates": {"name": "x" * 201}}},
        ],
        "metadata": {"description": "d" * 301, "source": "s" * 41},
    }
    found = problems_of(raw)
    assert (None, "operations[0].id", "must be at most 100 characters") in found
    assert ("n", "data.updates.notes", "must not contain NUL characters") in found
    assert ("l", "data.updates.name", "must be at most 200 characters") in found
    assert (None, "metadata.description", "must be at most 300 characters") in found
    assert (None, "metadata.source", "must be at most 40 characters") in found


def test_metadata_tags_are_bounded_in_count_and_length():
    assert problems_of({"operations": [create_op("c")], "metadata": {"tags": ["t"] * 21}}) == [
        (None, "metadata.tags", "must have at most 20 entries")
    ]
    assert problems_of({"operations": [create_op("c")], "metadata": {"tags": ["ok", "x" * 41]}}) == [
        (None, "metadata.tags[1]", "must be at most 40 characters")
    ]
    assert problems_of({"operations": [create_op("c")], "metadata": {"tags": ["ok"] * 20}}) == []


def test_operation_metadata_is_free_form_but_bounded():
    big = {"operations": [{**create_op("c"), "metadata": {"note": "x" * 3000}}]}
    assert problems_of(big) == [("c", "metadata", "must be at most 2000 characters as JSON")]
    many = {"operations": [{**create_op("c"), "metadata": {f"k{i}": i for i in range(21)}}]}
    assert problems_of(many) == [("c", "metadata", "must have at most 20 keys")]


def test_priority_and_retry_count_are_bounded_integers():
    raw = {"operations": [{**create_op("c"), "priority": 10**30, "retryCount": -1}]}
    assert sorted(problems_of(raw)) == [
        ("c", "priority", "must be <= 1000"),
        ("c", "retryCount", "must be >= 0"),
    ]


def test_operation_metadata_and_retry_count_are_stored_and_returned_in_results(
    submit, run_batches, team, trainer
):
    batch = submit(
        [
            {**create_op("c"), "metadata": {"ticket": "HH-12", "attempt": {"by": "coach"}}, "retryCount": 2},
            create_op("plain"),
        ]
    )
    item = BatchItem.objects.get(batch=batch, op_id="c")
    assert item.metadata == {"ticket": "HH-12", "attempt": {"by": "coach"}} and item.retry_count == 2
    run_batches()
    batch.refresh_from_db()
    results = {r["id"]: r for r in batch_summary(batch=batch)["results"]}
    assert results["c"]["status"] == "SUCCEEDED"
    assert results["c"]["metadata"] == {"ticket": "HH-12", "attempt": {"by": "coach"}}
    assert results["c"]["retryCount"] == 2
    assert "metadata" not in results["plain"] and "retryCount" not in results["plain"]


@pytest.mark.parametrize("who", ["pk", "pk-string", "username"])
def test_metadata_user_id_may_name_the_caller(trainer, team, who):
    user_id = {"pk": trainer.pk, "pk-string": str(trainer.pk), "username": trainer.username}[who]
    raw = {
        "operations": [create_op("c")],
        "metadata": {"userId": user_id, "timestamp": "2026-11-29T10:00:00Z"},
    }
    assert batch_validate(user=trainer, team=team, raw=raw).valid


def test_metadata_user_id_naming_someone_else_is_refused(trainer, medic, team):
    raw = {"operations": [create_op("c")], "metadata": {"userId": medic.pk}}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert [(p.code, p.field) for p in report.problems] == [("PERMISSION_DENIED", "metadata.userId")]
    with pytest.raises(Exception, match="a request is always sent as its caller"):
        batch_submit(user=trainer, team=team, raw=raw)
    assert Batch.objects.count() == 0


@pytest.fixture
def blocked_setup(team):
    workout = WorkoutFactory(team=team)
    WorkoutExerciseFactory(workout=workout, exercise=ExerciseFactory(name="Back squat"))
    hurt = PlayerFactory(team=team)
    RestrictionFactory(player=hurt, severity=MedicalRestriction.Severity.COMPLETE)
    return workout, hurt


def assign_op(op_id, workout, player, **data) -> dict:
    return {
        "id": op_id,
        "type": "ASSIGN",
        "data": {"workoutId": workout.pk, "assignments": [{"playerId": player.pk}], **data},
    }


def test_a_trainer_may_not_turn_the_medical_check_off_for_one_operation(trainer, team, blocked_setup):
    workout, hurt = blocked_setup
    raw = {"operations": [assign_op("a", workout, hurt, checkMedicalCompliance=False)]}
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert [(p.code, p.operation_id, p.field) for p in report.problems] == [
        ("PERMISSION_DENIED", "a", "data.checkMedicalCompliance")
    ]


def test_a_medic_turns_the_check_off_for_one_operation_only_and_it_is_audited(medic, team, blocked_setup):
    workout, hurt = blocked_setup
    other = WorkoutFactory(team=team)
    raw = {
        "operations": [
            assign_op("off", workout, hurt, checkMedicalCompliance=False),
            assign_op("on", other, hurt),
        ],
        "options": {"validateBeforeExecute": False, "blockedPlayers": "fail"},
    }
    report = batch_validate(user=medic, team=team, raw=raw)
    assert not report.items["off"].errors
    assert [m["verdict"] for m in report.items["off"].medical] == ["blocked"]
    assert [e["code"] for e in report.items["on"].errors] == ["MEDICAL_RESTRICTION"]
    batch = batch_submit(user=medic, team=team, raw=raw)
    assert batch.medical_check_disabled_by == medic
    event = AuditEvent.objects.get(action=AuditEvent.Action.BATCH_MEDICAL_CHECK_DISABLED)
    assert event.details["operationIds"] == ["off"] and event.details["batchOption"] is False


def test_an_operation_may_keep_the_check_on_when_the_batch_turns_it_off(medic, team, blocked_setup):
    workout, hurt = blocked_setup
    raw = {
        "operations": [assign_op("a", workout, hurt, checkMedicalCompliance=True)],
        "options": {"medicalComplianceCheck": False, "blockedPlayers": "fail"},
    }
    report = batch_validate(user=medic, team=team, raw=raw)
    assert [e["code"] for e in report.items["a"].errors] == ["MEDICAL_RESTRICTION"]


def test_form_limits_are_the_models_limits(team, settings):
    assert limits(AssignmentEntry, "load_percent").maximum == 150
    assert limits(DuplicateData, "count").maximum == 100
    assert AssignForm(team=team).fields["load_percent"].max_value == 150
    assert DuplicateForm(team=team).fields["count"].max_value == 100
    assert ScheduleForm(team=team).fields["count"].max_value == 366
    assert UpdateForm(team=team).fields["intensity"].max_value == 100
    settings.BATCH_MAX_CHUNK_SIZE = 77
    assert OptionsForm().fields["chunk_size"].max_value == limits(BatchOptions, "chunk_size").maximum == 77
    form = OptionsForm(
        {
            "opt-max_concurrency": 1,
            "opt-chunk_size": 78,
            "opt-retry_attempts": 3,
            "opt-conflict_resolution": "SKIP",
        }
    )
    assert not form.is_valid() and "chunk_size" in form.errors


def test_the_modal_offers_every_conflict_strategy_the_exchange_accepts_in_plain_words():
    offered = OptionsForm().fields["conflict_resolution"]
    assert [value for value, _ in offered.choices] == list(CONFLICT_STRATEGIES)
    assert dict(offered.choices)["ADJUST_TIME"] == "Move to the next free time"
    assert offered.initial == BatchOptions().conflict_resolution == "SKIP"


def test_a_form_value_the_model_refuses_is_refused_by_the_form(team):
    player = PlayerFactory(team=team)
    form = AssignForm(
        {"players": [player.pk], "role": "participant", "load_percent": 180, "request_id": "r"}, team=team
    )
    assert not form.is_valid() and "load_percent" in form.errors
    form = DuplicateForm({"count": 60, "name_pattern": "{original} {n}", "request_id": "r"}, team=team)
    assert form.is_valid(), form.errors  # 52 was the form's own, lower limit


def test_cycles_are_found_with_graphlib_and_named_in_dependency_order():
    raw = {
        "operations": [
            {"id": "a", "type": "DELETE", "dependencies": ["b"], "data": {"workoutId": 1}},
            {"id": "b", "type": "DELETE", "dependencies": ["c"], "data": {"workoutId": 2}},
            {"id": "c", "type": "DELETE", "dependencies": ["a"], "data": {"workoutId": 3}},
            {"id": "d", "type": "DELETE", "dependencies": ["a"], "data": {"workoutId": 4}},
        ]
    }
    [(op_id, field, message)] = problems_of(raw)
    assert field == "dependencies" and message.startswith("dependency cycle: ")
    cycle = message.removeprefix("dependency cycle: ").split(" -> ")
    assert cycle[0] == cycle[-1] == op_id and set(cycle) == {"a", "b", "c"}
    order = {"a": "b", "b": "c", "c": "a"}
    assert all(order[x] == y for x, y in zip(cycle, cycle[1:], strict=False))


def test_dependency_levels_of_a_long_chain_and_a_diamond():
    chain = [{"id": f"n{i}", "type": "DELETE", "data": {"workoutId": i + 1}} for i in range(3000)]
    for i in range(1, 3000):
        chain[i]["dependencies"] = [f"n{i - 1}"]
    request, problems = parse_request({"operations": chain})
    assert problems == [] and find_cycle(request.operations) is None
    levels = dependency_levels(request.operations)
    assert levels["n0"] == 0 and levels["n2999"] == 2999
    diamond = [
        {"id": "top", "type": "DELETE", "data": {"workoutId": 1}},
        {"id": "l", "type": "DELETE", "dependencies": ["top"], "data": {"workoutId": 2}},
        {"id": "r", "type": "DELETE", "dependencies": ["top", "l"], "data": {"workoutId": 3}},
        {"id": "bottom", "type": "DELETE", "dependencies": ["l", "r"], "data": {"workoutId": 4}},
    ]
    request, _ = parse_request({"operations": diamond})
    assert dependency_levels(request.operations) == {"top": 0, "l": 1, "r": 2, "bottom": 3}


def all_properties(node):
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield node["properties"]
        for value in node.values():
            yield from all_properties(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_properties(value)


def test_batch_schema_prints_the_json_schema_of_the_models(settings):
    out = StringIO()
    call_command("batch_schema", stdout=out)
    schema = json.loads(out.getvalue())
    assert schema == json.loads(json.dumps(request_json_schema()))
    assert schema["title"] == "BatchRequest" and schema["required"] == ["operations"]
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    union = schema["properties"]["operations"]["items"]
    assert set(union["discriminator"]["mapping"]) == set(PUBLIC_TYPES)
    assert defs["AssignmentEntry"]["properties"]["loadPercent"]["maximum"] == 150
    assert defs["BatchOptions"]["properties"]["chunkSize"]["maximum"] == settings.BATCH_MAX_CHUNK_SIZE
    assert defs["RequestMetadata"]["properties"]["tags"]["maxItems"] == 20
    # A reference's "$ref" key is spelled as a pattern: no schema tool takes it for a JSON reference.
    assert not any("$ref" in props for props in all_properties(schema))
    assert "patternProperties" in json.dumps(defs["CreateData"]["properties"]["templateId"])
    assert "2100-12-31" in defs["ScheduleData"]["properties"]["start"]["description"]


def test_dates_in_range_keep_the_callers_spelling():
    when = (dt.datetime(2030, 5, 6, 7, 8)).isoformat()
    request, problems = parse_request(
        {"operations": [{"id": "s", "type": "SCHEDULE", "data": {"workoutId": 1, "start": when}}]}
    )
    assert problems == [] and request.operations[0].data["start"] == when


@pytest.mark.django_db(transaction=True)
def test_retry_failed_counts_the_retry_and_keeps_the_operations_metadata(submit, run_worker, trainer):
    from batch.retry import batch_retry_failed

    bad = {
        "id": "bad",
        "type": "UPDATE",
        "data": {"workoutId": 999999, "updates": {"name": "x"}},
        "metadata": {"ticket": "HH-7"},
        "retryCount": 1,
    }
    batch = submit([bad], validateBeforeExecute=False)
    run_worker()
    retry = batch_retry_failed(batch_id=batch.pk, user=trainer)
    item = BatchItem.objects.get(batch=retry, op_id="bad")
    assert (item.retry_count, item.metadata) == (2, {"ticket": "HH-7"})


def test_modal_dates_far_out_are_form_errors_not_500s(trainer_client, team):
    from django.urls import reverse

    template = WorkoutTemplateFactory(team=team)
    options = {
        "opt-max_concurrency": 2,
        "opt-chunk_size": 10,
        "opt-retry_attempts": 1,
        "opt-conflict_resolution": "SKIP",
    }
    response = trainer_client.post(
        reverse("batch:operation", args=["create"]),
        {
            "team": team.slug,
            "action": "validate",
            "request_id": "far",
            "template": template.pk,
            "date_from": "9999-12-30",
            "date_to": "9999-12-31",
            "weekdays": ["0", "1", "2", "3", "4", "5", "6"],
            "time": "09:00",
            **options,
        },
    )
    assert response.status_code == 422
    assert "The date must be between 2000-01-01 and 2100-12-31." in response.content.decode()
    form = ScheduleForm(
        {"start": "2030-01-01T09:00", "exceptions": "2030-01-02, 2200-01-01", "request_id": "r"}, team=team
    )
    assert not form.is_valid() and "exceptions" in form.errors


def test_a_request_longer_than_a_parse_window_names_its_problems_by_operation_and_once():
    """Operations are validated a window at a time (batch.request.PARSE_WINDOW); the user must not see
    window-relative indexes or an option error once per window."""
    from batch.request import PARSE_WINDOW

    count = 2 * PARSE_WINDOW + 10
    ops = [{"id": f"d{i}", "type": "DELETE", "data": {"workoutId": i + 1}} for i in range(count)]
    ops[PARSE_WINDOW + 5]["data"]["workoutId"] = "five"
    ops[2 * PARSE_WINDOW + 3] = {"type": "DELETE", "data": {"workoutId": "x"}}  # no id: named by index
    _, problems = parse_request({"operations": ops, "options": {"chunkSize": "big"}})
    assert [(p.operation_id, p.field) for p in problems] == [
        (None, "options.chunkSize"),
        (f"d{PARSE_WINDOW + 5}", "data.workoutId"),
        (None, f"operations[{2 * PARSE_WINDOW + 3}].id"),
        (None, f"operations[{2 * PARSE_WINDOW + 3}].data.workoutId"),
    ]

    ops = [{"id": f"d{i}", "type": "DELETE", "data": {"workoutId": i + 1}} for i in range(count)]
    request, problems = parse_request({"operations": ops, "metadata": {"description": "long"}})
    assert problems == []
    assert [op.seq for op in request.operations] == list(range(count))
    assert request.operations[-1].id == f"d{count - 1}"
    assert request.metadata == {"description": "long"}


def test_operations_keep_the_callers_data_only_where_validation_left_it_unchanged():
    """Memory: an Operation shares the caller's data dict when it is the normalised data already; where
    validation changed something (a numeric string to an id, a default filled in) it has its own."""
    from batch.request import same_json

    as_given = {"workoutId": 5, "updates": {"notes": "x"}}
    normalised = {"workoutId": "6", "updates": {"notes": "y"}}
    raw = {
        "operations": [
            {"id": "a", "type": "UPDATE", "data": as_given},
            {"id": "b", "type": "UPDATE", "data": normalised},
        ]
    }
    request, problems = parse_request(raw)
    assert problems == []
    first, second = request.operations
    assert first.data is as_given
    assert second.data is not normalised and second.data["workoutId"] == 6 and normalised["workoutId"] == "6"
    assert (
        not same_json({"a": True}, {"a": 1})
        and not same_json([1.0], [1])
        and same_json({"a": [1]}, {"a": [1]})
    )
