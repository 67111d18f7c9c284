"""Synthetic monthly sales of cigarette shops, for benchmarks and tests (never for tuning: see the docs).

Each series is a shop x spec: a level (log-normal, so a few big sellers and many small ones), a trend, a summer
bump, a Spring Festival peak in the month that holds the festival that year (so it moves between January and
February), multiplicative noise; small shops sell in whole cartons with many zero months (intermittent); some
specs are new (a few months of history only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import festival_month, month_index


def retail_panel(
    series: int, months: int = 36, end: tuple[int, int] = (2025, 12), seed: int = 7, festival_boost: float = 0.6
) -> pd.DataFrame:
    """Long frame ``unique_id, ds, y`` of ``series`` series ending in month ``end``."""
    rng = np.random.default_rng(seed)
    last = month_index(*end)
    idx = np.arange(last - months + 1, last + 1)
    years, mon = idx // 12, idx % 12 + 1
    fest = np.array([festival_month(int(y)) == int(m) for y, m in zip(years, mon, strict=True)])
    summer = np.isin(mon, (7, 8)).astype(float)
    level = rng.lognormal(mean=2.5, sigma=1.2, size=series)
    trend = rng.normal(0.0, 0.01, size=series)
    t = np.arange(months)
    shape = (
        level[:, None]
        * np.exp(trend[:, None] * t[None, :])
        * (1 + festival_boost * fest[None, :] + 0.15 * summer[None, :])
        * rng.lognormal(0.0, 0.15, size=(series, months))
    )
    y = np.round(shape)
    small = level < 3
    y[small] = rng.poisson(shape[small] * 0.6)
    new_len = rng.integers(1, 12, size=series)
    is_new = rng.random(series) < 0.05
    ids = np.array([f"S{i:06d}" for i in range(series)], dtype=object)
    first = np.where(is_new, months - new_len, 0)
    keep = t[None, :] >= first[:, None]
    ds = pd.to_datetime([f"{int(a)}-{int(b):02d}-01" for a, b in zip(years, mon, strict=True)])
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, months)[keep.ravel()],
            "ds": np.tile(ds.to_numpy(), series)[keep.ravel()],
            "y": y.ravel()[keep.ravel()],
        }
    )


def allocation_lines(lines: int, groups: int | None = None, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``lines`` customer lines over ``groups`` spec x area groups and a supply of about 85 % of demand."""
    rng = np.random.default_rng(seed)
    groups = groups or max(1, lines // 500)
    g = rng.integers(0, groups, size=lines)
    forecast = np.round(rng.lognormal(1.5, 1.0, size=lines), 1)
    demand = np.ceil(forecast * rng.uniform(0.9, 1.3, size=lines))
    cap = np.where(rng.random(lines) < 0.2, np.ceil(forecast * 0.8), np.nan)
    minimum = np.where(rng.random(lines) < 0.1, 1.0, 0.0)
    spec = np.array([f"P{k % 97:03d}" for k in range(groups)], dtype=object)
    area = np.array([f"A{k // 97:04d}" for k in range(groups)], dtype=object)
    df = pd.DataFrame(
        {
            "customer_id": np.arange(lines),
            "spec": spec[g],
            "area": area[g],
            "forecast": forecast,
            "demand": demand,
            "cap": cap,
            "min": minimum,
            "tier": rng.integers(1, 31, size=lines),
        }
    )
    need = np.bincount(g, weights=np.minimum(demand, np.nan_to_num(cap, nan=np.inf)), minlength=groups)
    supply = pd.DataFrame({"spec": spec, "area": area, "supply": np.floor(need * 0.85).astype(np.int64)})
    return df, supply
