"""Building blocks of the exchange format: the base model, bounded text, ids, `$ref`s and dates.

Every value a request may carry is bounded here: strings by length (and no NUL byte or lone
surrogate, which PostgreSQL cannot store), ids to positive 64-bit integers, dates to
workouts.rules.DATE_MIN..DATE_MAX. Errors are plain words; `batch.exchange.problems` adds the
operation id and the field path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le, MaxLen, MinLen
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema

from workouts.rules import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE

ID_MAX = 2**63 - 1  # PostgreSQL bigint: a larger id cannot even be compared with a primary key
OP_ID_MAX_LENGTH = 100
DATETIME_EXAMPLE = "2026-12-01T09:00:00+01:00"


# The keys of a JSON document the club sends (a batch request, a planning problem): camelCase only,
# unknown keys refused, and the values sent kept out of the error texts.
CAMEL_KEYS = ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    validate_by_alias=True,
    validate_by_name=False,
    serialize_by_alias=True,
    hide_input_in_errors=True,
)


class ExchangeModel(BaseModel):
    """Base of every exchange model: camelCase keys only, unknown keys refused, no silent coercion."""

    model_config = ConfigDict(
        **CAMEL_KEYS,
        strict=True,
        # Schema titles name fields as the exchange format does (workoutId, not "Workout Id").
        field_title_generator=lambda name, info: info.alias or to_camel(name),
    )

    def exchange(self) -> dict[str, Any]:
        """Return the camelCase JSON shape with only the keys that were given (or filled in)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def rule_error(field: str, message: str) -> PydanticCustomError:
    """An error a model's own rule raises about one of its fields (a path below the model)."""
    # The text goes in as context: braces in it must not be read as template fields.
    return PydanticCustomError("rule", "{text}", {"text": message, "field": field})


# --- text --------------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Refuse what PostgreSQL cannot store: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text_encoding", "must be valid Unicode text") from None
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("text_blank", "must not be empty")
    return value


def Text(max_length: int, *, required: bool = False) -> Any:  # noqa: N802 - reads as a type
    """A string of at most `max_length` characters; `required` also refuses blank ones."""
    checks: list[Any] = [MaxLen(max_length), AfterValidator(clean_text)]
    if required:
        checks.insert(0, MinLen(1))
        checks.append(AfterValidator(not_blank))
    return Annotated[str, *checks]


def Between(low: int, high: int) -> Any:  # noqa: N802 - reads as a type
    """An integer within low..high (inclusive)."""
    return Annotated[int, Ge(low), Le(high)]


def choice(values: list[str] | tuple[str, ...]) -> Any:
    """A Literal type over the given values (model choices stay the single list)."""
    return Literal.__getitem__(tuple(values))


@dataclass(frozen=True)
class AtMostSetting:
    """An upper bound read from a Django setting at validation (and schema) time."""

    setting: str

    @property
    def value(self) -> int:
        return getattr(settings, self.setting)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        out = handler(schema)
        out["maximum"] = self.value
        return out

    def _check(self, value: int | None) -> int | None:
        if value is not None and value > self.value:
            raise PydanticCustomError("less_than_equal", "must be <= {le}", {"le": self.value})
        return value


# --- ids and references ------------------------------------------------------------------------------

ID_MESSAGE = "must be an id: a positive integer, or its digits as a string"
REF_MESSAGE = (
    'must be an id (a positive integer or its digits as a string) or exactly {"$ref": "<operation id>"}'
)


def to_id(value: Any, message: str = ID_MESSAGE) -> int:
    """Return the id an integer or a numeric string names (the seed guide sends both)."""
    if isinstance(value, bool):
        raise PydanticCustomError("id", message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise PydanticCustomError("id", message)
    if not 1 <= number <= ID_MAX:
        raise PydanticCustomError("id", message)
    return number


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$ref"}


def to_id_or_ref(value: Any) -> int | dict[str, str]:
    """Return an id, or a `{"$ref": op_id}` naming the operation whose result supplies it."""
    if isinstance(value, dict):
        target = value.get("$ref")
        if not is_ref(value) or not isinstance(target, str) or not 0 < len(target) <= OP_ID_MAX_LENGTH:
            raise PydanticCustomError("ref", REF_MESSAGE)
        clean_text(target)
        return {"$ref": target}
    return to_id(value, REF_MESSAGE)


ID_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": ID_MAX},
        {"type": "string", "pattern": "^[0-9]{1,19}$"},
    ],
    "description": "An object id: an integer, or its digits as a string.",
}
# The key "$ref" is spelled as a pattern so that no schema tool mistakes it for a JSON reference.
REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Reference",
    "description": "The id produced by an earlier operation of the request (it must be a dependency).",
    "patternProperties": {"^\\$ref$": {"type": "string", "minLength": 1, "maxLength": OP_ID_MAX_LENGTH}},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}
