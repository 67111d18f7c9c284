"""Commands this app adds to ``kejing`` (see ``kejing/cli.py``); none of them needs the database.

* ``kejing forecast backtest --input FILE.csv --horizon H --folds K [--season S] [--n-jobs N]
  [--id-col A[,B]] [--date-col C] [--value-col D] [--spring-festival auto|on|off] [--festival-window DAYS]
  [--trading-days on|off] [--json]``
* ``kejing forecast run --input FILE.csv --horizon H --output FILE.csv [--n-jobs N] [--id-col …] [--date-col …]
  [--value-col …] [--spring-festival auto|on|off] [--festival-window DAYS] [--trading-days on|off]``
* ``kejing allocate --input LINES.csv --supply SUPPLY.csv --output FILE.csv [--mode tier --tier-caps CAPS.csv]``
* ``kejing bench forecast --series N [--json]`` and ``kejing bench allocate --lines N [--json]``
* ``kejing cycle open-round [--month YYYY-MM]``, ``kejing cycle open-week [--date D]``,
  ``kejing cycle import-ledger FILE [--dry-run] [--json]`` — these use the database (run them from cron on the
  1st of the month and on Mondays)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

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


def _read_input(path: str):
    """A CSV (UTF-8 or GBK; comma, tab or semicolon) or the first sheet of an ``.xlsx`` workbook as a frame.

    Why the workbook: a sales manager's history lives in Excel, and saving it as CSV first loses nothing but
    time (date cells come through as dates, which the engine reads as their month)."""
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise SystemExit(f"找不到文件 / file not found: {path}")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            return pd.read_excel(p, engine="openpyxl")  # attrs["sep"] absent: numbers come as numbers
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
            raise SystemExit(f"无法读取工作簿 / cannot read the workbook {path}: {exc}") from None
    for enc in ("utf-8-sig", "gbk"):
        try:
            with p.open(encoding=enc) as f:
                head = f.readline()
            # the separator that splits the header most: comma, tab (a copy from a spreadsheet) or semicolon
            # (spreadsheets of locales with a decimal comma); a one-column header keeps the comma
            sep = max((",", "\t", ";"), key=head.count)
            df = _numbers_as_written(pd.read_csv(p, encoding=enc, sep=sep), sep)
            df.attrs["sep"] = sep
            return df
        except UnicodeDecodeError:
            continue
    raise SystemExit(f"无法读取编码 / cannot decode {path} (UTF-8 or GBK)")


# Column names a sales export uses for the three columns of the long format (header case and spaces ignored),
# read when the file lacks the canonical name; the engine itself knows only unique_id, ds and y.
COLUMN_NAMES = {
    "ds": ("ds", "date", "month", "period", "time", "日期", "月份", "年月", "期间", "时间", "月"),
    "y": (
        "y", "sales", "qty", "quantity", "value", "amount", "demand", "volume", "units", "sold",
        "销量", "数量", "销售量", "需求量", "订购量", "订单量", "销售额", "金额",
    ),
    "unique_id": (
        "unique_id", "id", "series", "item", "sku", "product", "store", "shop", "customer", "spec",
        "item_id", "sku_id", "product_id", "store_id", "shop_id", "customer_id", "customer_code", "spec_code",
        "序列", "编号", "商品", "品规", "规格", "客户", "门店",
        "客户编码", "规格编码", "门店编码", "商品编码", "卷烟编码", "零售户编码", "许可证号",
    ),
}  # fmt: skip


def _shape_columns(df, args: argparse.Namespace, sep: str):
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
    asked = {"unique_id": args.id_col, "ds": args.date_col, "y": args.value_col}
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
        df = df.drop(columns=[year_col, month_col]).assign(
            ds=df[year_col].astype(int).astype(str) + "-" + df[month_col].astype(int).astype(str).str.zfill(2)
        )
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
            option = {"ds": "--date-col", "y": "--value-col"}[role]
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
            return _months_across(df, periods, chosen.get("unique_id"), sep)
        raise ValueError(
            f"缺少列 / missing column(s): ds(日期 / the dates; 现有列 / found: {', '.join(found)});"
            "可用 --date-col 指定 / name it with --date-col"
        )
    ds = chosen["ds"][0]
    said = [f"{split[0]} + {split[1]} → ds"] if split is not None else []
    if "unique_id" not in chosen:
        rest = [c for c in df.columns if c != ds]
        is_number = {c: _numeric_column(df[c], sep) for c in rest}
        text = [str(c) for c in rest if not is_number[c]]
        values = chosen.get("y") or rest
        numeric = [c for c in values if is_number[c]]
        if "y" in chosen and [t for t in text if t != str(chosen["y"][0])]:
            # a text column beside the figures names the series more often than not: say so, do not add them up
            raise ValueError(
                f"缺少列 / missing column: unique_id(现有列 / found: {', '.join(found)});若 "
                f"{', '.join(t for t in text if t != str(chosen['y'][0]))} 是序列名,请用 --id-col 指定 / if that "
                "names the series, say so with --id-col"
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
                f"without numbers: {', '.join(text)}。可用 --id-col、--value-col 指定 / name them with --id-col "
                "and --value-col"
            )
    else:
        if "y" not in chosen:
            raise ValueError(
                f"缺少列 / missing column(s): y(销量 / the figures; 现有列 / found: {', '.join(found)});"
                "可用 --value-col 指定 / name it with --value-col"
            )
        ids = chosen["unique_id"]
        out = pd.DataFrame({"unique_id": _joined(df, ids), "ds": df[ds], "y": df[chosen["y"][0]]})
        moved = [(" + ".join(map(str, ids)), "unique_id"), (str(ds), "ds"), (str(chosen["y"][0]), "y")]
        said.append("列 / columns: " + ", ".join(f"{a} → {b}" for a, b in moved if a.strip().lower() != b))
    return _numbers_as_written(out, sep), "; ".join(said)


def _joined(df, cols: list):
    """The series' names from one or more columns, their values joined with "/" (store ``S1`` and item ``a`` ->
    ``S1/a``); an empty cell leaves the name empty, which the engine refuses with its row."""
    key = df[cols[0]].astype("string")
    for col in cols[1:]:
        key = key + "/" + df[col].astype("string")
    return key


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


def _months_across(df, periods: list, ids: list | None, sep: str):
    """A sheet with one row per series and one column per month (规格 | 2024-01 | 2024-02 …: the usual layout of a
    monthly sales report) as the long frame. The series are named by ``--id-col`` or the id-like columns
    (:data:`COLUMN_NAMES`), else by every column that is not a month; columns left over are left out and named in
    the note."""
    import pandas as pd

    rest = [c for c in df.columns if c not in periods]
    if not ids:
        known = set(COLUMN_NAMES["unique_id"])
        ids = [c for c in rest if str(c).strip().lower() in known] or rest
    if not ids:
        raise ValueError("缺少序列名列 / no column names the series: add one, or name it with --id-col")
    long = df.melt(id_vars=ids, value_vars=periods, var_name="ds", value_name="y")
    out = pd.DataFrame({"unique_id": _joined(long, ids), "ds": long["ds"], "y": long["y"]})
    said = (
        f"宽表:{len(periods)} 个月份列,序列名取自 {' + '.join(map(str, ids))} / wide layout: {len(periods)} period "
        f"columns, series named by {' + '.join(map(str, ids))}"
    )
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
    if y.isna().any() or m.isna().any() or (y % 1).any() or (m % 1).any():
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


def _write_csv(df, path: str) -> None:
    """``df.to_csv(path, index=False)``, through polars where it can take the frame.

    Why: for the million lines of a balancing run pandas spends 1.9 s formatting the CSV, more than the
    allocation itself (1.05 s); polars writes it in 0.25 s. On the benchmark's lines the bytes are the same;
    elsewhere the values are (polars writes 1e-7 where pandas writes 1e-07, and an empty text as ""). Polars takes
    a pandas frame through pyarrow; without it, or for a column of mixed numbers and text that pyarrow cannot
    type, or a column that is neither number nor text (polars writes booleans as true/false), pandas writes it.
    """
    try:
        import polars as pl
        import pyarrow as pa
    except ImportError:
        pl = pa = None
    if pl is not None and all(k in "iufO" for k in df.dtypes.map(lambda t: t.kind)):
        try:
            frame = pl.from_pandas(df)
        except (pa.ArrowException, ValueError, TypeError):
            frame = None
        if frame is not None:
            frame.write_csv(path)
            return
    df.to_csv(path, index=False)


def _fail(args: argparse.Namespace, exc: Exception) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
    else:
        print(f"错误 / error: {exc}", file=sys.stderr)
    return 2


def _progress(done: int, total: int, message: str) -> None:
    """One line a step on stderr (stdout keeps only the result, so ``--json`` output stays parseable)."""
    print(f"[{done}/{total}] {message}", file=sys.stderr, flush=True)


def _forecast_input(args: argparse.Namespace):
    """The input file as the engine's long frame, and what was done to its columns (see :func:`_shape_columns`)."""
    df = _read_input(args.input)
    return _shape_columns(df, args, df.attrs.get("sep", ","))


