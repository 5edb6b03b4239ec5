"""A batch's items and results: the listing people read, named items streamed, the summary shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from batch.models import Batch, BatchChange, BatchItem, OperationType
from batch.selectors.names import WORKOUT_MODEL, Named, item_names


def batch_items(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    qs = BatchItem.objects.filter(batch=batch).order_by("seq")
    if status:
        qs = qs.filter(status=status)
    return qs


def batch_items_for_people(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    """Return a batch's items as people read them: problems first (failed and conflicts, then skipped,
    cancelled, succeeded with warnings, succeeded), grouped by the workout they are about, then in
    request order."""
    S = BatchItem.Status
    change_workout = (
        BatchChange.objects.filter(pk=OuterRef("change_id"))
        .annotate(
            w=Case(
                When(model=WORKOUT_MODEL, then=Cast("object_id", TextField())),
                default=Coalesce(
                    KT("after__workout_id"), KT("before__workout_id"), Value(""), output_field=TextField()
                ),
                output_field=TextField(),
            )
        )
        .values("w")[:1]
    )
    qs = batch_items(batch=batch, status=status).annotate(
        rank=Case(
            When(status__in=[S.FAILED, S.CONFLICT], then=Value(0)),
            When(status=S.SKIPPED, then=Value(1)),
            When(status=S.CANCELLED, then=Value(2)),
            # Done in part (players left out or taken off, dates skipped) before the plainly done.
            When(~Q(warnings=[]), then=Value(3)),
            default=Value(4),
            output_field=IntegerField(),
        ),
        change_id=Cast(KT("data__changeId"), BigIntegerField()),
        workout_key=Case(
            When(type=OperationType.REVERT, then=Subquery(change_workout)),
            default=Coalesce(
                KT("data__workoutId"), KT("result__workoutId"), Value(""), output_field=TextField()
            ),
            output_field=TextField(),
        ),
    )
    return qs.order_by("rank", "workout_key", "seq")


NAMED_SLICE = 2000

_SPECIAL = (OperationType.REVERT, OperationType.TEMPLATE)  # named from the change log or a template
# Whether the result names anything besides its workout (copies, players, a template).
_NAMES_MORE_SQL = (
    "COALESCE("
    + " OR ".join(
        f"""jsonb_typeof("batch_batchitem"."result" -> '{key}') = 'array'"""
        for key in ("createdIds", "assigned", "updated", "removed", "excluded")
    )
    + """ OR "batch_batchitem"."result" ? 'templateId', false)"""
)
_NAMES_MORE = RawSQL(_NAMES_MORE_SQL, ())
# The id of the workout an item is about (data.workoutId, else result.workoutId), cast only where it is
# surely an integer id.
_ID = """CASE WHEN jsonb_typeof({v}) = 'number' AND ({v})::numeric BETWEEN 1 AND 999999999999999999
    AND scale(({v})::numeric) = 0 THEN ({v})::bigint END"""
_WORKOUT_ID = "COALESCE({data_id}, {result_id})".format(
    data_id=_ID.format(v='"batch_batchitem"."data" -> \'workoutId\''),
    result_id=_ID.format(v='"batch_batchitem"."result" -> \'workoutId\''),
)
# What naming an item reads of its data (batch.selectors.names), built in SQL so that the whole document
# is not decoded: a CREATE's data holds its whole workout. Only for an item that may need it: a plain one
# (about one workout, nothing else to name) is named from its workout, read in the same query; where that
# workout is gone, `_fill_naming` reads its data after all.
_NAMING_DATA_SQL = """jsonb_strip_nulls(jsonb_build_object(
        'workoutId', "batch_batchitem"."data" -> 'workoutId',
        'changeId', "batch_batchitem"."data" -> 'changeId',
        'templateId', "batch_batchitem"."data" -> 'templateId',
        'name', "batch_batchitem"."data" -> 'name',
        'workout', jsonb_build_object(
            'name', "batch_batchitem"."data" -> 'workout' -> 'name',
            'scheduledStart', "batch_batchitem"."data" -> 'workout' -> 'scheduledStart')))::text"""
_NAMING_DATA = RawSQL(_NAMING_DATA_SQL, ())
_NAMING_DATA_UNLESS_PLAIN = RawSQL(
    f"""CASE WHEN "batch_batchitem"."type" NOT IN (%s, %s) AND NOT {_NAMES_MORE_SQL}
        AND {_WORKOUT_ID} IS NOT NULL THEN NULL ELSE {_NAMING_DATA_SQL} END""",
    _SPECIAL,
)
_EMPTY_JSON = {None, "null", "{}", "[]"}
# The workout an item is about, looked up in the same query: [id, name, scheduled_start, local date] of
# the team's workout, or NULL (then item_names looks it up, or finds it gone). The local date is the
# `target.date` results print, read as it is rather than computed per item in Python.
_TARGET_WORKOUT = f"""(SELECT jsonb_build_array(w.id, w.name, w.scheduled_start,
        to_char(w.scheduled_start AT TIME ZONE %s, 'YYYY-MM-DD'))
    FROM workouts_workout w WHERE w.team_id = %s AND w.id = {_WORKOUT_ID})::text"""


@dataclass(slots=True)
class ItemRow:
    """One item as the result listings read it: what naming needs (decoded only when naming asks), and
    its error, result and metadata as the database's JSON text, passed through to JSON output."""

    pk: int
    op_id: str
    seq: int
    type: str
    status: str
    # What naming reads of the data (see _NAMING_DATA); None for a plain item, which does not need it.
    data_json: str | None
    workout_json: str | None  # [id, name, start, local date] of the workout it is about, when found
    # Nothing to name but that workout: item_names skips the item's data and result.
    plain: bool
    error_json: str | None
    result_json: str | None
    metadata_json: str | None
    retry_count: int
    warnings_json: str | None = None

    @property
    def workout(self) -> tuple[int, str, dt.datetime | None] | None:
        return _workout(self.workout_json)

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return orjson.loads(self.warnings_json) if self.warnings_json not in _EMPTY_JSON else []

    @property
    def data(self) -> dict[str, Any]:
        return orjson.loads(self.data_json) if self.data_json is not None else {}

    @property
    def result(self) -> dict[str, Any]:
        value = self.full_result
        return value if isinstance(value, dict) else {}

    @property
    def error(self) -> dict[str, Any]:
        return orjson.loads(self.error_json) if self.error_json not in _EMPTY_JSON else {}

    @property
    def full_result(self) -> Any:
        return orjson.loads(self.result_json) if self.result_json not in (None, "null") else None


