"""Reading a sales history file into the engine's long frame (``unique_id``, ``ds``, ``y``): CSV in UTF-8 or GBK
(comma, tab or semicolon), or the data sheet of a workbook, with whatever headers and layout a sales export has
(:func:`shape_columns`), a title above the header, remarks below the data, rows of totals and merged cells; and
writing forecasts as ``kejing forecast run`` does (:func:`forecast_csv`).

Why a module of its own: ``kejing forecast backtest`` / ``run``, the model check page's "check a file" and the
file forecast page read the same files, and a planner should get the same reading, the same figures and the
same refusals from all of them. Pure
pandas, no Django; errors are ``ValueError`` with a message in Chinese and English that names the column, the row
or the option (``--id-col`` on the command line, the form's field on the page) that settles it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from kejing.core.tabular import (
    HEAD_ROWS,
    NOT_IN_TOTALS,
    TOTAL_WORDS,
    TableError,
    decode_text,
    header_row,
    is_total_word,
)


class UnreadableFile(ValueError):
    """The bytes are no workbook, or no text in UTF-8 or GBK: nothing in the file could be looked at."""


# how the caller names the three columns: the command's options (the page passes its fields' labels)
CLI_OPTIONS = {"unique_id": "--id-col", "ds": "--date-col", "y": "--value-col"}

# the number columns of the commands' inputs (forecast: y; allocation: lines, supply and tier caps)
NUMBER_COLUMNS = frozenset({"y", "forecast", "demand", "cap", "min", "tier", "supply"})
# numbers as a spreadsheet writes them with a thousands separator: "1,017.3" (comma-separated files, read with
# quotes) and, where the decimal mark is a comma (the files that semicolons separate), "1.017,3" or "1017,3"
_GROUPED = {
    ",": re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"),
    ";": re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"),
}


def _numbers_as_written(df, sep: str):
    """``df`` with each number column (:data:`NUMBER_COLUMNS`, header case and spaces ignored) that pandas left
    as text read as numbers where it holds numbers written with thousands separators (or, in a semicolon file,
    a decimal comma). A column without such a number is left as it is (the engine then names its first bad
    row); one with such numbers and a cell of another shape is a ``ValueError`` naming that cell's row.

    Why: a sales history saved from a spreadsheet keeps its number format, so ``y`` reads ``"1,017.3"`` (or
    ``"1017,3"`` where the decimal mark is a comma) and the whole file was refused at its first row. Only what
    cannot be misread is taken: in a comma file ``1,017`` is a thousand and seventeen; in a semicolon file a dot
    groups thousands only in groups of three beside a decimal comma, so ``1017.3`` there is refused rather than
    read as 10173 or guessed to be 1017.3.
    """
    import pandas as pd

    pattern = _GROUPED[";" if sep == ";" else ","]
    marks = "[,.]" if sep == ";" else ","
    for col in df.columns:
        if str(col).strip().lower() not in NUMBER_COLUMNS or df[col].dtype != object:
            continue
        text = df[col].astype("string").str.strip()
        filled = (text.notna() & (text != "")).astype(bool)
        fits = text.str.fullmatch(pattern).fillna(False).astype(bool)
        written = fits & text.str.contains(marks, regex=True).fillna(False).astype(bool)
        if not written.any():
            continue
        odd = filled & ~fits
        if odd.any():
            row = int(odd.to_numpy().nonzero()[0][0])
            raise ValueError(
                f"第 {row + 2} 行 {col} 的写法与该列其他数字不同 / row {row + 2}: {col} {df[col].iloc[row]!r} is "
                f"not written like the other numbers of the column (e.g. {text[written].iloc[0]!r})"
            )
        if sep == ";":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            text = text.str.replace(",", "", regex=False)
        df[col] = pd.to_numeric(text.where(filled), errors="coerce")
    return df


def read_frame(data: bytes, name: str):
    """A CSV (UTF-8 or GBK; comma, tab or semicolon) or, for a name ending ``.xlsx``/``.xlsm``, the sheet of the
    workbook with the most cells (:func:`_data_sheet`), as a frame. A CSV's separator is kept in
    ``attrs["sep"]``, the lines of a title above the header that were skipped
    (:func:`kejing.core.tabular.header_row`) in ``attrs["skipped"]``, the remarks below the data
    (:func:`_without_footer`) in ``attrs["footer"]``, a sheet other than the first in ``attrs["sheet"]``.
    ``ValueError`` names what could not be read.

    Why the workbook: a sales manager's history lives in Excel, and saving it as CSV first loses nothing but
    time (date cells come through as dates, which the engine reads as their month). Why bytes: the command reads
    a path, the page an upload; both then read the very same way."""
    import pandas as pd

    if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheet, sheets = _data_sheet(data)
            top = pd.read_excel(io.BytesIO(data), engine="openpyxl", sheet_name=sheet, header=None, nrows=HEAD_ROWS)
            skip = header_row(top.values.tolist())
            df = pd.read_excel(io.BytesIO(data), engine="openpyxl", sheet_name=sheet, skiprows=skip)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
            raise UnreadableFile(f"无法读取工作簿 / cannot read the workbook {name}: {exc}") from None
        df = _without_footer(df)
        df.attrs["skipped"] = skip  # no attrs["sep"]: numbers come as numbers
        if sheet != 0:
            df.attrs["sheet"] = f"{sheets[sheet]} ({sheet + 1} / {len(sheets)})"
        return df
    try:
        text, _ = decode_text(data)  # UTF-8, else GB18030 (a superset of GBK), as every import reads
    except TableError:
        raise UnreadableFile(f"无法读取编码 / cannot decode {name} (UTF-8 or GBK)") from None
    lines = text.splitlines()[:HEAD_ROWS]
    # the separator that splits the header most: comma, tab (a copy from a spreadsheet) or semicolon
    # (spreadsheets of locales with a decimal comma); a one-column header keeps the comma. A first line with
    # none of them is a title: then the one that splits the widest of the first lines
    head = lines[0] if lines else ""
    seps = (",", "\t", ";")
    if any(c in head for c in seps):
        sep = max(seps, key=head.count)
    else:
        sep = max(seps, key=lambda c: max(line.count(c) for line in lines) if lines else 0)
    skip = header_row(list(csv.reader(lines, delimiter=sep)))
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, skiprows=skip)
    except pd.errors.EmptyDataError:
        raise ValueError(f"文件是空的 / the file {name} is empty") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"无法读取 CSV / cannot read {name} as CSV: {exc}") from None
    df = _numbers_as_written(_without_footer(df), sep)
    df.attrs["sep"] = sep
    df.attrs["skipped"] = skip
    return df


def _data_sheet(data: bytes) -> tuple[int, list[str]]:
    """The index of the workbook's sheet with the most cells (by the size each sheet declares; the first of
    equals, the first when none declares one), and the sheets' names.

    Why: a report workbook often opens on a sheet of explanations (说明) or a cover, with the figures on the
    next sheet; the first sheet was read and refused for having no dates."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        sizes = [(ws.max_row or 0) * (ws.max_column or 0) for ws in book.worksheets]
        names = [ws.title for ws in book.worksheets]
    finally:
        book.close()
    return max(range(len(sizes)), key=lambda i: (sizes[i], -i)), names


