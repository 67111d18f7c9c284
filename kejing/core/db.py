"""Small database helpers that depend on the engine in use."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Model


def analyze(*tables: str) -> None:
    """Refresh PostgreSQL's planner statistics of ``tables`` (every table when none is named) after a bulk load;
    nothing on other databases.

    Why: a table loaded in bulk keeps the statistics of when it was empty until autovacuum analyses it (a minute
    after the commit at best, never inside the transaction that loaded it). With "0 rows" the planner chooses
    nested loops that compare every ledger row with every shop: the month-end survey of one market on the
    300-shop demo ran for more than four minutes on PostgreSQL instead of milliseconds. ANALYZE inside the
    loading transaction counts that transaction's own rows.
    """
    if connection.vendor != "postgresql":
        return
    names = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {names}" if names else "ANALYZE")


def update_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], chunk: int = 20_000) -> None:
    """Set ``fields`` of many rows of ``model`` by primary key; each row is ``(value of each field ..., pk)``.

    Why: a round's model figures and balanced quantities are one UPDATE per shop line — 136,585 at 30,000
    shops. SQLite runs ``executemany`` in process, fast; on PostgreSQL every statement is a round trip to the
    server. There the rows go as one array per column (``UPDATE … FROM unnest(…)``), ``chunk`` rows a
    statement: the balance's 136,585 lines 19.7–21.3 s → 11.7–12.6 s (docs/benchmarks.md).
    """
    if not rows:
        return
    meta = model._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(f) for f in fields]
    columns = [f.column for f in model_fields]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            sets = ", ".join(f"{qn(c)} = %s" for c in columns)
            cur.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
            return
        types = [f.db_type(connection) for f in model_fields] + [meta.pk.rel_db_type(connection)]
        names = [f"v{i}" for i in range(len(columns))]
        sets = ", ".join(f"{qn(c)} = v.{n}" for c, n in zip(columns, names, strict=True))
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        sql = f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(names)}, k) WHERE {table}.{pk} = v.k"
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            cur.execute(sql, [list(col) for col in zip(*part, strict=True)])


def _to_db(field: models.Field) -> Callable[[Any], Any] | None:
    """How a plain Python value of ``field`` goes to the database in a raw statement (None: as it is).

    Only what differs between drivers is converted: dates and datetimes as the backend writes them (SQLite keeps
    them as text, a datetime in UTC), and JSON as its text (PostgreSQL's ``COPY`` reads ``jsonb`` from text)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda v: None if v is None else json.dumps(v, cls=encoder)
    # a column of dates repeats a few values (the months of a file, the moment of an import): each converted once
    if isinstance(field, models.DateTimeField):
        return functools.lru_cache(maxsize=1024)(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return functools.lru_cache(maxsize=1024)(ops.adapt_datefield_value)
    return None


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], chunk: int = 20_000) -> int:
    """Insert many new rows of ``model``; each row is the values of ``fields`` in order (a field by its name or
    its attribute, ``customer`` or ``customer_id``; a foreign key's value is the id, dates are dates, JSON fields
    Python objects). Returns the number of rows. The demo's build and the ledger import write with it.

    Nothing of Django's model layer runs: no defaults are filled in, so every column that is not nullable must be
    among ``fields``, and no signals are sent. Why: an import of a company's ledger writes a row and an audit
    record for each of 1.7 million shop x spec x months; Django building a model object and preparing each value
    of each of them took most of the import's time and memory (docs/benchmarks.md, the ledger's first load).
    SQLite takes the rows with ``executemany``, ``chunk`` rows a call; PostgreSQL by ``COPY``, its own way of
    loading many rows (a statement per row would be a round trip each, and arrays of text are quoted in Python).
    """
    if not rows:
        return 0
    meta = model._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(f) for f in fields]
    columns = ", ".join(qn(f.column) for f in model_fields)
    convert = [(i, c) for i, c in enumerate(_to_db(f) for f in model_fields) if c is not None]
    table = qn(meta.db_table)

    def prepared(part: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        if not convert:
            return part
        out = [list(r) for r in part]
        for r in out:
            for i, c in convert:
                r[i] = c(r[i])
        return out

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in range(0, len(rows), chunk):
                    for row in prepared(rows[start : start + chunk]):
                        copy.write_row(row)
            return len(rows)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(model_fields))})"
        for start in range(0, len(rows), chunk):
            cur.executemany(sql, prepared(rows[start : start + chunk]))
    return len(rows)
