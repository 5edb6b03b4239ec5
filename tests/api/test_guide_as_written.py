"""Every request the guide shows, as written: read from the guide file itself, sent through validation,
and a representative few through the API and a real RQ worker.

The guide's code blocks are TypeScript: each one holding a request (an `operations` list, an options
object, an option interface, or a batch hook called with literals) is found by its heading, and must
have its request here (a new example in the guide fails `test_every_request_block_of_the_guide_is_covered`).
Object literals are translated mechanically (`ts_literal`: unquoted keys, single quotes, trailing commas,
comments); `new Date()`, `Date.now()` and `[...]` become what a client sends (an ISO string, digits, a
real player). The guide's placeholder ids (`workout-1`, `current-user`) are replaced by real ones: they
name objects that cannot exist here. Nothing else is changed: bare arrays, DELETE of a list of ids,
`progressCallback`, `PROMPT_USER` and resubmitted results are sent as the guide shows them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from batch.models import Batch, BatchItem
from batch.validation import batch_validate
from tests.api.conftest import ApiClient, make_token
from tests.factories import PlayerFactory, WorkoutFactory, WorkoutTemplateFactory
from workouts.models import Workout

GUIDE = Path(settings.BASE_DIR).parent / "shared" / "reference" / "upstream-batch-operations-guide.md"
if not GUIDE.exists():
    GUIDE = Path("/work/shared/reference/upstream-batch-operations-guide.md")

REQUEST_MARKERS = re.compile(
    r"operations\s*[:=,]|Options\s*=|interface Batch(Options|Operation)\b|batch[A-Z]\w*\(\s*\w+\s*[,)]"
)


def code_blocks() -> list[tuple[str, str]]:
    """(heading, code) for every typescript block of the guide."""
    text = GUIDE.read_text()
    blocks, heading = [], ""
    for part in re.split(r"(^#{2,4} [^\n]*$|```typescript\n.*?```)", text, flags=re.M | re.S):
        if part.startswith("#"):
            heading = part.lstrip("#").strip()
        elif part.startswith("```typescript"):
            blocks.append((heading, part[len("```typescript\n") : -3]))
    return blocks


def request_blocks() -> dict[str, str]:
    return {h: code for h, code in code_blocks() if REQUEST_MARKERS.search(code)}


def ts_literal(text: str) -> object:
    """A TypeScript object/array literal of plain values as JSON (keys unquoted, quotes single)."""
    text = re.sub(r"//[^\n]*", "", text)
    text = text.replace("'", '"')
    text = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    return json.loads(text)


def literal_after(code: str, marker: str) -> str:
    """The balanced {...} or [...] literal starting at the first bracket after marker."""
    start = code.index(marker) + len(marker)
    while code[start] not in "{[":
        start += 1
    depth = 0
    for end in range(start, len(code)):
        depth += code[end] in "{[" and 1 or 0
        depth -= code[end] in "}]" and 1 or 0
        if depth == 0:
            return code[start : end + 1]
    raise AssertionError(f"no literal after {marker!r}")


@pytest.fixture
def real(team, trainer):
    """Real objects for the guide's placeholders, as strings (the guide sends string ids)."""
    workouts = [WorkoutFactory(team=team) for _ in range(3)]
    return {
        "workout-1": str(workouts[0].pk),
        "workoutIds": [str(w.pk) for w in workouts],
        "player": str(PlayerFactory(team=team).pk),
        "templateId": str(WorkoutTemplateFactory(team=team).pk),
        "current-user": str(trainer.pk),
    }


def fill(code: str, real: dict) -> str:
    """What a client puts where the guide leaves a placeholder or a JavaScript expression."""
    code = code.replace("new Date()", '"2026-11-18T09:30:00.000Z"')
    code = re.sub(r"`custom-\$\{Date\.now\(\)\}`", '"custom-1795000000000"', code)
    code = code.replace("[...]", f'[{{"playerId": "{real["player"]}"}}]')
    code = code.replace("'workout-1'", f'"{real["workout-1"]}"').replace(
        "'current-user'", f'"{real["current-user"]}"'
    )
    return re.sub(r"BatchOperationType\.(\w+)", r'"\1"', code)