def _with_columns(reading: dict, shaped: str | None) -> dict:
    """The engine's reading of the input with the columns' note put first (the order things happened in)."""
    if shaped:
        reading["columns"] = shaped
        reading["note"] = "; ".join(x for x in (shaped, reading.get("note")) if x)
    return reading


def cmd_backtest(args: argparse.Namespace) -> int:
    from .engine import backtest

    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    try:
        df, shaped = _forecast_input(args)
        out = backtest(
            df,
            args.horizon,
            args.folds,
            season=args.season,
            freq=args.freq,
            methods=methods,
            step=args.step,
            n_jobs=args.n_jobs,
            spring_festival=args.spring_festival,
            settings=_settings(args),
            progress=None if args.quiet else _progress,
        )
    except ValueError as exc:
        return _fail(args, exc)
    _with_columns(out["input"], shaped)
    if not args.json:
        for m, d in out["methods"].items():
            print(f"{m:16s} MASE {d['mase']}  WAPE {d['wape']}  {d['seconds']} s")
        if "kejing_vs_auto_ets" in out:
            r = out["kejing_vs_auto_ets"]
            print(f"kejing / auto_ets: MASE x{r['mase_ratio']}, WAPE x{r['wape_ratio']}")
        if "weekday_effect" in out:
            w = out["weekday_effect"]
            print(f"工作日效应 / weekday effect: {w['found']} / {w['folds']} 折 / folds")
        if "note" in out:
            print(out["note"])
        if "note" in out["input"]:
            print(out["input"]["note"])
        return 0
    if not args.models:
        for d in out["methods"].values():
            d.pop("models", None)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .engine import forecast

    try:
        df, shaped = _forecast_input(args)
        out = forecast(
            df,
            args.horizon,
            season=args.season,
            freq=args.freq,
            method=args.method,
            n_jobs=args.n_jobs,
            spring_festival=args.spring_festival,
            settings=_settings(args),
        )
    except ValueError as exc:
        return _fail(args, exc)
    read = _with_columns(dict(out.attrs.get("input", {})), shaped)
    out["ds"] = out["ds"].dt.strftime("%Y-%m-%d")
    out.to_csv(args.output, index=False, float_format="%.4f")
    k = out["unique_id"].nunique()
    print(f"已写入 {k} 个序列的预测 / wrote forecasts of {k} series to {args.output}")
    if "note" in read:
        print(read["note"])
    effect = out.attrs.get("weekday_effect", {})
    if effect.get("found"):
        per = ", ".join(f"{d} {v:+.2f} %" for d, v in effect["percent_per_day"].items())
        print(
            f"已扣除工作日效应 / weekday effect taken out (p = {effect['p_value']}; "
            f"each day in place of a Sunday: {per})"
        )
    return 0


