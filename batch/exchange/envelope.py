"""The request around the data: operations (one model per type), options and metadata.

`BatchRequestModel` is the whole exchange format; its JSON Schema is what `manage.py batch_schema`
prints and what the JSON API publishes. Checks across operations (duplicate ids, unknown
dependencies, `$ref`s without a dependency, cycles) and the per-batch operation limit live in
`batch.request.parse_request`, which every entry point calls.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from batch.exchange.data import (
    ArchiveData,
    AssignData,
    BlockedPlayersMode,
    CreateData,
    DeleteData,
    DuplicateData,
    ScheduleData,
    TemplateData,
    UpdateData,
)
from batch.exchange.fields import (
    AtMostSetting,
    Between,
    DateTimeText,
    ExchangeModel,
    FreeJson,
    OpId,
    Text,
    choice,
    clean_text,
)

CONFLICT_STRATEGIES = ("SKIP", "OVERRIDE", "ADJUST_TIME", "FIND_ALTERNATIVE", "FAIL")
ConflictStrategy = choice(CONFLICT_STRATEGIES)
MAX_DEPENDENCIES = 1000
MAX_RETRY_COUNT = 100
MAX_TAGS = 20
TAG_MAX_LENGTH = 40


class BatchOptions(ExchangeModel):
    """How the batch runs. Stored snake_case (`model_dump()`); exchanged camelCase."""

    parallel: bool = Field(True, description="false: one runner, chunks in order.")
    max_concurrency: Annotated[int, Field(ge=1), AtMostSetting("BATCH_MAX_CONCURRENCY")] = 5
    chunk_size: Annotated[int | None, Field(ge=1), AtMostSetting("BATCH_MAX_CHUNK_SIZE")] = Field(
        None,
        description="Operations per chunk. Leave it out (the default) to size chunks by time: about "
        "a quarter second of work each, from the measured cost per operation type.",
    )
    stop_on_error: bool = False
    rollback_on_error: bool = False
    validate_before_execute: bool = Field(True, description="Refuse the whole batch if any item has errors.")
    retry_failed_operations: bool = Field(True, description="Retry chunks hit by transient faults.")
    retry_attempts: Between(0, 10) = 3
    medical_compliance_check: bool = Field(True, description="false: medical or club staff only.")
    blocked_players: BlockedPlayersMode = Field(
        "exclude",
        description='Players the medical gate blocks: "exclude" (default) leaves them out and the operation '
        'succeeds with a warning naming them; "fail" fails the whole operation. Operations may override it.',
    )
    conflict_resolution: ConflictStrategy = "SKIP"
    notify_on_complete: bool = True


def user_ref(value: Any) -> int | str:
    """An integer user id, its digits, or a username: it must name the caller."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and 0 < len(value) <= 150:
        return clean_text(value)
    raise PydanticCustomError("user", "must be your user id (a positive integer or its digits) or username")


UserRef = Annotated[
    Any,
    PlainValidator(user_ref),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "minLength": 1, "maxLength": 150},
            ],
            "description": "The caller's user id or username; any other user is refused.",
        }
    ),
]


class RequestMetadata(ExchangeModel):
    """About the request as a whole; kept on the batch."""

    request_id: Text(100) = Field(
        default=None, description="Idempotency key per user: a repeated submit returns the first batch."
    )
    description: Text(300) = None
    source: Text(40) = None
    tags: list[Text(TAG_MAX_LENGTH)] = Field(default=None, max_length=MAX_TAGS)
    user_id: UserRef = None
    timestamp: DateTimeText = Field(default=None, description="When the caller built the request.")
    callback_url: Text(500) = Field(
        default=None,
        description="One of the team's registered webhook endpoints: it gets this batch's end event.",
    )


class OperationBase(ExchangeModel):
    id: OpId = Field(description="Unique within the request; named by dependencies and $refs.")
    priority: Between(-1000, 1000) = Field(default=0, description="Higher runs first within a level.")
    dependencies: list[OpId] = Field(
        default_factory=list,
        max_length=MAX_DEPENDENCIES,
        description="Operations that must succeed first; a $ref needs its target here.",
    )
    conflict_resolution: ConflictStrategy = Field(
        default=None, description="Overrides the batch's conflictResolution for this operation."
    )
    metadata: FreeJson = Field(default=None, description="Kept with the operation and returned in results.")
    retry_count: Between(0, MAX_RETRY_COUNT) = Field(
        default=0, description="How many times this operation was retried before (0 for a first try)."
    )


class CreateOperation(OperationBase):
    type: Literal["CREATE"]
    data: CreateData


class UpdateOperation(OperationBase):
    type: Literal["UPDATE"]
    data: UpdateData


class DeleteOperation(OperationBase):
    type: Literal["DELETE"]
    data: DeleteData


class ArchiveOperation(OperationBase):
    type: Literal["ARCHIVE"]
    data: ArchiveData


class AssignOperation(OperationBase):
    type: Literal["ASSIGN"]
    data: AssignData


class ScheduleOperation(OperationBase):
    type: Literal["SCHEDULE"]
    data: ScheduleData


class DuplicateOperation(OperationBase):
    type: Literal["DUPLICATE"]
    data: DuplicateData


class TemplateOperation(OperationBase):
    type: Literal["TEMPLATE"]
    data: TemplateData


OperationModel = Annotated[
    CreateOperation
    | UpdateOperation
    | DeleteOperation
    | ArchiveOperation
    | AssignOperation
    | ScheduleOperation
    | DuplicateOperation
    | TemplateOperation,
    Field(discriminator="type"),
]
OPERATION_MODELS: dict[str, type[OperationBase]] = {
    "CREATE": CreateOperation,
    "UPDATE": UpdateOperation,
    "DELETE": DeleteOperation,
    "ARCHIVE": ArchiveOperation,
    "ASSIGN": AssignOperation,
    "SCHEDULE": ScheduleOperation,
    "DUPLICATE": DuplicateOperation,
    "TEMPLATE": TemplateOperation,
}
PUBLIC_TYPES = tuple(OPERATION_MODELS)


class BatchRequestModel(ExchangeModel):
    """A batch request: the seed guide's `{operations, options, metadata}` shape."""

    model_config = {"title": "BatchRequest"}

    operations: list[OperationModel] = Field(
        min_length=1, description="At most BATCH_MAX_OPERATIONS (a setting) per batch."
    )
    options: BatchOptions = Field(default_factory=BatchOptions)
    metadata: RequestMetadata = Field(default_factory=RequestMetadata)


def request_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a batch request (draft 2020-12, as pydantic writes it)."""
    schema = BatchRequestModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return _drop_null_defaults(schema)


def _drop_null_defaults(node: Any) -> Any:
    """`default: null` on a non-nullable field only means "optional"; leave it out of the schema."""
    if isinstance(node, dict):
        return {k: _drop_null_defaults(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_drop_null_defaults(v) for v in node]
    return node
