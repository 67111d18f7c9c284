"""Excel downloads: every list page offers one, built the same way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from .tabular import write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(data: bytes, name: str, fmt: str = "xlsx") -> HttpResponse:
    resp = HttpResponse(data, content_type="text/csv" if fmt == "csv" else XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.{fmt}"'
    return resp


def table_response(name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str = "xlsx") -> HttpResponse:
    """A download of a table; ``fmt`` is ``xlsx`` (default) or ``csv`` (UTF-8 with BOM, opens in Excel)."""
    fmt = "csv" if fmt == "csv" else "xlsx"
    data = write_csv(headers, rows) if fmt == "csv" else write_xlsx([str(h) for h in headers], rows, sheet=name)
    return file_response(data, name, fmt)