Id = Annotated[int, PlainValidator(to_id), WithJsonSchema(ID_SCHEMA)]
IdOrRef = Annotated[
    Any,
    PlainValidator(to_id_or_ref),
    WithJsonSchema({"anyOf": [*ID_SCHEMA["anyOf"], REF_SCHEMA], "description": "An object id or a $ref."}),
]
OpId = Text(OP_ID_MAX_LENGTH, required=True)


# --- dates -------------------------------------------------------------------------------------------

DATETIME_MESSAGE = f"must be an ISO 8601 date-time, e.g. {DATETIME_EXAMPLE}"
DATE_MESSAGE = "must be an ISO date, e.g. 2026-12-01"


def parse_dt(value: str) -> dt.datetime | None:
    """Parse an ISO date-time (a bare date means its midnight); naive values are local time."""
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date_safe(value)
            if day is None:
                return None
            parsed = dt.datetime.combine(day, dt.time(0, 0))
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
    except (ValueError, OverflowError):
        return None
    return parsed


def parse_date_safe(value: str) -> dt.date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def in_range(day: dt.date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def _parsed_text(value: Any, *, max_length: int, parse: Callable[[str], Any], code: str, message: str) -> Any:
    """Parse an ISO string of at most `max_length` characters; anything else is the `code` error."""
    if not isinstance(value, str) or len(value) > max_length:
        raise PydanticCustomError(code, message)
    parsed = parse(value)
    if parsed is None:
        raise PydanticCustomError(code, message)
    return parsed


def _check_in_range(day: dt.date) -> None:
    if not in_range(day):
        raise PydanticCustomError("date_range", DATE_RANGE_MESSAGE)


def datetime_text(value: Any) -> str:
    """Check an ISO date-time string lies in the documented date range; keep the string."""
    parsed = _parsed_text(value, max_length=40, parse=parse_dt, code="datetime", message=DATETIME_MESSAGE)
    # The offset's own date first: far-off years must not reach a time zone conversion (overflow).
    _check_in_range(parsed.date())
    try:
        local = timezone.localtime(parsed).date()
    except OverflowError:
        raise PydanticCustomError("date_range", DATE_RANGE_MESSAGE) from None
    _check_in_range(local)
    return value


def date_text(value: Any) -> str:
    """Check an ISO date string lies in the documented date range; keep the string."""
    day = _parsed_text(value, max_length=10, parse=parse_date_safe, code="date", message=DATE_MESSAGE)
    _check_in_range(day)
    return value


DateTimeText = Annotated[
    str,
    PlainValidator(datetime_text),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "maxLength": 40,
            "description": f"ISO 8601; naive values are local time. Dates {DATE_MIN}..{DATE_MAX}.",
        }
    ),
]
DateText = Annotated[
    str,
    PlainValidator(date_text),
    WithJsonSchema(
        {"type": "string", "format": "date", "maxLength": 10, "description": f"{DATE_MIN}..{DATE_MAX}"}
    ),
]


# --- free-form JSON (per-operation metadata) ---------------------------------------------------------

FREE_JSON_MAX_KEYS = 20
FREE_JSON_MAX_CHARS = 2000


def free_json(value: Any) -> dict[str, Any]:
    """A small JSON object the caller keeps with an operation: bounded in keys, size and text."""
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "must be an object")
    if len(value) > FREE_JSON_MAX_KEYS:
        raise PydanticCustomError("json_keys", f"must have at most {FREE_JSON_MAX_KEYS} keys")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise PydanticCustomError("json", "must be plain JSON (objects, lists, strings, numbers)") from None
    if len(text) > FREE_JSON_MAX_CHARS:
        raise PydanticCustomError("json_size", f"must be at most {FREE_JSON_MAX_CHARS} characters as JSON")
    clean_text(text)
    return value


FreeJson = Annotated[
    dict[str, Any],
    PlainValidator(free_json),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": FREE_JSON_MAX_KEYS,
            "description": f"Free-form, kept and returned as given; at most {FREE_JSON_MAX_CHARS} "
            "characters as JSON.",
        }
    ),
]


# --- limits for the forms and the API ----------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None


def limits(model: type[BaseModel], name: str) -> Limits:
    """Return a field's declared bounds, so forms and the API restate none of them."""
    found: dict[str, int] = {}
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, Ge):
            found["minimum"] = meta.ge
        elif isinstance(meta, Le):
            found["maximum"] = meta.le
        elif isinstance(meta, AtMostSetting):
            found["maximum"] = meta.value
        elif isinstance(meta, MaxLen):
            found["max_length"] = meta.max_length
    return Limits(**found)
