"""Set-based writes the ORM lacks: update many rows with different values in one statement.

`bulk_update` builds CASE expressions that grow quadratically with the batch; UPDATE ... FROM (VALUES)
stays linear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def values_update(model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> int:
    """UPDATE model rows (each dict has "pk" plus `fields`) in one statement; return rows updated."""
    if not rows:
        return 0
    meta = model._meta
    columns = []
    for name in fields:
        field = meta.get_field(name)
        columns.append((field.column, field.db_type(connection), field))
    pk_field = meta.pk
    pk_type = pk_field.db_type(connection)
    placeholders = []
    params: list[Any] = []
    for row in rows:
        cells = [f"%s::{pk_type}"]
        params.append(row["pk"])
        for (_, db_type, field), name in zip(columns, fields, strict=True):
            cells.append(f"%s::{db_type}")
            params.append(field.get_db_prep_save(row[name], connection))
        placeholders.append("(" + ", ".join(cells) + ")")
    quote = connection.ops.quote_name
    alias_cols = ", ".join(["pk"] + [f"c{i}" for i in range(len(columns))])
    assignments = ", ".join(f"{quote(col)} = v.c{i}" for i, (col, _, _) in enumerate(columns))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join(placeholders)}) AS v({alias_cols}) "
        f"WHERE t.{quote(pk_field.column)} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def copy_insert(model: type[models.Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> int:
    """Insert many rows with COPY (several times faster than INSERT for big batches); no ids returned.

    Callers that need ids allocate them first with `allocate_ids` and pass "id" among the fields.
    """
    if not rows:
        return 0
    from psycopg.types.json import Jsonb

    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    json_columns = [isinstance(f, models.JSONField) for f in model_fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row[name]) if is_json and row[name] is not None else row[name]
                    for name, is_json in zip(fields, json_columns, strict=True)
                ]
            )
    return len(rows)


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve `count` primary keys from the model's sequence in one query."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]