def cmd_allocate(args: argparse.Namespace) -> int:
    from .engine import AllocationError, allocate

    try:
        lines = _read_input(args.input)
        supply = _read_input(args.supply)
        t = _read_input(args.tier_caps) if args.tier_caps else None
    except ValueError as exc:
        return _fail(args, exc)
    caps = None
    if t is not None:
        if not {"tier", "cap"} <= set(t.columns):
            return _fail(args, ValueError("tier caps 需要 tier, cap 两列 / needs columns tier, cap"))
        caps = dict(zip(t["tier"].astype(int), t["cap"].astype(int), strict=True))
    try:
        res = allocate(lines, supply, mode=args.mode, tier_caps=caps)
    except AllocationError as exc:
        return _fail(args, exc)
    lines["allocated"] = res.allocated
    _write_csv(lines, args.output)
    summary = {
        "lines": len(lines),
        "groups": res.groups,
        "supply": res.supply_total,
        "placed": res.placed_total,
        "unplaced": res.supply_total - res.placed_total,
        "remainders": [
            {
                "spec": r.spec,
                "area": r.area,
                "supply": r.supply,
                "placed": r.placed,
                "unplaced": r.unplaced,
                "reason": r.reason,
                "message": r.message,
            }
            for r in res.remainders
        ],
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        print(f"已分配 {summary['placed']} / {summary['supply']},写入 {args.output} / placed, written")
        for r in summary["remainders"]:
            print(f"  {r['spec']} {r['area']}: 未分配 unplaced {r['unplaced']} — {r['message']}")
    return 0


def cmd_bench_forecast(args: argparse.Namespace) -> int:
    from .engine.bench import bench_forecast

    out = bench_forecast(
        args.series,
        horizon=args.horizon,
        n_jobs=args.n_jobs,
        ets_series=args.ets_series,
        dask=args.dask,
        repeats=args.repeats,
    )
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def cmd_bench_allocate(args: argparse.Namespace) -> int:
    from .engine.bench import bench_allocate

    out = bench_allocate(args.lines, baseline=not args.no_baseline, tier_baseline_lines=args.tier_baseline_lines)
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def cmd_open_round(args: argparse.Namespace) -> int:
    import datetime as dt

    from kejing.cli import _django

    _django()
    from django.utils import timezone

    from . import services

    if args.month:
        year, month = (int(x) for x in args.month.split("-"))
        target = dt.date(year, month, 1)
    else:
        today = timezone.localdate()
        target = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    rnd = services.open_round(target)
    print(f"预测轮次 {target:%Y-%m} 已开启 / round {target:%Y-%m} open (id {rnd.pk})")
    return 0


def cmd_open_week(args: argparse.Namespace) -> int:
    import datetime as dt

    from kejing.cli import _django

    _django()
    from django.utils import timezone

    from . import services

    day = dt.date.fromisoformat(args.date) if args.date else timezone.localdate()
    made = services.open_week(day)
    print(f"已创建 {made} 项周例会/周总结任务 / {made} weekly tasks created")
    return 0


def cmd_open_due(args: argparse.Namespace) -> int:
    import datetime as dt

    from kejing.cli import _django

    _django()
    from .schedule import open_due

    done = open_due(dt.date.fromisoformat(args.date) if args.date else None)
    month = done["round"]
    opened = f"轮次 {month} 已开启 / round {month} opened" if month else "轮次已存在 / round exists"
    print(f"{opened}; 周任务 {done['week_tasks']} 项 / {done['week_tasks']} weekly tasks created")
    return 0


def cmd_import_ledger(args: argparse.Namespace) -> int:
    from kejing.cli import _django

    _django()
    from django.contrib.auth import get_user_model

    from kejing.cli import read_input_table

    from . import services

    table = read_input_table(args.file)
    if table is None:
        return 2
    actor = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    report = services.import_ledger(actor, table, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        print(json.dumps(report, ensure_ascii=False, default=str, indent=1))
    return 0 if not report.get("errors") else 1


def _festival_argument(parser: argparse.ArgumentParser) -> None:
    from .engine.models import FESTIVAL_MODES

    parser.add_argument(
        "--spring-festival",
        default="auto",
        choices=list(FESTIVAL_MODES),
        help="move the January/February peak with the lunar festival: auto (where the history shows it, the "
        "default), on (always, where it can be estimated), off (never)",
    )
    parser.add_argument(
        "--festival-window",
        type=_window_days,
        default=0,
        metavar="DAYS",
        help="where the festival is moved, also try reading its peak as the buying of the DAYS days before it, "
        "split between January and February by the days each holds, and keep what fits each series better (0, "
        "the default: the festival's month only; the tobacco policy ships 21)",
    )
    parser.add_argument(
        "--trading-days",
        default="on",
        choices=["on", "off"],
        help="forecast monthly series without the effect of their months' weekday make-up where the file shows "
        "one (on, the default; an F test decides), or never (off)",
    )


def _window_days(text: str) -> int:
    """``--festival-window``: whole days from 0 to 45 (the weeks before the festival, not a season)."""
    from .engine.models import festival_window_days

    try:
        return festival_window_days(int(text) if text.strip().lstrip("-").isdigit() else text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _settings(args: argparse.Namespace):
    """The engine settings the command line changes (the trading-day switch and the festival buying window; the
    rest are the defaults)."""
    from .engine import Settings
    from .engine.models import festival_windows_of

    return Settings(trading_days=args.trading_days == "on", festival_windows=festival_windows_of(args.festival_window))


def _column_arguments(parser: argparse.ArgumentParser) -> None:
    """``--id-col``, ``--date-col`` and ``--value-col`` of both forecast commands (see :func:`_shape_columns`)."""
    parser.add_argument(
        "--id-col", help="column(s) naming each series, comma-separated (default: unique_id, else id, item, store …)"
    )
    parser.add_argument("--date-col", help="column of the dates (default: ds, else date, month, 日期, 月份 …)")
    parser.add_argument("--value-col", help="column of the figures (default: y, else sales, qty, value, 销量 …)")


def _period_arguments(parser: argparse.ArgumentParser) -> None:
    """``--freq`` and ``--season`` of both forecast commands: the file says its own period unless told."""
    from .engine.core import FREQUENCIES

    parser.add_argument(
        "--freq",
        default="auto",
        choices=["auto", *FREQUENCIES],
        help="period of the rows (default auto: told from the dates; month sums the rows of a month)",
    )
    parser.add_argument(
        "--season", type=int, default=None, help="season length (default: the period's own: 12, 4, 1, 52 or 7)"
    )


def register(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the ``kejing`` parser; ``bench`` is the subparsers of ``kejing bench``."""
    s = sub.add_parser("forecast", help="statistical demand forecasts from a long-format CSV (unique_id, ds, y)")
    fsub = s.add_subparsers(dest="what", required=True)
    c = fsub.add_parser("backtest", help="rolling-origin MASE/WAPE of Kejing's method vs SeasonalNaive and AutoETS")
    c.add_argument(
        "--input", required=True, help="CSV or .xlsx: unique_id, ds (dates), y; other headers see --id-col …"
    )
    c.add_argument("--horizon", type=int, required=True, help="periods forecast at each origin")
    c.add_argument("--folds", type=int, required=True, help="number of origins (the last one ends at each series' end)")
    _period_arguments(c)
    _column_arguments(c)
    c.add_argument("--step", type=int, default=None, help="periods between origins (default: the horizon)")
    c.add_argument("--methods", default="kejing,seasonal_naive,auto_ets", help="comma-separated methods to compare")
    c.add_argument("--models", action="store_true", help="with --json: also count the model chosen per series")
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument(
        "--n-jobs", type=int, default=-1, help="local processes for every method (default -1: all cores; 1: none)"
    )
    _festival_argument(c)
    c.set_defaults(func=cmd_backtest)
    c = fsub.add_parser("run", help="write forecasts with 80/95 %% intervals and the chosen model per series")
    c.add_argument("--input", required=True, help="CSV or .xlsx: unique_id, ds, y; other headers see --id-col …")
    c.add_argument("--horizon", type=int, required=True)
    c.add_argument("--output", required=True, help="output CSV: unique_id, ds, yhat, lo_80, hi_80, lo_95, hi_95, model")
    _period_arguments(c)
    _column_arguments(c)
    c.add_argument("--method", default="kejing", choices=["kejing", "seasonal_naive", "auto_ets"])
    c.add_argument("--n-jobs", type=int, default=-1, help="local processes (default -1: all cores; 1: none)")
    _festival_argument(c)
    c.set_defaults(func=cmd_run)

    s = sub.add_parser("cycle", help="the tobacco monthly cycle: open a round or a week, import the sales ledger")
    csub = s.add_subparsers(dest="what", required=True)
    c = csub.add_parser("open-round", help="open next month's forecast round and give every CM the phase tasks")
    c.add_argument("--month", help="the month forecast, YYYY-MM (default: next month)")
    c.set_defaults(func=cmd_open_round)
    c = csub.add_parser("open-week", help="put this week's Monday meeting and Friday summary on every CM's list")
    c.add_argument("--date", help="any day of the week, YYYY-MM-DD (default: today)")
    c.set_defaults(func=cmd_open_week)
    c = csub.add_parser(
        "open-due", help="open next month's round and this week's tasks where missing (for cron; the worker does it)"
    )
    c.add_argument("--date", help="act as if today were this day, YYYY-MM-DD (default: today)")
    c.set_defaults(func=cmd_open_due)
    c = csub.add_parser("import-ledger", help="import the sales ledger (动销台帐) from .xlsx/.csv")
    c.add_argument("file")
    c.add_argument("--dry-run", action="store_true", help="only check and report the rows")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_import_ledger)

    c = sub.add_parser("allocate", help="balance a supply into whole units per customer (exact totals)")
    c.add_argument(
        "--input", required=True, help="lines CSV: customer_id, spec, area, forecast[, demand, cap, min, tier]"
    )
    c.add_argument("--supply", required=True, help="supply CSV: spec, area, supply")
    c.add_argument("--output", required=True, help="the lines with an added column 'allocated'")
    c.add_argument("--mode", default="proportional", choices=["proportional", "tier"])
    c.add_argument("--tier-caps", help="CSV tier, cap (tier mode): per-customer cap of each tier 1..30")
    c.add_argument("--json", action="store_true", help="print the summary (placed, unplaced and reasons) as JSON")
    c.set_defaults(func=cmd_allocate)

    c = bench.add_parser("forecast", help="forecast throughput (model choice included) vs AutoETS")
    c.add_argument("--series", type=int, default=2000)
    c.add_argument("--horizon", type=int, default=3)
    c.add_argument("--n-jobs", type=int, default=2, help="processes for both methods (default 2)")
    c.add_argument("--ets-series", type=int, default=200, help="series timed for AutoETS (it is slow)")
    c.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster with 1 and 2 workers")
    c.add_argument("--repeats", type=int, default=2, help="timed runs of each; the fastest counts")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_forecast)
    c = bench.add_parser("allocate", help="allocation time vs a plain-Python baseline on the same lines")
    c.add_argument("--lines", type=int, default=1_000_000)
    c.add_argument("--no-baseline", action="store_true", help="skip the (slow) baseline")
    c.add_argument(
        "--tier-baseline-lines",
        type=int,
        default=20000,
        help="compare tier mode with its exact (slow) reference on the groups of this many first lines (0: skip)",
    )
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_allocate)
