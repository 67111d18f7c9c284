"""``forecast``: long-format frame in, long-format forecasts out, locally, in processes or on a Dask cluster.

Input: columns ``unique_id, ds, y`` (pandas or polars), monthly ``ds`` (any day of the month is read as that
month). Months missing inside a series count as zero sales, duplicates of a month are summed. Each series is
forecast from the month after its own last month. Output (same library as the input): ``unique_id, ds, yhat,
lo_<level>, hi_<level> ..., model``, ``ds`` the first day of each month.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from . import tradingdays
from .blend import blend_regular, mix_auto_ets, season_intermittent
from .models import (
    METHODS,
    RegularParts,
    SeriesForecast,
    Settings,
    forecast_one,
    launch_months,
    unpack_groups,
    z_value,
)
from .months import MonthError, bare_years, read_dates

CHUNK = 512  # series per task: large enough to hide scheduling cost, small enough to balance two workers
MIN_CHUNK = 64  # the smallest share a local process is given when a call has fewer than CHUNK x processes series


class ForecastInputError(ValueError):
    """The input frame is not long format ``unique_id, ds, y``; the message names the column or row."""


# The periods a file can be in: name -> (default season, base unit, periods of the base unit in one, Chinese
# word). Months are the engine's own period; the others are read so that `kejing forecast backtest` takes any
# long-format file with its own `--season` (quarterly sales with 4, daily footfall with 7) instead of folding
# it into months (quarters became one month of sales and two of zeros).
FREQUENCIES: dict[str, tuple[int, str, int, str]] = {
    "month": (12, "M", 1, "月"),
    "quarter": (4, "M", 3, "季度"),
    "year": (1, "M", 12, "年"),
    "week": (52, "D", 7, "周"),
    "day": (7, "D", 1, "日"),
}
MONDAY = 4  # 1970-01-05, day 4 after the epoch, was a Monday: weeks of mixed weekdays start on Mondays


@dataclass
class Panel:
    """Series as arrays: ``ids`` (sorted), ``starts`` (period index of the first value), ``values`` (one array
    each). A period index is ``(base - phase) // step`` of the base unit (months since year 0, or days since
    1970-01-01) of :data:`FREQUENCIES`; for months it is the month number itself."""

    ids: list
    starts: np.ndarray
    values: list[np.ndarray]
    # what reading the frame did beyond sorting (``to_panel`` counts it, the commands report it): periods inside a
    # series that had no row and count as 0, and rows added into a period that already had one
    periods_filled: int = 0
    rows_summed: int = 0
    freq: str = "month"
    phase: int = 0
    detected: bool = False
    rows_empty: int = 0  # rows whose y cell was empty, left out as if the row were not there

    @property
    def season(self) -> int:
        """The default season of the panel's frequency (12 for months)."""
        return FREQUENCIES[self.freq][0]

    def period_starts(self, index: np.ndarray) -> np.ndarray:
        """The first day (``datetime64[D]``) of each period index."""
        _season, unit, step, _word = FREQUENCIES[self.freq]
        base = np.asarray(index, dtype=np.int64) * step + self.phase
        if unit == "D":
            return base.astype("datetime64[D]")
        return _month_start(base)

    def reading(self) -> dict[str, Any]:
        """Rows, series, frequency, filled periods and summed rows, with a bilingual ``note`` when the frame was not
        one row per series and month. Why: a gap read as zero sales, two rows of a period added together or a
        file read as quarterly is the documented rule, but a planner scoring a file must be told it happened, not
        find it in the figures."""
        rows = sum(len(v) for v in self.values) - self.periods_filled + self.rows_summed
        word = FREQUENCIES[self.freq][3]
        out: dict[str, Any] = {
            "rows": rows,
            "series": len(self.ids),
            "frequency": self.freq,
            "periods_filled": self.periods_filled,
            "rows_summed": self.rows_summed,
        }
        if self.ids:  # the span read, as the first day of its first and last period ("2024-01-01")
            ends = self.starts + np.array([len(v) for v in self.values]) - 1
            first, last = self.period_starts(np.array([self.starts.min(), ends.max()]))
            out["first"], out["last"] = str(first), str(last)
        if self.rows_empty:
            out["rows_empty"] = self.rows_empty
        said = []
        if self.freq != "month":
            how = "按日期间隔识别 / told by the dates' spacing" if self.detected else "按指定频率 / as asked"
            said.append(f"按{word}读取({how})/ read as one value a {self.freq}")
        if self.periods_filled:
            said.append(
                f"{self.periods_filled} 个序列内缺失的{word}按 0 计 / {self.periods_filled} {self.freq}(s) missing "
                "inside a series counted as 0"
            )
        if self.rows_empty:
            said.append(f"{self.rows_empty} 行 y 为空,未计入 / {self.rows_empty} row(s) with an empty y left out")
        if self.rows_summed:
            said.append(
                f"{self.rows_summed} 行与同一序列同{word}的行相加 / {self.rows_summed} row(s) added to another row of "
                f"the same series and {self.freq}"
            )
        if said:
            out["note"] = "; ".join(said)
        return out


