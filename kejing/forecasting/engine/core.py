"""``forecast``: long-format frame in, long-format forecasts out, locally, in processes or on a Dask cluster.

Input: columns ``unique_id, ds, y`` (pandas or polars), monthly ``ds`` (any day of the month is read as that
month). Months missing inside a series count as zero sales, duplicates of a month are summed. Each series is
forecast from the month after its own last month. Output (same library as the input): ``unique_id, ds, yhat,
lo_<level>, hi_<level> ..., model``, ``ds`` the first day of each month.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from .models import METHODS, Settings, forecast_one, z_value

CHUNK = 512  # series per task: large enough to hide scheduling cost, small enough to balance two workers


class ForecastInputError(ValueError):
    """The input frame is not long format ``unique_id, ds, y``; the message names the column or row."""


@dataclass
class Panel:
    """Series as arrays: ``ids`` (sorted), ``starts`` (month index of the first value), ``values`` (one array each)."""

    ids: list
    starts: np.ndarray
    values: list[np.ndarray]


def to_panel(df: Any) -> Panel:
    """Normalise a pandas/polars long frame into a :class:`Panel` (sorted ids, gap months filled with 0)."""
    if hasattr(df, "to_pandas") and not isinstance(df, pd.DataFrame):
        df = df.to_pandas()
    if not isinstance(df, pd.DataFrame):
        raise ForecastInputError("需要 DataFrame / expected a pandas or polars DataFrame")
    missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
    if missing:
        raise ForecastInputError(f"缺少列 / missing column(s): {', '.join(missing)}")
    if len(df) == 0:
        return Panel([], np.zeros(0, dtype=np.int64), [])
    ds = pd.to_datetime(df["ds"], errors="coerce")
    bad = ds.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ForecastInputError(
            f"第 {row + 2} 行 ds 不是日期 / row {row + 2}: ds {df['ds'].iloc[row]!r} is not a date"
        )
    y = pd.to_numeric(df["y"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ForecastInputError(f"第 {row + 2} 行 y 不是数字 / row {row + 2}: y {df['y'].iloc[row]!r} is not a number")
    month = (ds.dt.year * 12 + ds.dt.month - 1).to_numpy(dtype=np.int64)
    codes, ids = pd.factorize(df["unique_id"], sort=True)
    order = np.lexsort((month, codes))
    codes, month, y = codes[order], month[order], y[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts_idx = np.r_[0, bounds]
    ends_idx = np.r_[bounds, len(codes)]
    values: list[np.ndarray] = []
    starts = month[starts_idx]
    for a, b, first in zip(starts_idx.tolist(), ends_idx.tolist(), starts.tolist(), strict=True):
        mo = month[a:b]
        if b - a == mo[-1] - first + 1 and (b - a < 2 or np.all(np.diff(mo) == 1)):
            values.append(y[a:b].copy())
        else:  # gaps or duplicate months: sum into a dense month grid
            values.append(np.bincount(mo - first, weights=y[a:b], minlength=int(mo[-1] - first + 1)))
    return Panel(list(ids), starts, values)


def _run_chunk(values: Sequence[np.ndarray], starts: Sequence[int], h: int, method: str, settings: Settings):
    """Forecast a list of series; module-level so that processes and Dask workers can import it."""
    means = np.empty((len(values), h))
    sigmas = np.empty((len(values), h))
    models: list[str] = []
    for i, (y, s) in enumerate(zip(values, starts, strict=True)):
        res = forecast_one(np.asarray(y, dtype=float), int(s), h, method, settings)
        means[i], sigmas[i] = res.mean, res.sigma
        models.append(res.model)
    return means, sigmas, models


def forecast_panel(
    panel: Panel,
    h: int,
    method: str = "kejing",
    settings: Settings | None = None,
    n_jobs: int = 1,
    dask_client: Any = None,
    chunk: int = CHUNK,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Means, sigmas (series x h) and model names, computed in chunks locally, in processes or on Dask."""
    settings = settings or Settings()
    if method not in METHODS:
        raise ValueError(f"未知预测方法 / unknown method {method!r}; use one of {', '.join(METHODS)}")
    n = len(panel.values)
    if n == 0:
        return np.zeros((0, h)), np.zeros((0, h)), []
    parts = [(panel.values[i : i + chunk], panel.starts[i : i + chunk].tolist()) for i in range(0, n, chunk)]
    if dask_client is not None:
        futures = [dask_client.submit(_run_chunk, v, s, h, method, settings, pure=False) for v, s in parts]
        results = dask_client.gather(futures)
    elif n_jobs != 1 and len(parts) > 1:
        workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
        k = len(parts)
        with ProcessPoolExecutor(max_workers=min(workers, k), mp_context=get_context("fork")) as pool:
            vals, starts = [p[0] for p in parts], [p[1] for p in parts]
            results = list(pool.map(_run_chunk, vals, starts, [h] * k, [method] * k, [settings] * k))
    else:
        results = [_run_chunk(v, s, h, method, settings) for v, s in parts]
    means = np.vstack([r[0] for r in results])
    sigmas = np.vstack([r[1] for r in results])
    models = [name for r in results for name in r[2]]
    return means, sigmas, models


def _month_start(index: np.ndarray) -> np.ndarray:
    years, months = index // 12, index % 12 + 1
    return np.array([dt.date(int(a), int(b), 1) for a, b in zip(years, months, strict=True)], dtype="datetime64[D]")


def forecast(
    df: Any,
    horizon: int,
    season: int = 12,
    level: tuple[int, ...] = (80, 95),
    method: str = "kejing",
    n_jobs: int = 1,
    dask_client: Any = None,
    *,
    spring_festival: str | bool = "auto",
    settings: Settings | None = None,
    chunk: int = CHUNK,
):
    """Forecast every series of ``df`` ``horizon`` months ahead with ``method`` (``kejing``, ``seasonal_naive``,
    ``auto_ets``) and normal prediction intervals at each ``level`` %, never below zero.

    ``n_jobs`` > 1 (or -1 for all cores) forks local processes; ``dask_client`` (a ``distributed.Client``) sends
    the same chunks to a Dask cluster. All three give identical numbers because every series is forecast on
    its own. ``chunk`` is the number of series per task.
    """
    if horizon < 1:
        raise ValueError("horizon 必须 ≥ 1 / horizon must be at least 1")
    base = settings or Settings()
    settings = replace(base, season=season, levels=tuple(level), spring_festival=spring_festival)
    is_polars = not isinstance(df, pd.DataFrame) and type(df).__module__.startswith("polars")
    panel = to_panel(df)
    means, sigmas, models = forecast_panel(
        panel, horizon, method, settings, n_jobs=n_jobs, dask_client=dask_client, chunk=chunk
    )
    k = len(panel.ids)
    last = panel.starts + np.array([len(v) for v in panel.values], dtype=np.int64)
    months = (last[:, None] + np.arange(horizon)[None, :]).ravel()
    out = {
        "unique_id": np.repeat(np.array(panel.ids, dtype=object), horizon),
        "ds": _month_start(months) if k else np.array([], dtype="datetime64[D]"),
        "yhat": means.ravel(),
    }
    for lv in level:
        z = z_value(lv)
        out[f"lo_{lv}"] = np.maximum(means - z * sigmas, 0.0).ravel()
        out[f"hi_{lv}"] = (means + z * sigmas).ravel()
    out["model"] = np.repeat(np.array(models, dtype=object), horizon)
    frame = pd.DataFrame(out)
    frame["ds"] = pd.to_datetime(frame["ds"])
    if is_polars:
        import polars as pl

        return pl.from_pandas(frame)
    return frame