def guide_requests(real: dict) -> dict[str, list[dict | list]]:
    """Each request block's requests (by heading), translated from the guide's own text."""
    blocks = request_blocks()
    out: dict[str, list] = {}

    # batchCreateWorkouts(workouts, {...}): the data list with its options; and the same list of
    # operations sent bare (a client that posts only its operations).
    code = fill(blocks["Basic Usage"], real)
    workouts = ts_literal(literal_after(code, "const workouts ="))
    create_options = ts_literal(literal_after(code, "batchCreateWorkouts(workouts,"))
    operations = [{"id": f"create-{i}", "type": "CREATE", "data": w} for i, w in enumerate(workouts)]
    delete_options = ts_literal(literal_after(code, "batchDelete(workoutIds, false,"))
    out["Basic Usage"] = [
        {"operations": operations, "options": create_options},
        operations,  # a bare array of operations
        {  # batchDelete(workoutIds, false, {...}): one DELETE of a list of ids
            "operations": [
                {
                    "id": "delete",
                    "type": "DELETE",
                    "data": {"workoutIds": real["workoutIds"], "permanent": False},
                }
            ],
            "options": delete_options,
        },
    ]

    code = fill(blocks["Advanced Usage with Core Hook"], real)
    ops = ts_literal(literal_after(code, "const operations ="))
    request_text = literal_after(code, "const request =")
    request_text = request_text.replace("operations,", "")
    request_text = re.sub(
        r"\(progress\) => \{.*?\n        \}", '"(progress) => {...}"', request_text, flags=re.S
    )
    request = ts_literal(request_text)
    assert request["options"]["progressCallback"]  # sent as the guide has it: a field the server ignores
    out["Advanced Usage with Core Hook"] = [{"operations": ops, **request}]

    # The type system: an operation with every field of BatchOperation, and the two data types.
    code = blocks["Type System"]
    assert "interface CreateWorkoutData" in code and "interface AssignWorkoutData" in code
    out["Type System"] = [
        {
            "operations": [
                {
                    "id": "create",
                    "type": "CREATE",
                    "data": {
                        "workout": {"name": "Partial workout"},
                        "assignments": [{"playerId": real["player"]}],
                        "schedule": {"start": "2030-03-04T09:00:00.000Z"},
                        "templateId": real["templateId"],
                    },
                    "priority": 1,
                    "dependencies": [],
                    "metadata": {"origin": "builder"},
                },
                {
                    "id": "assign",
                    "type": "ASSIGN",
                    "data": {
                        "workoutId": real["workout-1"],
                        "assignments": [{"playerId": real["player"]}],
                        "removeExisting": False,
                        "checkMedicalCompliance": True,
                    },
                    "dependencies": ["create"],
                },
            ]
        }
    ]

    # interface BatchOptions: every option it names, conflictResolution the one a server cannot do alone.
    code = blocks["Batch Options"]
    names = re.findall(r"^\s*(\w+)\?:", code, flags=re.M)
    values = {"maxConcurrency": 5, "chunkSize": 10, "retryAttempts": 3, "conflictResolution": "PROMPT_USER"}
    options = {name: values.get(name, True) for name in names}
    options["stopOnError"] = options["rollbackOnError"] = False
    out["Batch Options"] = [{"operations": operations, "options": options}]

    code = blocks["Performance Tuning"]
    out["Performance Tuning"] = [
        {"operations": operations, "options": ts_literal(literal_after(code, f"const {name}Options ="))}
        for name in ("smallBatch", "mediumBatch", "largeBatch")
    ]

    code = blocks["Medical Compliance Integration"]
    out["Medical Compliance Integration"] = [
        {
            "operations": [
                {
                    "id": f"assign-{i}",
                    "type": "ASSIGN",
                    "data": {"workoutId": w, "assignments": [{"playerId": real["player"]}]},
                }
                for i, w in enumerate(real["workoutIds"])
            ],
            "options": ts_literal(literal_after(code, "batchAssign(assignments,")),
        }
    ]

    code = blocks["Workout Builder Integration"]
    assert "workout: { name: `Workout ${i + 1}`, templateId }" in code
    out["Workout Builder Integration"] = [
        {
            "operations": [
                {
                    "id": f"create-{i}",
                    "type": "CREATE",
                    "data": {
                        "workout": {"name": f"Workout {i + 1}", "templateId": real["templateId"]},
                        "assignments": [{"playerId": real["player"]}],
                        "schedule": {"start": f"2030-03-0{i + 1}T09:00:00.000Z"},
                    },
                }
                for i in range(3)
            ]
        }
    ]

    code = blocks["Debug Tools"]
    assert "...normalOptions" in code and "progressCallback" in code
    out["Debug Tools"] = [
        {"operations": operations, "options": {**create_options, "progressCallback": "(progress) => {...}"}}
    ]
    # "Error Recovery" resubmits results it got back: it needs a run first (the API test below).
    return out