def _spacing(codes: np.ndarray, base: np.ndarray) -> tuple[int, int, int]:
    """Inside each series: the number of distinct values, the greatest common step between consecutive distinct
    values (0 when no series has two) and the base units the series span together. One sort (a hash-based
    ``np.unique`` took 0.3 s on 690,000 rows)."""
    order = np.lexsort((base, codes))
    c, v = codes[order], base[order]
    same = c[1:] == c[:-1]
    steps = np.diff(v)[same]
    firsts = np.r_[True, ~same]
    lasts = np.r_[~same, True]
    distinct = len(v) - int(np.count_nonzero(steps == 0))
    covered = int((v[lasts] - v[firsts]).sum()) + int(firsts.sum())
    moves = steps[steps > 0]
    return distinct, (int(np.gcd.reduce(moves)) if len(moves) else 0), covered


def _periods(ds: pd.Series, codes: np.ndarray, freq: str) -> tuple[np.ndarray, str, int]:
    """The period index of each row, the frequency and its phase (see :class:`Panel`).

    ``freq="auto"``: months, unless the dates say otherwise — every row a bare year (``2019``), or the months
    of each series always 3 or 12 apart (quarterly, yearly), or rows below the month (two days of one month in
    a series) on a 7-day grid (weekly) or on a 1-day grid that they fill at least half (daily). Rows of
    irregular days (orders, transactions) stay summed into their months, as before. A named frequency sums the
    rows into its calendar periods (weeks from Monday, unless every row falls on one weekday).
    """
    if freq != "auto" and freq not in FREQUENCIES:
        raise ForecastInputError(f"未知频率 / unknown frequency {freq!r}; use auto, {', '.join(FREQUENCIES)}")
    years = bare_years(ds) if freq in ("auto", "year") else None
    if years is not None:
        return years, "year", 0
    try:
        dates = read_dates(ds, codes, periods=freq != "month")
        month = dates.months()
        days = None
        if freq == "auto":
            freq = "month"
            months, step, _covered = _spacing(codes, month)
            if months < len(month):
                days = dates.days()
                distinct, step, covered = _spacing(codes, days)
                if distinct > months and (step == 7 or (step == 1 and distinct >= 0.5 * covered)):
                    freq = "week" if step == 7 else "day"
            else:
                freq = {3: "quarter", 12: "year"}.get(step, "month")
        _season, unit, step, _word = FREQUENCIES[freq]
        if unit == "M":
            base = month
        else:
            base = days if days is not None else dates.days()
    except MonthError as exc:
        raise ForecastInputError(str(exc)) from exc
    if step == 1:
        return base, freq, 0
    rest = base % step
    phase = int(rest[0]) if (rest == rest[0]).all() else (MONDAY if unit == "D" else 0)
    return (base - phase) // step, freq, phase