def _without_footer(df):
    """``df`` without the rows at its end that fill one cell at most (a remark, the name of who made the report,
    the data source), their number in ``attrs["footer"]``.

    Why: such a line below the data was read as a series without a month and refused the file. Only the last
    rows are looked at, so a short row inside the data is still read (and refused with its row if it is wrong);
    and only rows of one cell, because in a report with a column per month a spec launched two months ago, listed
    last, fills its name and two months: that is data, however narrow.
    """

    def counts(part) -> list[int]:
        filled = part.notna() & (part.astype("string").apply(lambda col: col.str.strip()) != "")
        return filled.sum(axis=1).tolist()

    # the widest row among the first and the last rows; the footer among the last (a million rows are not all
    # looked at for a few lines at the end)
    tail = counts(df.iloc[-HEAD_ROWS:])
    widest = max(counts(df.iloc[:HEAD_ROWS]) + tail, default=0)
    k = 0
    while widest >= 2 and k < len(tail) and tail[len(tail) - 1 - k] <= 1:
        k += 1
    out = df.iloc[: len(df) - k] if k else df
    out.attrs["footer"] = k
    return out


# Column names a sales export uses for the three columns of the long format (header case and spaces ignored),
# read when the file lacks the canonical name; the engine itself knows only unique_id, ds and y.
COLUMN_NAMES = {
    "ds": ("ds", "date", "month", "period", "time", "日期", "月份", "年月", "期间", "时间", "月"),
    "y": (
        "y", "sales", "qty", "quantity", "value", "amount", "demand", "volume", "units", "sold",
        "销量", "数量", "销售量", "需求量", "订购量", "订单量", "销售额", "金额",
    ),
    "unique_id": (
        "unique_id", "id", "series", "item", "sku", "product", "store", "shop", "customer", "spec", "brand", "region",
        "item_id", "sku_id", "product_id", "store_id", "shop_id", "customer_id", "customer_code", "spec_code",
        "序列", "编号", "商品", "品规", "规格", "客户", "门店", "品牌", "区域", "地区", "片区",
        "客户编码", "规格编码", "门店编码", "商品编码", "卷烟编码", "零售户编码", "许可证号",
    ),
}  # fmt: skip


