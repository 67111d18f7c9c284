"""Customer lists to Excel, in the same columns the importer reads (so an export can be edited and re-imported)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from kejing.core.tabular import write_csv, write_xlsx

from .importer import COLUMNS, STATUS_LABELS
from .models import Customer
from .rules import LIST_OF_FIELD, rules_for

STATUS_TEXT = {v: k for k, v in STATUS_LABELS.items()}
EXPORT_FIELDS = list(COLUMNS)


def _rows(qs: QuerySet[Customer]) -> Iterator[list[Any]]:
    rules_cache: dict[str, Any] = {}
    for c in qs.iterator(chunk_size=2000):
        rules = rules_cache.get(c.industry) or rules_cache.setdefault(c.industry, rules_for(c.industry))
        row: list[Any] = []
        for f in EXPORT_FIELDS:
            if f == "unit":
                row.append(c.unit.code)
            elif f == "cm":
                row.append(c.cm.employee_no if c.cm_id else "")
            elif f == "status":
                row.append(STATUS_TEXT.get(c.status, c.status))
            elif f in LIST_OF_FIELD:
                row.append(rules.label(f, getattr(c, f)) if f in rules.fields() else "")
            else:
                v = getattr(c, f)
                row.append("" if v is None else (float(v) if f in ("latitude", "longitude") else v))
        yield row


def export_customers(qs: QuerySet[Customer], fmt: str = "xlsx") -> tuple[bytes, int]:
    """The file bytes and the row count; capped at ``KEJING_EXPORT_MAX_ROWS`` to protect the server."""
    qs = qs.select_related("unit", "cm")[: settings.KEJING_EXPORT_MAX_ROWS]
    rows = list(_rows(qs))
    headers = [COLUMNS[f][0] for f in EXPORT_FIELDS]
    data = write_csv(headers, rows) if fmt == "csv" else write_xlsx(headers, rows, sheet="客户")
    return data, len(rows)
