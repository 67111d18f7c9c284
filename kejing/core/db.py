"""Small database helpers that depend on the engine in use."""

from __future__ import annotations

from django.db import connection


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