def shape_columns(
    df,
    id_col: str | None = None,
    date_col: str | None = None,
    value_col: str | None = None,
    sep: str = ",",
    options: dict[str, str] | None = None,
):
    """The frame with the columns ``unique_id``, ``ds`` and ``y`` the engine reads, and what was done to get them
    (``None`` when nothing was): :func:`_shaped` reads the layout, then the rows of totals are left out
    (:func:`_without_totals`)."""
    n, k, sheet = df.attrs.get("skipped", 0), df.attrs.get("footer", 0), df.attrs.get("sheet", "")
    sheet = f"读取数据最多的工作表 {sheet} / the sheet with the most cells read: {sheet}" if sheet else ""
    title = f"表头前的 {n} 行标题已跳过 / {n} line(s) of a title above the header skipped" if n else ""
    footer = f"表尾的 {k} 行说明已略去 / {k} line(s) below the data left out" if k else ""
    out, said = _shaped(df, id_col, date_col, value_col, sep, options)
    out, totals = _without_totals(out)
    return out, "; ".join(x for x in (sheet, title, footer, said, totals) if x) or None


def _without_totals(df):
    """``df`` without the rows whose series name (or a part of it, between the "/" that join id columns) or date
    is a total word (:data:`TOTAL_WORDS`), and a note of what was left out (``None`` when nothing was).

    Why: a sales report ends with a 合计 row and groups with 小计 rows; read as data, the first becomes one more
    series, the sum of all the others (the biggest of the file, so it weighs most in WAPE and in the pooled
    models), and in a long file its empty month refused the whole file. A product really called "Total" would be
    left out too; the note names what was.
    """
    import pandas as pd

    named = {str(c).strip().lower(): c for c in df.columns}
    hits = {}
    for role in ("unique_id", "ds"):
        col = named.get(role)
        if col is None:
            continue
        # judged once per distinct value (a million rows hold a few thousand names and a few dozen months)
        codes, values = pd.factorize(df[col], use_na_sentinel=True)
        parts = [str(v).split("/") if role == "unique_id" else [str(v)] for v in values]
        total = np.array([any(is_total_word(p) for p in ps) for ps in parts] + [False], dtype=bool)
        hits[role] = total[codes]  # code -1 (an empty cell) picks the False at the end
    if not any(h.any() for h in hits.values()):
        return df, None
    said = []
    by_id = hits.get("unique_id")
    if by_id is not None and by_id.any():
        counts = df.loc[by_id, named["unique_id"]].value_counts(sort=False)
        names = ", ".join(f"{k} ({n})" for k, n in list(counts.items())[:5]) + (" …" if len(counts) > 5 else "")
        said.append(f"合计或小计已略去(值的个数)/ totals left out (values): {names}")
    dated = hits.get("ds")
    if dated is not None and by_id is not None:
        dated = dated & ~by_id
    if dated is not None and dated.any():
        n = int(dated.sum())
        said.append(f"合计行的 {n} 个值已略去 / {n} value(s) of a row of totals left out")
    keep = ~np.logical_or.reduce(list(hits.values()))
    return df[keep].reset_index(drop=True), "; ".join(said)


