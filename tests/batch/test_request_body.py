"""A large request read lazily (batch.request_file.RequestBody): the same answers as the whole value,
window by window, and what it stores is what was sent."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from batch import request as request_module
from batch.models import Batch, BatchItem
from batch.request import parse_request
from batch.request_file import RequestBody, parse_request_body, parse_request_bytes
from batch.services import payload_hash
from batch.validation import batch_validate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_windows(monkeypatch):
    """Windows of three operations, so a handful of operations crosses several of them."""
    monkeypatch.setattr(request_module, "PARSE_WINDOW", 3)


def create(i: int, **extra) -> dict:
    return {
        "id": f"c{i}",
        "type": "CREATE",
        "data": {"workout": {"name": f"Day {i}", "type": "STRENGTH"}},
        **extra,
    }


def as_bytes(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


REQUEST = {
    "operations": [create(i) for i in range(7)]
    + [
        {
            "id": "u",
            "type": "UPDATE",
            "dependencies": ["c6"],
            "data": {"workoutId": {"$ref": "c6"}, "updates": {"notes": "tab\there, back\\slash, ünïcode"}},
            "metadata": {"ticket": "HH-1"},
        }
    ],
    "options": {"chunkSize": 4},
    "metadata": {"description": "lazy"},
}


def test_a_request_object_is_read_lazily_and_parses_like_its_whole_value():
    body = parse_request_body(as_bytes(REQUEST))
    assert isinstance(body, RequestBody) and len(body) == 8
    lazy, lazy_problems = parse_request(body)
    whole, whole_problems = parse_request(REQUEST)
    assert lazy_problems == whole_problems == []
    assert [(op.id, op.type, op.data, op.dependencies, op.seq) for op in lazy.operations] == [
        (op.id, op.type, op.data, op.dependencies, op.seq) for op in whole.operations
    ]
    assert lazy.options == whole.options and lazy.metadata == whole.metadata


def test_the_payload_hash_of_a_body_is_that_of_its_value():
    body = parse_request_body(as_bytes(REQUEST))
    assert payload_hash(body) == payload_hash(REQUEST)
    bare = parse_request_body(as_bytes(REQUEST["operations"]))
    assert isinstance(bare, RequestBody) and bare.bare
    assert payload_hash(bare) == payload_hash(REQUEST["operations"])


def test_a_guide_shape_in_a_later_window_reads_the_whole_request_and_warns():
    ops = [create(i) for i in range(5)] + [create(5, conflictResolution="PROMPT_USER")]
    request, problems = parse_request(parse_request_body(as_bytes({"operations": ops})))
    assert problems == []
    assert [w.code for w in request.warnings] == ["PROMPT_USER_AS_FAIL"]
    assert request.operations[5].conflict_resolution == "FAIL"


def test_a_too_deep_operation_is_refused_as_the_whole_reader_refuses_it():
    deep: object = "bottom"
    for _ in range(40):
        deep = [deep]
    ops = [create(i) for i in range(4)] + [create(4, metadata={"deep": deep})]
    raw = as_bytes({"operations": ops})
    with pytest.raises(Exception, match="nested deeper than 32 levels"):
        parse_request_bytes(raw)
    request, problems = parse_request(parse_request_body(raw))
    assert [p.message for p in problems] == ["the request is nested deeper than 32 levels"]
    assert request.operations == []


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b'{"operations": [{"id": "a\\u0000"}]}', "NUL"),
        (b'{"operations": [{"id": "\\ud800"}]}', "lone surrogate"),
        (b'{"operations": [{"id": 1' + b"0" * 40 + b"}]}", "digits"),
        (b'{"operations": [{"id": "\xff"}]}', "not UTF-8"),
        (b'{"operations": [NaN]}', "NaN is not a JSON number"),
    ],
)
def test_bytes_the_lazy_reader_cannot_judge_get_the_exact_refusal(raw, reason):
    with pytest.raises(Exception, match=reason):
        parse_request_body(raw)


def test_batch_run_stores_each_operation_as_sent(tmp_path, trainer, team):
    path = tmp_path / "request.json"
    path.write_bytes(as_bytes(REQUEST))
    call_command("batch_run", str(path), user=trainer.username)
    batch = Batch.objects.get()
    items = {i.op_id: i for i in BatchItem.objects.filter(batch=batch)}
    assert batch.total_items == 8 and batch.total_chunks == 3
    assert items["c3"].data == {"workout": {"name": "Day 3", "type": "STRENGTH"}}
    update = items["u"]
    assert update.data["updates"]["notes"] == "tab\there, back\\slash, ünïcode"
    assert update.dependencies == ["c6"] and update.depends_on == [items["c6"].pk]
    assert update.metadata == {"ticket": "HH-1"}
    assert batch.payload_hash == payload_hash(REQUEST)


def test_the_dry_run_of_a_body_reports_every_operation(trainer, team):
    report = batch_validate(user=trainer, team=team, raw=parse_request_body(as_bytes(REQUEST)))
    data = report.as_dict()
    assert data["valid"] and [i["id"] for i in data["items"]] == [f"c{i}" for i in range(7)] + ["u"]
    assert data["summary"]["ok"] == 8 and data["estimate"]["rows"] == 8


def test_ids_with_quotes_backslashes_and_braces_survive_the_copy(tmp_path, trainer, team):
    odd = 'day "one" \\ {a,b}'
    request = {
        "operations": [
            {"id": odd, "type": "CREATE", "data": {"workout": {"name": "Odd", "type": "STRENGTH"}}},
            {
                "id": "then",
                "type": "UPDATE",
                "dependencies": [odd],
                "data": {"workoutId": {"$ref": odd}, "updates": {"notes": "after"}},
            },
        ]
    }
    path = tmp_path / "odd.json"
    path.write_bytes(as_bytes(request))
    call_command("batch_run", str(path), user=trainer.username)
    items = {i.op_id: i for i in BatchItem.objects.filter(batch=Batch.objects.get())}
    assert set(items) == {odd, "then"}
    assert items["then"].dependencies == [odd] and items["then"].depends_on == [items[odd].pk]
    assert items["then"].data["workoutId"] == {"$ref": odd}


def test_a_prepared_body_lets_go_of_its_file_and_hands_each_window_out_once():
    body = parse_request_body(as_bytes(REQUEST))
    digest_before = payload_hash(parse_request_body(as_bytes(REQUEST)))
    assert body.prepare(size=3, read_whole=lambda ops: False) is False
    assert body.data == b"" and body.operations == [] and len(body) == 8
    assert body.digest() == digest_before == payload_hash(REQUEST)
    assert [op["id"] for op in body.window(3, 6)] == ["c3", "c4", "c5"]
    with pytest.raises(RuntimeError):
        body.window(3, 6)  # already handed out: its bytes are gone


def test_operations_without_dependencies_all_sit_on_level_0_without_a_table():
    from batch.planner import dependency_levels, plan_chunks

    request, _ = parse_request({"operations": [create(i, priority=i % 2) for i in range(5)]})
    levels = dependency_levels(request.operations)
    assert len(levels) == 0 and levels["c3"] == 0
    chunks = list(plan_chunks(request.operations, chunk_size=2))
    # Higher priority first; ties keep request order.
    assert [[op.id for op in ops] for _, ops in chunks] == [["c1", "c3"], ["c0", "c2"], ["c4"]]