RUN_AFTER_A_RUN = {"Error Recovery"}


def test_every_request_block_of_the_guide_is_covered(real):
    headings = set(request_blocks())
    assert headings == set(guide_requests(real)) | RUN_AFTER_A_RUN, headings
    assert len(headings) >= 9  # the guide has not lost its examples to a parsing slip


def test_every_guide_request_validates_as_written(trainer, team, real):
    requests = [(h, r) for h, rs in guide_requests(real).items() for r in rs]
    assert len(requests) >= 12
    for heading, raw in requests:
        report = batch_validate(user=trainer, team=team, raw=raw)
        assert report.valid, (heading, report.as_dict()["errors"])
        body = report.as_dict()
        codes = {w["code"] for w in body["warnings"]}
        if isinstance(raw, list):
            assert codes == {"WRAPPED_OPERATIONS"}
        elif "progressCallback" in raw.get("options", {}):
            assert "IGNORED_FIELD" in codes and body["warnings"][0]["field"] == "options.progressCallback"
        elif raw.get("options", {}).get("conflictResolution") == "PROMPT_USER":
            assert (
                codes == {"PROMPT_USER_AS_FAIL"} and report.request.options["conflict_resolution"] == "FAIL"
            )
        elif any("workoutIds" in op["data"] for op in raw["operations"]):
            assert codes == {"EXPANDED"}
            assert [op.id for op in report.request.operations] == ["delete.1", "delete.2", "delete.3"]
        else:
            assert codes == set(), (heading, body["warnings"])


@pytest.fixture
def api(trainer, team, api_settings) -> ApiClient:
    return ApiClient(make_token(trainer, team))


@pytest.mark.django_db(transaction=True)
def test_representative_guide_requests_run_through_the_api_and_a_worker(api, team, real, run_worker):
    # The DELETE gets workouts of its own: the others still need theirs.
    requests = guide_requests({**real, "workoutIds": [str(WorkoutFactory(team=team).pk) for _ in range(3)]})
    bare = requests["Basic Usage"][1]
    delete_many = requests["Basic Usage"][2]
    advanced = requests["Advanced Usage with Core Hook"][0]
    everything = requests["Batch Options"][0]
    ids = []
    for raw in (bare, delete_many, advanced, everything):
        response = api.post("/api/v1/batches", raw)
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    assert api.get(f"/api/v1/batches/{ids[2]}").json()["warnings"][0]["field"] == "options.progressCallback"
    run_worker()
    for batch_id in ids:
        batch = Batch.objects.get(pk=batch_id)
        failed = list(BatchItem.objects.filter(batch=batch, status="FAILED").values_list("op_id", "error"))
        assert batch.status == Batch.Status.COMPLETED, (batch.status, failed)
    assert Workout.objects.filter(status=Workout.Status.ARCHIVED).count() == 3  # the DELETE of three ids
    state = api.get(f"/api/v1/batches/{ids[2]}").json()
    assert state["requestId"] == "custom-1795000000000"