_ROW_FIELDS = (
    "pk",
    "op_id",
    "seq",
    "type",
    "status",
    "naming_data",
    "target_workout",
    "names_more",
    "error_text",
    "result_text",
    "metadata_text",
    "retry_count",
    "warnings_text",
)


def _workout(text: str | None) -> tuple[int, str, dt.datetime | None] | None:
    if text is None:
        return None
    pk, name, start, _date = orjson.loads(text)
    return pk, name, dt.datetime.fromisoformat(start) if start else None


def _plain_target(text: str) -> bytes:
    """The `target` JSON of a plain item (see ItemRow.plain) from its workout as the query read it."""
    pk, name, _start, date = orjson.loads(text)
    return orjson.dumps({"id": pk, "name": name, "date": date})


def item_rows(items: QuerySet[BatchItem], *, team_id: int) -> Iterator[ItemRow]:
    """Stream the items of a queryset (any filter and order) as ItemRows: one query on a server-side
    cursor, NAMED_SLICE rows per fetch, no model instances and no JSON decoded but what naming reads;
    the team's workout each item is about comes along in the same query.

    The cursor lives in a transaction of its own: PostgreSQL then computes rows as they are fetched,
    side by side with their encoding here, instead of the whole result before the first row (a cursor
    outside a transaction is held, so it is materialised at once)."""
    rows = items.annotate(
        naming_data=_NAMING_DATA_UNLESS_PLAIN,
        target_workout=RawSQL(_TARGET_WORKOUT, (settings.TIME_ZONE, team_id)),
        names_more=_NAMES_MORE,
        error_text=Cast("error", TextField()),
        result_text=Cast("result", TextField()),
        metadata_text=Cast("metadata", TextField()),
        warnings_text=Cast("warnings", TextField()),
    ).values_list(*_ROW_FIELDS)
    with transaction.atomic(using=items.db):
        for pk, op_id, seq, op_type, status, data, workout, more, *rest in rows.iterator(NAMED_SLICE):
            yield ItemRow(
                pk, op_id, seq, op_type, status, data, workout, not more and op_type not in _SPECIAL, *rest
            )


def _fill_naming(rows: list[ItemRow]) -> None:
    """Read the naming data of plain items whose workout is gone (deleted since): they are named from
    it after all. One query, and only when a slice has such items."""
    gone = {row.pk: row for row in rows if row.data_json is None and row.workout_json is None}
    if gone:
        for pk, data in (
            BatchItem.objects.filter(pk__in=gone).annotate(naming=_NAMING_DATA).values_list("pk", "naming")
        ):
            gone[pk].data_json = data


