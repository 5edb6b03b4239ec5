"""Set-based writes the ORM lacks: update many rows with different values in one statement.

`bulk_update` builds CASE expressions that grow quadratically with the batch; UPDATE ... FROM (VALUES)
stays linear, and UPDATE ... FROM a COPY-filled temp table stays cheap in Python too.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

# From this many rows on, rows reach the UPDATE through COPY into a session temp table instead of a
# VALUES list: the VALUES statement's parameters cost Python time per value and its text must be
# parsed anew for every row count, which made outcome writes the largest fixed cost of a chunk.
COPY_MIN_ROWS = 64


def values_update(model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> int:
    """UPDATE model rows (each dict has "pk" plus `fields`) in one statement; return rows updated."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        sql, params = _update_sql(cursor, model, rows, fields)
        cursor.execute(sql, params)
        return cursor.rowcount


def values_update_versions(
    model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]
) -> dict[int, int]:
    """Like `values_update`, for a versioned model: return {pk: version} as the rows really are after.

    The database's version trigger has the last word on `version` (it never lets it stay or drop), so
    callers log what RETURNING reports, not what they meant to write.
    """
    if not rows:
        return {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        sql, params = _update_sql(cursor, model, rows, fields)
        sql += (
            f" RETURNING t.{quote(model._meta.pk.column)}, t.{quote(model._meta.get_field('version').column)}"
        )
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _update_sql(
    cursor: Any, model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]
) -> tuple[str, list[Any]]:
    """Return (UPDATE sql, params): its rows come from a VALUES list, or from a staged COPY."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    adapters = [adapter_for(field) for field in model_fields]
    casts = [field.db_type(connection) for field in model_fields]
    pk_type = meta.pk.db_type(connection)
    quote = connection.ops.quote_name
    alias_cols = ", ".join(["pk"] + [f"c{i}" for i in range(len(model_fields))])
    assignments = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(model_fields))
    head = f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM "
    where = f" WHERE t.{quote(meta.pk.column)} = v.pk"
    if len(rows) >= COPY_MIN_ROWS and connection.in_atomic_block:
        # ON COMMIT DELETE ROWS needs a transaction; outside one the VALUES form below serves.
        table = "hh_stage_" + hashlib.sha1(f"{meta.db_table}:{','.join(fields)}".encode()).hexdigest()[:16]
        columns = ", ".join([f"pk {pk_type}"] + [f"c{i} {cast}" for i, cast in enumerate(casts)])
        # One round trip: make sure the table exists, empty of an earlier call's rows in this transaction.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS; DELETE FROM {table}"
        )
        with cursor.cursor.copy(f"COPY {table} ({alias_cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [row["pk"], *(adapt(row[name]) for name, adapt in zip(fields, adapters, strict=True))]
                )
        return f"{head}{table} AS v{where}", []
    row_sql = "(" + ", ".join([f"%s::{pk_type}"] + [f"%s::{cast}" for cast in casts]) + ")"
    params: list[Any] = []
    for row in rows:
        params.append(row["pk"])
        params.extend(adapt(row[name]) for name, adapt in zip(fields, adapters, strict=True))
    sql = f"{head}(VALUES {', '.join([row_sql] * len(rows))}) AS v({alias_cols}){where}"
    return sql, params


def adapter_for(field: models.Field) -> Any:
    """Return a cheap value converter for a column (Django's get_db_prep_save per value is costly)."""
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else Jsonb(value)
    if isinstance(field, models.ForeignKey | models.DateTimeField | models.DateField | models.TimeField):
        return lambda value: value.pk if isinstance(value, models.Model) else value
    if field.get_internal_type() in {
        "CharField",
        "TextField",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "BigIntegerField",
        "FloatField",
        "BooleanField",
        "SmallIntegerField",
        "ArrayField",
    }:
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


def json_bytes(value: Any) -> bytes:
    """JSON for a jsonb column, by orjson (several times json.dumps' speed); json.dumps for what orjson
    refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value).encode()


def copy_insert(model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> int:
    """Insert many rows with COPY (several times faster than INSERT for big batches); no ids returned.

    Callers that need ids allocate them first with `allocate_ids` and pass "id" among the fields.
    """
    if not rows:
        return 0

    json_columns = [isinstance(model._meta.get_field(name), models.JSONField) for name in fields]
    copy_rows(
        model,
        [model._meta.get_field(name) for name in fields],
        (
            [
                Jsonb(row[name], dumps=json_bytes) if is_json and row[name] is not None else row[name]
                for name, is_json in zip(fields, json_columns, strict=True)
            ]
            for row in rows
        ),
    )
    return len(rows)


def copy_rows(model: type[models.Model], fields: Sequence[models.Field], values: Iterable[list[Any]]) -> None:
    """The one COPY writer: stream each list of values into the model's table, columns `fields`."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)


def copy_text(model: type[models.Model], fields: Sequence[str], lines: Iterable[bytes]) -> None:
    """COPY rows already written as lines of PostgreSQL's text format (`text_value`, `text_array`,
    `text_json`), sent in blocks: for the largest inserts (a 100,000-operation batch's items), where
    adapting each value in Python was most of the time."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        block: list[bytes] = []
        for line in lines:
            block.append(line)
            if len(block) >= 2000:
                copy.write(b"".join(block))
                block.clear()
        if block:
            copy.write(b"".join(block))


_TEXT_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text_value(value: str) -> bytes:
    """A string as a COPY text field (backslash, tab, newline and carriage return escaped)."""
    return value.translate(_TEXT_SPECIAL).encode()


def text_json(value: bytes) -> bytes:
    """JSON bytes as a COPY text field: JSON holds no raw tab or newline, so only backslashes double."""
    return value.replace(b"\\", b"\\\\")


def text_array(values: Sequence[Any]) -> bytes:
    """A list of strings or integers as a COPY text field holding a PostgreSQL array literal."""
    if not values:
        return b"{}"
    items = (
        str(v) if isinstance(v, int) else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    )
    return text_value("{" + ",".join(items) + "}")


def allocate_ids(model: type[models.Model], count: int) -> array[int]:
    """Reserve `count` primary keys from the model's sequence in one query. They come back as an array
    of 64-bit integers, read a block at a time: 100,000 of them as Python ints in a list (fetched as
    many row tuples at once) were the largest thing a big batch's store held."""
    ids: array[int] = array("q")
    if count <= 0:
        return ids
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        while rows := cursor.fetchmany(5000):
            ids.extend(row[0] for row in rows)
    return ids


FAST_TYPES = {
    "CharField",
    "TextField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "BigIntegerField",
    "FloatField",
    "BooleanField",
    "ForeignKey",
    "DateTimeField",
    "DateField",
    "TimeField",
    "JSONField",
}


def copy_create(model: type[models.Model], objs: Sequence[models.Model]) -> list[models.Model]:
    """`bulk_create` through COPY: reserve ids, stream the rows, mark the objects saved; return them.

    Same rows as `bulk_create` (auto_now fields filled by `pre_save`), a fraction of its Python cost:
    no per-value `get_db_prep_save` for plain types and no giant INSERT to build and parse.
    """
    if not objs:
        return []
    values = [value_getter(f) for f in new_row_fields(model)]

    def row(obj: models.Model, pk: int) -> list[Any]:
        obj.pk = pk
        return [value(obj) for value in values]

    copy_new_rows(model, objs, row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows given as plain dicts {attname: value} with COPY; return their new ids, in order.

    For many small rows a model instance each (its signals, descriptors and defaults) costs more than
    the write. Each dict is completed in place, as `save()` would complete the instance: "id", and
    every field left out at its default (`auto_now`/`auto_now_add` fields at one "now").
    """
    if not rows:
        return []
    now = timezone.now()
    fields = [
        (
            f.attname,
            (lambda: now)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default,
            isinstance(f, models.JSONField),
        )
        for f in new_row_fields(model)
    ]

    def values(row: dict[str, Any], pk: int) -> list[Any]:
        row["id"] = pk
        out = []
        for name, default, is_json in fields:
            value = row[name] if name in row else row.setdefault(name, default())
            out.append(Jsonb(value) if is_json and value is not None else value)
        return out

    return copy_new_rows(model, rows, values)


def new_row_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def copy_new_rows(model: type[models.Model], rows: Sequence[Any], values: Any) -> list[int]:
    """Reserve an id per row and COPY `[id, *values(row, id)]` for each (columns: the id, then
    `new_row_fields`); return the ids. Behind copy_create and insert_rows."""
    ids = allocate_ids(model, len(rows))
    columns = [model._meta.pk, *new_row_fields(model)]
    copy_rows(model, columns, ([pk, *values(row, pk)] for row, pk in zip(rows, ids, strict=True)))
    return ids.tolist()


def value_getter(field: models.Field) -> Any:
    """Return obj -> the value COPY writes for the field, as `bulk_create` would save it.

    Most fields save their attribute as it is (`Field.pre_save` is a plain getattr): those skip the
    per-value method calls, which were most of a big insert's Python time.
    """
    attname = field.attname
    plain_pre_save = type(field).pre_save is models.Field.pre_save
    if isinstance(field, models.JSONField):
        if plain_pre_save:
            return lambda obj: None if (v := getattr(obj, attname)) is None else Jsonb(v)
        return lambda obj: None if (v := field.pre_save(obj, add=True)) is None else Jsonb(v)
    if field.get_internal_type() in FAST_TYPES:
        if plain_pre_save:
            return lambda obj: getattr(obj, attname)
        return lambda obj: field.pre_save(obj, add=True)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, add=True), connection)