@pytest.mark.django_db(transaction=True)
def test_the_guides_retry_recipe_resubmits_the_failed_results_it_got_back(api, team, real, run_worker):
    code = request_blocks()["Error Recovery"]
    assert "failedOps.map(op => ({ ...op, retryCount: 1 }))" in code
    ok = WorkoutFactory(team=team)
    original_options = {"validateBeforeExecute": False, "conflictResolution": "FAIL"}
    original_metadata = {"source": "custom-operation"}
    request = {
        "operations": [
            {"id": "fine", "type": "UPDATE", "data": {"workoutId": ok.pk, "updates": {"notes": "x"}}},
            {"id": "stuck", "type": "UPDATE", "data": {"workoutId": 999_999, "updates": {"notes": "y"}}},
        ],
        "options": original_options,
        "metadata": original_metadata,
    }
    submitted = api.post("/api/v1/batches", request)
    assert submitted.status_code == 202, submitted.content
    run_worker()
    response = {"results": api.get(f"/api/v1/batches/{submitted.json()['id']}/results").json()["data"]}

    # As written: const failedOps = response.results.filter(r => r.status === 'FAILED'); ...
    failed_ops = [r for r in response["results"] if r["status"] == "FAILED"]
    assert [r["id"] for r in failed_ops] == ["stuck"]
    retry_request = {
        "operations": [{**op, "retryCount": 1} for op in failed_ops],
        "options": {**original_options, "retryAttempts": 1},
        "metadata": {**original_metadata, "description": "Retry failed operations"},
    }
    report = api.post("/api/v1/batches/validate", retry_request).json()
    # The shape is accepted (no problem with the request); the dry run still says the workout is missing.
    assert report["problems"] == [] and [e["code"] for e in report["errors"]] == ["NOT_FOUND"]
    assert (
        report["warnings"][0]["code"] == "IGNORED_FIELD" and "status (1)" in report["warnings"][0]["message"]
    )
    retried = api.post("/api/v1/batches", retry_request)
    assert retried.status_code == 202, retried.content
    run_worker()
    batch = Batch.objects.get(pk=retried.json()["id"])
    item = BatchItem.objects.get(batch=batch)
    assert (item.op_id, item.retry_count, item.data) == ("stuck", 1, failed_ops[0]["data"])
    assert item.error["code"] == "NOT_FOUND"  # it ran again (and the workout is still not there)
    assert batch.description == "Retry failed operations"


def test_prompt_user_on_an_operation_runs_as_fail_with_a_warning(trainer, team, real):
    raw = {
        "operations": [
            {
                "id": "move",
                "type": "SCHEDULE",
                "conflictResolution": "PROMPT_USER",
                "data": {"workoutId": real["workout-1"], "start": "2030-03-04T09:00:00Z"},
            }
        ]
    }
    report = batch_validate(user=trainer, team=team, raw=raw)
    assert report.valid
    [warning] = report.as_dict()["warnings"]
    assert warning["operationId"] == "move" and warning["code"] == "PROMPT_USER_AS_FAIL"
    assert report.request.operations[0].conflict_resolution == "FAIL"


@pytest.mark.django_db(transaction=True)
def test_the_guides_names_beside_ours_and_a_cancelled_batch_shows_the_share_that_ran(
    api, trainer, team, run_worker
):
    import io

    from django.core.management import call_command

    from batch.services import batch_cancel

    ops = [{"id": f"c{i}", "type": "CREATE", "data": {"workout": {"name": f"W{i}"}}} for i in range(4)]
    invalid = api.post("/api/v1/batches", {"operations": [{"id": "x", "type": "CREATE", "data": {}}]})
    assert invalid.status_code == 422
    assert invalid.json()["validationErrors"] == invalid.json()["errors"] != []

    response = api.post(
        "/api/v1/batches", {"operations": ops, "options": {"chunkSize": 2, "parallel": False}}
    )
    batch_id = response.json()["id"]
    progress = response.json()["progress"]
    assert "estimatedTimeRemaining" in progress and "etaSeconds" in progress
    # Run the first chunk only, then cancel: half ran, half was cancelled.
    from batch.runner import run_next_chunk

    run_next_chunk(batch_id=batch_id)
    batch_cancel(batch_id=batch_id, user=trainer)
    run_worker()
    state = api.get(f"/api/v1/batches/{batch_id}").json()
    assert state["status"] == "CANCELLED" and state["progress"]["cancelled"] == 2
    assert state["progress"]["percentComplete"] == 50.0  # the share that ran, not 100

    out = io.StringIO()
    path = Path(settings.BASE_DIR) / "var" / "guide-names.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"operations": ops[:1], "metadata": {"requestId": "cli-1"}}))
    try:
        call_command("batch_run", str(path), user=trainer.username, json=True, stdout=out)
    finally:
        path.unlink()
    body = json.loads(out.getvalue())
    assert body["requestId"] == "cli-1" and body["status"] == "QUEUED"
    report = api.post(
        "/api/v1/batches/validate", {"operations": [{"id": "x", "type": "CREATE", "data": {}}]}
    ).json()
    assert report["errors"] == report["validationErrors"] and report["errors"][0]["operationId"] == "x"
