"""Small database helpers that depend on the engine in use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
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