def _shaped(
    df,
    id_col: str | None,
    date_col: str | None,
    value_col: str | None,
    sep: str,
    options: dict[str, str] | None,
):
    """The frame with the columns ``unique_id``, ``ds`` and ``y`` the engine reads, and what was done to get them
    (``None`` when the file already had them).

    Why: "any long-format file" is, in practice, a sales export with its own headers (``item, date, sales`` or
    ``规格, 月份, 销量``) or a spreadsheet with one column per series; refusing it only sent the planner back to
    rename columns by hand. So: ``--id-col`` (several names joined by commas: their values are joined with
    "/"), ``--date-col`` and ``--value-col`` name the columns; otherwise a missing name is looked up among
    :data:`COLUMN_NAMES` (several id-like columns, such as store and item, together make the id; a year and a
    month-number column together make the dates, :func:`_year_and_month`); a file with
    a date column and no id is read as one series (one value column) or one series per number column (the wide
    layout); a file without dates but with month headers has one row per series (:func:`_months_across`). What
    stays ambiguous is refused with the columns found and the options that settle it.
    """
    import pandas as pd

    found = [str(c) for c in df.columns]
    by_name = {str(c).strip().lower(): c for c in df.columns}
    opt = {**CLI_OPTIONS, **(options or {})}
    asked = {"unique_id": id_col, "ds": date_col, "y": value_col}
    chosen: dict[str, list] = {}
    for role, names in asked.items():
        if not names:
            continue
        cols = []
        for name in str(names).split(",") if role == "unique_id" else [names]:
            col = by_name.get(name.strip().lower())
            if col is None:
                raise ValueError(
                    f"找不到列 {name.strip()} / no column {name.strip()!r}(现有列 / found: {', '.join(found)})"
                )
            cols.append(col)
        chosen[role] = cols
    split = None if "ds" in chosen or "ds" in by_name else _year_and_month(df, by_name)
    if split is not None:  # a 年 and a 月 column (the month as 1-12): one date column made of the two
        year_col, month_col = split
        year = pd.to_numeric(df[year_col]).astype("Int64").astype("string")
        month = pd.to_numeric(df[month_col]).astype("Int64").astype("string").str.zfill(2)
        df = df.drop(columns=[year_col, month_col]).assign(ds=year + "-" + month)  # empty where both were empty
        by_name = {str(c).strip().lower(): c for c in df.columns}
        chosen["ds"] = ["ds"]
    for role, aliases in COLUMN_NAMES.items():
        if role in chosen:
            continue
        if role in by_name:  # the canonical name wins over any alias
            chosen[role] = [by_name[role]]
            continue
        taken = {c for cols in chosen.values() for c in cols}
        hits = [by_name[a] for a in aliases if a in by_name and by_name[a] not in taken]
        if role == "unique_id" and hits:
            chosen[role] = [c for c in df.columns if c in hits]  # in the file's order: store/item
        elif len(hits) == 1:
            chosen[role] = hits
        elif len(hits) > 1:
            option = opt[role]
            raise ValueError(
                f"多列可作 {role}: {', '.join(map(str, hits))},请用 {option} 指定 / several columns could be {role} "
                f"({', '.join(map(str, hits))}): name one with {option}"
            )
    if (
        split is None
        and {"unique_id", "ds", "y"} <= chosen.keys()
        and all(len(v) == 1 and str(v[0]).strip().lower() == k for k, v in chosen.items())
    ):
        return df, None
    if "ds" not in chosen:
        periods = _date_headers(df)
        if len(periods) >= 2:
            return _months_across(df, periods, chosen.get("unique_id"), sep, opt["unique_id"])
        raise ValueError(
            f"缺少列 / missing column(s): ds(日期 / the dates; 现有列 / found: {', '.join(found)});"
            f"可用 {opt['ds']} 指定 / name it with {opt['ds']}"
        )
    ds = chosen["ds"][0]
    said = [f"{split[0]} + {split[1]} → ds"] if split is not None else []
    if "unique_id" not in chosen:
        rest = [c for c in df.columns if c != ds and not is_total_word(c)]
        totals = [str(c) for c in df.columns if c != ds and is_total_word(c)]
        if totals:  # a column of the row's total is no series
            said.append(f"未用的列 / columns not used: {', '.join(totals)}")
        is_number = {c: _numeric_column(df[c], sep) for c in rest}
        text = [str(c) for c in rest if not is_number[c]]
        values = chosen.get("y") or rest
        numeric = [c for c in values if is_number[c]]
        if "y" in chosen and [t for t in text if t != str(chosen["y"][0])]:
            # a text column beside the figures names the series more often than not: say so, do not add them up
            raise ValueError(
                f"缺少列 / missing column: unique_id(现有列 / found: {', '.join(found)});若 "
                f"{', '.join(t for t in text if t != str(chosen['y'][0]))} 是序列名,请用 {opt['unique_id']} 指定 / if "
                f"that names the series, say so with {opt['unique_id']}"
            )
        if "y" in chosen or len(rest) == 1:
            col = values[0]
            if not numeric:
                raise ValueError(f"{col} 列不是数字 / column {col} holds no numbers")
            out = pd.DataFrame({"unique_id": str(col), "ds": df[ds], "y": df[col]})
            said.append(f"一个序列 {col} / one series, {col}")
        elif len(numeric) == len(rest):
            out = df.melt(id_vars=[ds], value_vars=rest, var_name="unique_id", value_name="y")
            out = out.rename(columns={ds: "ds"})[["unique_id", "ds", "y"]]
            out["unique_id"] = out["unique_id"].astype(str)
            said.append(f"宽表:{len(rest)} 列各为一个序列 / wide layout: {len(rest)} columns read as series")
        else:
            raise ValueError(
                f"缺少列 / missing column(s): unique_id, y(现有列 / found: {', '.join(found)});非数字列 / columns "
                f"without numbers: {', '.join(text)}。可用 {opt['unique_id']}、{opt['y']} 指定 / name them with "
                f"{opt['unique_id']} and {opt['y']}"
            )
    else:
        if "y" not in chosen:
            raise ValueError(
                f"缺少列 / missing column(s): y(销量 / the figures; 现有列 / found: {', '.join(found)});"
                f"可用 {opt['y']} 指定 / name it with {opt['y']}"
            )
        ids = chosen["unique_id"]
        df, merged = _filled_down(df, ids)
        if merged:
            said.append(f"合并单元格已向下填充 / merged cells filled down: {', '.join(merged)}")
        out = pd.DataFrame({"unique_id": _joined(df, ids), "ds": df[ds], "y": df[chosen["y"][0]]})
        moved = [(" + ".join(map(str, ids)), "unique_id"), (str(ds), "ds"), (str(chosen["y"][0]), "y")]
        said.append("列 / columns: " + ", ".join(f"{a} → {b}" for a, b in moved if a.strip().lower() != b))
    return _numbers_as_written(out, sep), "; ".join(said)