def named_items(items: QuerySet[BatchItem], *, team_id: int) -> Iterator[tuple[ItemRow, Named]]:
    """Yield (row, Named) for the items of a queryset, in its order: the rows stream on one cursor and
    are named NAMED_SLICE at a time (item_names: at most seven queries a slice)."""
    for chunk in _slices(item_rows(items, team_id=team_id)):
        _fill_naming(chunk)
        names = item_names(chunk, team_id=team_id)
        yield from ((r, names[r.op_id]) for r in chunk)


def _slices(rows: Iterator[ItemRow]) -> Iterator[list[ItemRow]]:
    chunk: list[ItemRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= NAMED_SLICE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def summary_head(batch: Batch) -> dict[str, Any]:
    """{id, status, summary[, error]}: the summary shape without its results."""
    head: dict[str, Any] = {
        "id": batch.pk,
        "requestId": batch.request_id or None,  # the guide's response.requestId
        "status": batch.status,
        "summary": batch.counts(),
    }
    if batch.error:
        head["error"] = batch.error
    if (batch.metadata or {}).get("requestWarnings"):
        head["warnings"] = batch.metadata["requestWarnings"]  # what the request held that was ignored
    return head


def result_json(row: ItemRow, target: bytes) -> bytes:
    """One item's result in the exchange shape, as JSON: {id, type, status, target, error?, result?,
    metadata?, retryCount?}; the target as given (JSON), error, result and metadata the stored JSON,
    passed through."""
    out = orjson.dumps({"id": row.op_id, "type": row.type, "status": row.status})[:-1]
    parts = [out, b',"target":', target]
    if row.error_json not in _EMPTY_JSON:
        parts += [b',"error":', row.error_json.encode()]
    if row.result_json not in (None, "null"):
        parts += [b',"result":', row.result_json.encode()]
    # The operation's own metadata comes back as it was sent (the exchange format's promise).
    if row.metadata_json not in _EMPTY_JSON:
        parts += [b',"metadata":', row.metadata_json.encode()]
    if row.retry_count:
        parts.append(b',"retryCount":%d' % row.retry_count)
    parts.append(b"}")
    return b"".join(parts)


def summary_chunks(batch: Batch, *, status: str | None = None) -> Iterator[str]:
    """Stream the summary with its results, {id, status, summary, results[]}, as JSON text: one piece per
    NAMED_SLICE results, one result per line. What batch_run --json, batch_status --json and the
    results downloads print; memory stays flat whatever the size of the batch.

    A plain item (about one workout the query found, nothing else to name: most of a large batch) takes
    its target from the query as it is; item_names names only the others of each slice."""
    yield orjson.dumps(summary_head(batch))[:-1].decode() + ',"results":['
    first = True
    for chunk in _slices(item_rows(batch_items(batch=batch, status=status), team_id=batch.team_id)):
        others = [r for r in chunk if not (r.plain and r.workout_json)]
        _fill_naming(others)
        names = item_names(others, team_id=batch.team_id) if others else {}
        page = b",\n".join(
            result_json(
                row,
                _plain_target(row.workout_json)
                if row.op_id not in names
                else orjson.dumps(names[row.op_id].target.as_dict()),
            )
            for row in chunk
        )
        yield ("" if first else ",") + "\n" + page.decode()
        first = False
    yield "\n]}\n"


def batch_summary(*, batch: Batch, include_results: bool = True) -> dict[str, Any]:
    """Return the summary shape as a dict (with its results decoded: for small batches and tests; large
    ones stream with summary_chunks)."""
    if not include_results:
        return summary_head(batch)
    return orjson.loads("".join(summary_chunks(batch)))


def problem_counts(batch: Batch) -> list[tuple[str, str, str, int]]:
    """Return (status, type, code, items) for the batch's errors and warnings: what the results lead
    with, grouped by kind. One query, grouped in PostgreSQL (an item with two warnings counts under
    each)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT status, type, error ->> 'code', count(*) FROM batch_batchitem
            WHERE batch_id = %s AND status <> 'SUCCEEDED' GROUP BY 1, 2, 3
            UNION ALL
            SELECT 'SUCCEEDED', i.type, w ->> 'code', count(DISTINCT i.id)
            FROM batch_batchitem i, jsonb_array_elements(
                CASE WHEN jsonb_typeof(i.warnings) = 'array' THEN i.warnings ELSE '[]'::jsonb END) w
            WHERE i.batch_id = %s AND i.status = 'SUCCEEDED' AND i.warnings <> '[]'::jsonb
            GROUP BY 2, 3
            """,
            [batch.pk, batch.pk],
        )
        return [(status, op_type, code or "", n) for status, op_type, code, n in cursor.fetchall()]