def to_panel(df: Any, freq: str = "month") -> Panel:
    """Normalise a pandas/polars long frame into a :class:`Panel` (sorted ids, gap periods filled with 0, rows of
    one period summed; ``freq`` as :func:`_periods` reads it).

    A row with an empty ``y`` is left out, as if it were not in the file: inside a series its month then counts
    as 0 like any month without a row, before a series' first or after its last figure it is not part of the
    series. Why: exports of sales systems leave a cell empty for "no figure" as often as they leave the row out,
    and refusing the whole file over it scored nothing; the reading's note says how many rows it was. A ``y``
    that is text (``many``) is still refused with its line: that is a mistake, not a missing figure.
    """
    if hasattr(df, "to_pandas") and not isinstance(df, pd.DataFrame):
        df = df.to_pandas()
    if not isinstance(df, pd.DataFrame):
        raise ForecastInputError("需要 DataFrame / expected a pandas or polars DataFrame")
    # " DS" or "Y" from a spreadsheet's header are the columns meant
    named = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in ("unique_id", "ds", "y") if c not in named]
    if missing:
        found = ", ".join(str(c) for c in df.columns)
        raise ForecastInputError(f"缺少列 / missing column(s): {', '.join(missing)}(现有列 / found: {found})")
    df = pd.DataFrame({c: df[named[c]].reset_index(drop=True) for c in ("unique_id", "ds", "y")})
    if len(df) == 0:
        return Panel([], np.zeros(0, dtype=np.int64), [], freq="month" if freq == "auto" else freq)
    codes, ids = pd.factorize(df["unique_id"], sort=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise ForecastInputError(f"第 {row + 2} 行 unique_id 为空 / row {row + 2}: unique_id is empty")
    month, chosen, phase = _periods(df["ds"], codes, freq)
    y = pd.to_numeric(df["y"], errors="coerce").to_numpy(dtype=float)
    # an empty y is a month without a figure, read like a month without a row (see the docstring); a text that
    # is not a number, or an infinity, is a mistake and refused with its file line
    empty = (df["y"].isna() | (df["y"].astype(str).str.strip() == "")).to_numpy()
    bad = ~np.isfinite(y) & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        shown = repr(str(df["y"].iloc[row]))
        raise ForecastInputError(f"第 {row + 2} 行 y 不是数字 / row {row + 2}: y {shown} is not a number")
    dropped = int(empty.sum())
    if dropped:
        if dropped == len(y):
            raise ForecastInputError("y 列全部为空 / every y is empty: nothing to forecast")
        keep = ~empty
        kept, codes = np.unique(codes[keep], return_inverse=True)
        ids = ids[kept]
        month, y = month[keep], y[keep]
    order = np.lexsort((month, codes))
    codes, month, y = codes[order], month[order], y[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts_idx = np.r_[0, bounds]
    ends_idx = np.r_[bounds, len(codes)]
    values: list[np.ndarray] = []
    starts = month[starts_idx]
    filled = summed = 0
    for a, b, first in zip(starts_idx.tolist(), ends_idx.tolist(), starts.tolist(), strict=True):
        mo = month[a:b]
        span = int(mo[-1] - first + 1)
        if b - a == span and (b - a < 2 or np.all(np.diff(mo) == 1)):
            values.append(y[a:b].copy())
        else:  # gaps or repeated periods: sum into a dense period grid
            present = int(np.count_nonzero(np.diff(mo))) + 1
            filled += span - present
            summed += (b - a) - present
            values.append(np.bincount(mo - first, weights=y[a:b], minlength=span))
    return Panel(list(ids), starts, values, filled, summed, chosen, phase, freq == "auto", dropped)


def _run_chunk(flat: np.ndarray, lengths: np.ndarray, starts: Sequence[int], h: int, method: str, settings: Settings):
    """Forecast the series of one chunk (module-level so that processes and Dask workers can import it).

    The chunk travels as one array of all its months plus the series lengths, and comes back as one array of
    the packed :class:`RegularParts` of its regular series (with their lengths and positions) plus the finished
    :class:`SeriesForecast` of the others: a few large objects instead of thousands of small ones, whose
    pickling would otherwise be a serial cost of the client.
    """
    values = np.split(flat, np.cumsum(lengths)[:-1])
    packed: list[np.ndarray] = []
    positions: list[int] = []
    finished: dict[int, SeriesForecast] = {}
    for i, (y, s) in enumerate(zip(values, starts, strict=True)):
        res = forecast_one(y, int(s), h, method, settings)
        if isinstance(res, RegularParts):
            packed.append(res.pack())
            positions.append(i)
        else:
            finished[i] = res
    sizes = np.array([len(a) for a in packed], dtype=np.int64)
    return (np.concatenate(packed) if packed else np.zeros(0)), sizes, positions, finished, len(values)


def forecast_panel(
    panel: Panel,
    h: int,
    method: str = "kejing",
    settings: Settings | None = None,
    n_jobs: int = 1,
    dask_client: Any = None,
    chunk: int = CHUNK,
    details: bool = False,
) -> tuple:
    """Means, sigmas (series x h) and model names, computed in chunks locally, in processes or on Dask.

    The per-series work (classing, local candidates, backtest origins) runs in the chunks; the pooled part of
    the Kejing method (global autoregressions, learned blend weights: :mod:`.blend`) runs here afterwards, on
    all regular series in series order. With ``details`` also the standardised backtest residuals and
    calibration pool of each series (see :func:`calibrate_widths`) and the weekday effect taken out
    (:class:`tradingdays.TradingDays`, or None), which :func:`forecast` and the backtest report.
    """
    settings = settings or Settings()
    if method not in METHODS:
        raise ValueError(f"未知预测方法 / unknown method {method!r}; use one of {', '.join(METHODS)}")
    n = len(panel.values)
    if n == 0:
        empty = (np.zeros((0, h)), np.zeros((0, h)), [])
        return (*empty, [], [], None) if details else empty
    if method == "kejing":
        # each series from its launch (models.launch_months): the months before a first sale are not demand
        cut = np.array([launch_months(y, settings) for y in panel.values], dtype=np.int64)
        if cut.any():
            panel = replace(
                panel,
                values=[y[c:] for y, c in zip(panel.values, cut.tolist(), strict=True)],
                starts=panel.starts + cut,
            )
    # the Kejing method forecasts monthly series without their months' weekday make-up and puts the forecast
    # months' back at the end (tradingdays.py); fitted here, once, so local, process and Dask runs stay identical
    monthly = method == "kejing" and panel.freq == "month"
    days = tradingdays.fit(panel.values, panel.starts, settings) if monthly else None
    ahead = None
    if days is not None:
        lengths = np.array([len(y) for y in panel.values])
        factors = days.factors(panel.starts, lengths + h)
        ahead = np.stack([f[k:] for f, k in zip(factors, lengths.tolist(), strict=True)])
        panel = replace(panel, values=[y / f[: len(y)] for y, f in zip(panel.values, factors, strict=True)])
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    if n_jobs != 1 and dask_client is None and workers > 1:
        # a few hundred series would be one chunk, one process: split them so that every process gets a share
        # (AutoETS costs ~30 ms a series), down to MIN_CHUNK series so a small file stays in this process
        chunk = min(chunk, max(MIN_CHUNK, -(-n // workers)))
    parts = []
    for i in range(0, n, chunk):
        vals = panel.values[i : i + chunk]
        lengths = np.array([len(v) for v in vals], dtype=np.int64)
        parts.append((np.concatenate(vals).astype(float), lengths, panel.starts[i : i + chunk].tolist()))
    # threads for the pooled part after the chunks (blend.blend_regular): the processes the run was given, whose
    # cores sit idle by then; on Dask, the client's own cores
    threads = (os.cpu_count() or 1) if dask_client is not None else max(1, workers)
    if dask_client is not None:
        futures = [dask_client.submit(_run_chunk, f, ln, s, h, method, settings, pure=False) for f, ln, s in parts]
        results = dask_client.gather(futures)
    elif n_jobs != 1 and len(parts) > 1:
        k = len(parts)
        with ProcessPoolExecutor(max_workers=min(workers, k), mp_context=get_context("fork")) as pool:
            cols = list(zip(*parts, strict=True))
            results = list(pool.map(_run_chunk, *cols, [h] * k, [method] * k, [settings] * k))
    else:
        results = [_run_chunk(f, ln, s, h, method, settings) for f, ln, s in parts]
    items: list = []
    for flat, sizes, positions, finished, count in results:
        chunk_items: list = [finished.get(j) for j in range(count)]
        for j, a in zip(positions, np.split(flat, np.cumsum(sizes)[:-1]) if len(sizes) else [], strict=True):
            chunk_items[j] = a
        items.extend(chunk_items)
    regular = [i for i, x in enumerate(items) if isinstance(x, np.ndarray)]  # packed RegularParts
    if regular:
        groups = unpack_groups([items[i] for i in regular])
        histories = [panel.values[i] for i in regular]
        blended = blend_regular(histories, panel.starts[regular], groups, h, settings, threads=threads)
        if method == "kejing" and n <= settings.small_call_series:
            blended = mix_auto_ets(histories, blended, h, settings)
        for i, res in zip(regular, blended, strict=True):
            items[i] = res
    if method == "kejing":
        sparse = [i for i, x in enumerate(items) if x.pool == "intermittent"]
        factors = season_intermittent(panel.values, panel.starts, sparse, h, settings)
        if factors is not None:
            for i, f in zip(sparse, factors, strict=True):
                x = items[i]
                items[i] = replace(x, mean=x.mean * f, sigma=x.sigma * f)
    means = np.vstack([x.mean for x in items])
    sigmas = np.vstack([x.sigma for x in items])
    if ahead is not None:
        means, sigmas = means * ahead, sigmas * ahead
    models = [x.model for x in items]
    if details:
        return means, sigmas, models, [x.resid for x in items], [x.pool for x in items], days
    return means, sigmas, models


def calibrate_widths(
    sigmas: np.ndarray, resids: Sequence[np.ndarray | None], pools: Sequence[str], levels: Sequence[int], settings
) -> dict[int, np.ndarray]:
    """Half-widths of the intervals (series x h) for each level, calibrated on the backtest residuals.

    ``resids[i]`` holds series i's rolling-origin errors divided by the sigma its chosen model gave on that fold.
    Were the normal intervals right, ``|z|`` would exceed the normal quantile ``z_level`` in (100 - level) % of
    cases. Per pool (regular and short series together; intermittent apart) and per horizon step, the width
    multiplier is the split-conformal quantile of ``|z|`` over all series of the pool (the
    ceil((n + 1) * level) / n-th order statistic); steps beyond the backtest horizon take its last step. Each
    series then gets its own factor, the mean ``|z|`` of its residuals over the pool's mean ``|z|``, shrunk toward
    1 with ``settings.calibrate_shrink`` pseudo-residuals (two folds give a series only a handful of residuals).
    Series without residuals (short) take the pool's multiplier alone; a pool with fewer than
    ``settings.calibrate_min`` residuals, and the ``new`` class, keep the normal ``z_level``. Computed after all
    chunks are gathered, in series order, so local, process and Dask runs stay identical.
    """
    n, h = sigmas.shape
    widths = {lv: sigmas * z_value(lv) for lv in levels}
    if not settings.calibrate or n == 0:
        return widths
    pool_of = np.asarray(pools, dtype=object)
    for pool in ("regular", "intermittent"):
        members = np.flatnonzero(pool_of == pool)
        tested = [i for i in members.tolist() if resids[i] is not None]
        if not tested:
            continue
        folds = max(resids[i].shape[0] for i in tested)
        steps = max(resids[i].shape[1] for i in tested)
        z = np.full((len(tested), folds, steps), np.nan)  # |z| of every tested series, padded with NaN
        for row, i in enumerate(tested):
            r = resids[i]
            z[row, : r.shape[0], : r.shape[1]] = np.abs(r)
        finite = np.isfinite(z)
        everything = z[finite]
        if len(everything) < settings.calibrate_min:
            continue
        centre = float(everything.mean())
        k = settings.calibrate_shrink
        factor = np.ones(n)
        if centre > 0:
            factor[tested] = (np.where(finite, z, 0.0).sum(axis=(1, 2)) / centre + k) / (finite.sum(axis=(1, 2)) + k)
        by_step = [z[:, :, j][finite[:, :, j]] for j in range(steps)]
        for lv in levels:
            q = np.empty(steps)
            for j, v in enumerate(by_step):
                v = v if len(v) >= settings.calibrate_min else everything
                rank = min(len(v), math.ceil((len(v) + 1) * lv / 100.0))
                q[j] = np.partition(v, rank - 1)[rank - 1]
            per_step = q[np.minimum(np.arange(h), steps - 1)]
            widths[lv][members] = sigmas[members] * per_step[None, :] * factor[members, None]
    return widths


def _month_start(index: np.ndarray) -> np.ndarray:
    years, months = index // 12, index % 12 + 1
    return np.array([dt.date(int(a), int(b), 1) for a, b in zip(years, months, strict=True)], dtype="datetime64[D]")


def call_settings(panel: Panel, settings: Settings | None, season: int | None, spring_festival: str | bool) -> Settings:
    """The settings of one call on ``panel``: ``season`` (``None`` = the frequency's own, 12 for months), the
    Spring Festival move for monthly panels only (it moves a month's sales, which a quarter or a week does not
    have), and, off months, whole-season backtests one season long (at least 3 periods) where months use 12."""
    season = season or panel.season
    out = replace(settings or Settings(), season=season, spring_festival=spring_festival)
    if panel.freq != "month":
        out = replace(out, spring_festival=False, select_horizon=max(season, 3))
    return out


def forecast(
    df: Any,
    horizon: int,
    season: int | None = None,
    level: tuple[int, ...] = (80, 95),
    method: str = "kejing",
    n_jobs: int = 1,
    dask_client: Any = None,
    *,
    spring_festival: str | bool = "auto",
    settings: Settings | None = None,
    chunk: int = CHUNK,
    freq: str = "month",
):
    """Forecast every series of ``df`` ``horizon`` months ahead with ``method`` (``kejing``, ``seasonal_naive``,
    ``auto_ets``) and prediction intervals at each ``level`` %, never below zero.

    Intervals are ``yhat +- width``: the model's sigma times a multiplier calibrated on the rolling-origin
    backtest errors (:func:`calibrate_widths`; ``Settings(calibrate=False)`` gives the plain normal
    ``z_level * sigma``). The multiplier pools the backtests of all series in ``df`` of the same class, so a
    series' interval (never its forecast) depends on the other series forecast with it.

    ``n_jobs`` > 1 (or -1 for all cores) forks local processes; ``dask_client`` (a ``distributed.Client``) sends
    the same chunks to a Dask cluster. All three give identical numbers: the per-series work is the same whatever
    the chunk, and the pooled part (:mod:`.blend`: global models, learned weights) runs once afterwards on all
    series in a fixed order. A regular series' forecast therefore depends on the other series of the call.
    ``chunk`` is the number of series per task.

    ``freq`` is the period of the rows (:data:`FREQUENCIES`): ``"month"``, the engine's own and the default, sums
    the rows of a month; ``"auto"`` tells the period from the dates (:func:`_periods`), as the command line does;
    ``season`` defaults to the period's (12, 4, 1, 52, 7). A horizon counts periods.

    A pandas result carries ``attrs["input"]``, :meth:`Panel.reading` of the input (months filled with 0, rows
    summed into a month), so that ``kejing forecast run`` can say what it did with the file.
    """
    if horizon < 1:
        raise ValueError("horizon 必须 ≥ 1 / horizon must be at least 1")
    is_polars = not isinstance(df, pd.DataFrame) and type(df).__module__.startswith("polars")
    panel = to_panel(df, freq)
    settings = replace(call_settings(panel, settings, season, spring_festival), levels=tuple(level))
    means, sigmas, models, resids, pools, days = forecast_panel(
        panel, horizon, method, settings, n_jobs=n_jobs, dask_client=dask_client, chunk=chunk, details=True
    )
    widths = calibrate_widths(sigmas, resids, pools, level, settings)
    k = len(panel.ids)
    last = panel.starts + np.array([len(v) for v in panel.values], dtype=np.int64)
    months = (last[:, None] + np.arange(horizon)[None, :]).ravel()
    out = {
        "unique_id": np.repeat(np.array(panel.ids, dtype=object), horizon),
        "ds": panel.period_starts(months) if k else np.array([], dtype="datetime64[D]"),
        "yhat": means.ravel(),
    }
    for lv in level:
        out[f"lo_{lv}"] = np.maximum(means - widths[lv], 0.0).ravel()
        out[f"hi_{lv}"] = (means + widths[lv]).ravel()
    out["model"] = np.repeat(np.array(models, dtype=object), horizon)
    frame = pd.DataFrame(out)
    frame["ds"] = pd.to_datetime(frame["ds"])
    if is_polars:
        import polars as pl

        return pl.from_pandas(frame)
    frame.attrs["input"] = panel.reading()
    frame.attrs["weekday_effect"] = days.summary() if days is not None else {"found": False}
    return frame