def _joined(df, cols: list):
    """The series' names from one or more columns, their values joined with "/" (store ``S1`` and item ``a`` ->
    ``S1/a``); an empty cell leaves the name empty, which the engine refuses with its row, unless another of the
    row's cells is a total word (a 合计 row whose spec cell is merged away: left out as a total)."""
    import pandas as pd

    parts = [df[c].astype("string") for c in cols]
    if len(parts) == 1:
        return parts[0]
    key = parts[0].fillna("")
    for part in parts[1:]:
        key = key + "/" + part.fillna("")
    empty = np.logical_or.reduce([(p.isna() | (p.str.strip() == "")).to_numpy(dtype=bool) for p in parts])
    if empty.any():
        total = np.logical_or.reduce(
            [
                p.str.lower().str.replace(NOT_IN_TOTALS, "", regex=True).isin(TOTAL_WORDS).to_numpy(dtype=bool)
                for p in parts
            ]
        )
        key = key.mask(pd.Series(empty & ~total, index=key.index))
    return key


def _filled_down(df, ids: list):
    """``df`` with the empty cells of every series column but the last filled from the row above, and the
    names of the columns so filled.

    Why: a report groups its specs under a brand whose cell is merged over the group's rows; a workbook (or its
    CSV) has the brand in the group's first row only, and each other row's name was empty, so the file was
    refused. The last column (the spec itself) is never filled: an empty spec is a mistake the engine names."""
    filled = []
    for col in ids[:-1]:
        text = df[col].astype("string")
        empty = text.isna() | (text.str.strip() == "")
        if empty.any() and not empty.iloc[0]:
            if not filled:
                df = df.copy()
            df[col] = df[col].mask(empty).ffill()
            filled.append(str(col))
    return df, filled


def _date_headers(df) -> list:
    """The columns whose header is a month or a date (``2024-01``, ``202401``, ``2024年1月``, ``Jan-24``, a date
    cell of a workbook …), as the engine reads dates; a header it cannot read is no period."""
    import pandas as pd

    from .engine.months import MonthError, month_numbers

    out = []
    for col in df.columns:
        try:
            month_numbers(pd.Series([col]))
        except (MonthError, ValueError, TypeError):
            continue
        out.append(col)
    return out


