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
import sys
from pathlib import Path

from .series_file import UnreadableFile, forecast_csv, read_frame, shape_columns, with_columns


def _read_input(path: str):
    """The file at ``path`` as a frame (:func:`.series_file.read_frame`); one that is missing or cannot be read
    ends the command with the reason (a cell the engine cannot read is a ``ValueError`` the command reports)."""
    p = Path(path)
    if not p.exists():
        raise SystemExit(f"找不到文件 / file not found: {path}")
    try:
        return read_frame(p.read_bytes(), p.name)
    except UnreadableFile as exc:
        raise SystemExit(str(exc)) from None


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
    return shape_columns(df, args.id_col, args.date_col, args.value_col, df.attrs.get("sep", ","))


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
    with_columns(out["input"], shaped)
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
    read = with_columns(dict(out.attrs.get("input", {})), shaped)
    Path(args.output).write_bytes(forecast_csv(out))
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


def cmd_bench_ledger_import(args: argparse.Namespace) -> int:
    from .bench_import import bench_ledger_import

    out = bench_ledger_import(args.customers, history=args.history)
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
    c = bench.add_parser("ledger-import", help="the ledger import's writer vs the ORM writer it replaced")
    c.add_argument("--customers", type=int, default=10000, help="shops of the demo company built for it")
    c.add_argument("--history", action="store_true", help="import every month into an emptied ledger (a first load)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_ledger_import)
