"""Reading and writing tables: CSV (UTF-8 or GBK, as Chinese Excel saves it) and ``.xlsx``.

Every import in Kejing goes through :func:`read_table`, which returns the header and the data rows with their
row numbers as a person sees them in Excel (the header is row 1), so error reports can name the row.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook


class TableError(ValueError):
    """The file cannot be read as a table at all (wrong type, unknown encoding, no header)."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as in Excel, {header: cell text})
    encoding: str = ""


@dataclass
class RowError:
    """One problem of one imported row: the row as Excel numbers it (header = 1), the column, the reason."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class CellError:
    """A problem in one cell of a named input file (commands that read several files at once name the file)."""

    file: str
    row: int
    column: str
    message: str

    def text(self) -> str:
        return f"{self.file} 第 {self.row} 行 row {self.row} [{self.column}]: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """What an import found; subclasses add their own counters. Nothing is written while ``errors`` is non-empty."""

    rows: int = 0
    dry_run: bool = True
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "errors"}
        out["ok"] = self.ok
        out["errors"] = [e.as_dict() for e in self.errors]
        return out


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312).

    UTF-8 is tried first because GBK decoding of UTF-8 bytes rarely fails outright and would give mojibake.
    """
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), ("utf-8" if enc == "utf-8-sig" else "gbk")
        except UnicodeDecodeError:
            continue
    raise TableError("文件编码无法识别(应为 UTF-8 或 GBK) / unknown file encoding (expected UTF-8 or GBK)")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value).strip()


# A cell that names a row of totals, compared without case, spaces, dashes, underscores or colons ("合  计",
# "Grand Total:"): a report's 合计 row read as data is the sum of all the others (one more series in a sales file,
# one more "customer" in a ledger).
TOTAL_WORDS = frozenset(
    {"合计", "总计", "小计", "总合计", "汇总", "总和", "total", "totals", "grandtotal", "subtotal", "sum"}
)
NOT_IN_TOTALS = r"[\s\-_:：]"  # what a total word is compared without


def is_total_word(value: Any) -> bool:
    """Whether a cell names a row (or column) of totals (:data:`TOTAL_WORDS`)."""
    return re.sub(NOT_IN_TOTALS, "", str(value)).lower() in TOTAL_WORDS


HEAD_ROWS = 30  # the first rows looked at for a title above the header


def header_row(rows: Sequence[Sequence[Any]]) -> int:
    """How many rows of a title stand above the header among the first ``rows`` of a sheet: 0 unless the first
    row fills less than half the width of the widest of them, else the first row that fills at least half.

    Why: a report saved from a sales or CRM system often starts with its title, a blank line and the unit
    ("2024年卷烟分规格销量", "单位:条") above the real header; read as the header, every column was unknown. Only a
    narrow first row triggers the search, so a header with one blank cell is still the header."""

    def filled(row: Sequence[Any]) -> int:
        return sum(1 for c in row if c is not None and str(c).strip() not in ("", "nan", "NaT", "None"))

    counts = [filled(r) for r in rows]
    widest = max(counts, default=0)
    if widest < 2 or counts[0] * 2 >= widest:
        return 0
    return next(i for i, n in enumerate(counts) if n * 2 >= widest)


#: cells up to this length are kept once per distinct text. Why: a ledger repeats a few thousand codes, months and
#: small numbers over millions of cells; read as separate strings, three years of a 10,000-shop company's ledger
#: (1.74 M rows) took 1.47 GB, shared 1.05 GB (docs/benchmarks.md, the ledger's first load). Longer texts (names,
#: addresses) rarely repeat, so they are not looked up.
SHARED_CELL = 20


def _rows_to_table(raw: Iterator[Sequence[Any]], encoding: str) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    shared: dict[str, str] = {}  # one string object per distinct short cell text
    numbered = enumerate(raw, start=1)
    # a title above the header (header_row) is passed over; the rows keep the numbers Excel shows
    first = list(itertools.islice(numbered, HEAD_ROWS))
    nonblank = [(n, [_cell_text(v) for v in values]) for n, values in first]
    nonblank = [(n, cells) for n, cells in nonblank if any(cells)]
    title = {n for n, _ in nonblank[: header_row([cells for _, cells in nonblank])]} if nonblank else set()
    for number, values in itertools.chain(first, numbered):
        if number in title:
            continue
        cells = [_cell_text(v) for v in values]
        if header is None:
            if not any(cells):
                continue
            header = [c.strip() for c in cells]
            continue
        if not any(cells):
            continue
        cells += [""] * (len(header) - len(cells))
        cells = [shared.setdefault(c, c) if len(c) <= SHARED_CELL else c for c in cells]
        rows.append((number, {h: cells[i] for i, h in enumerate(header) if h}))
    if header is None:
        raise TableError("文件为空,缺少表头 / the file is empty (no header row)")
    return Table(header=header, rows=rows, encoding=encoding)


def read_table(source: str | Path | BinaryIO, filename: str | None = None) -> Table:
    """Read a ``.csv`` or ``.xlsx`` file (path or binary stream) into a :class:`Table`."""
    if isinstance(source, str | Path):
        filename = filename or str(source)
        data = Path(source).read_bytes()
    else:
        data = source.read()
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise TableError(f"无法读取 Excel 文件 / cannot read the Excel file: {exc}") from exc
        ws = wb.worksheets[0]
        return _rows_to_table(ws.iter_rows(values_only=True), "xlsx")
    if name and not name.endswith((".csv", ".txt")):
        raise TableError("只支持 .xlsx 和 .csv 文件 / only .xlsx and .csv files are accepted")
    text, encoding = decode_text(data)
    return _rows_to_table(csv.reader(io.StringIO(text)), encoding)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    """An ``.xlsx`` file (as bytes) with a bold header row; write-only mode keeps memory flat for big lists."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])
    bold = Font(bold=True)
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)