def _months_across(df, periods: list, ids: list | None, sep: str, id_option: str = "--id-col"):
    """A sheet with one row per series and one column per month (规格 | 2024-01 | 2024-02 …: the usual layout of a
    monthly sales report) as the long frame. The series are named by ``--id-col`` or the id-like columns
    (:data:`COLUMN_NAMES`), else by every column that is not a month; columns left over are left out and named in
    the note."""
    import pandas as pd

    rest = [c for c in df.columns if c not in periods]
    if not ids:
        known = set(COLUMN_NAMES["unique_id"])
        ids = [c for c in rest if str(c).strip().lower() in known] or [c for c in rest if not is_total_word(c)]
    if not ids:
        raise ValueError(f"缺少序列名列 / no column names the series: add one, or name it with {id_option}")
    df, merged = _filled_down(df, ids)
    long = df.melt(id_vars=ids, value_vars=periods, var_name="ds", value_name="y")
    out = pd.DataFrame({"unique_id": _joined(long, ids), "ds": long["ds"], "y": long["y"]})
    said = (
        f"宽表:{len(periods)} 个月份列,序列名取自 {' + '.join(map(str, ids))} / wide layout: {len(periods)} period "
        f"columns, series named by {' + '.join(map(str, ids))}"
    )
    if merged:
        said += f"; 合并单元格已向下填充 / merged cells filled down: {', '.join(merged)}"
    left = [str(c) for c in rest if c not in ids]
    if left:
        said += f"; 未用的列 / columns not used: {', '.join(left)}"
    return _numbers_as_written(out, sep), said


def _year_and_month(df, by_name: dict):
    """``(year column, month column)`` when the file gives the period as a year and a month number (年份 and 月份,
    ``year`` and ``month``: a common layout of Chinese monthly reports), else ``None``. The month column must hold
    whole numbers 1-12 and the year column whole years, or it is some other kind of column."""
    import pandas as pd

    year = next((by_name[a] for a in ("year", "年", "年份", "年度") if a in by_name), None)
    month = next((by_name[a] for a in ("month", "月", "月份") if a in by_name), None)
    if year is None or month is None:
        return None
    y = pd.to_numeric(df[year], errors="coerce")
    m = pd.to_numeric(df[month], errors="coerce")
    # a row with neither (a report's 合计 row) says nothing about the columns; it is left to the totals' rule
    both = df[year].isna() & df[month].isna()
    y, m = y[~both], m[~both]
    if y.empty or y.isna().any() or m.isna().any() or (y % 1).any() or (m % 1).any():
        return None
    if not (m.between(1, 12).all() and y.between(1000, 9999).all()):
        return None
    return year, month


def _numeric_column(col, sep: str) -> bool:
    """Whether a column holds numbers (or numbers written with thousands separators, as
    :func:`_numbers_as_written` reads them) in every filled cell, and at least one."""
    import pandas as pd

    if col.dtype.kind in "iuf":
        return bool(col.notna().any())
    text = col.astype("string").str.strip()
    filled = text.notna() & (text != "")
    if not filled.any():
        return False
    fits = text.str.fullmatch(_GROUPED[";" if sep == ";" else ","]).fillna(False)
    return bool((fits | ~filled).all()) or bool(pd.to_numeric(text[filled], errors="coerce").notna().all())


def with_columns(reading: dict[str, Any], shaped: str | None) -> dict[str, Any]:
    """The engine's reading of the input with what :func:`shape_columns` did put first, under ``columns`` and at
    the head of ``note`` (the order things happened in); ``reading`` itself is changed and returned."""
    if shaped:
        reading["columns"] = shaped
        reading["note"] = "; ".join(x for x in (shaped, reading.get("note")) if x)
    return reading


def forecast_csv(out) -> bytes:
    """The forecasts of :func:`.engine.forecast` as the CSV ``kejing forecast run`` writes (UTF-8, dates as
    ``2025-01-01``, four decimals). Why one writer: the page's download of a file forecast and the command's
    output are meant to be the same file."""
    table = out.copy()
    table["ds"] = table["ds"].dt.strftime("%Y-%m-%d")
    return table.to_csv(index=False, float_format="%.4f").encode()
