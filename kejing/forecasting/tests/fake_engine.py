"""A stand-in for ``kejing.forecasting.engine`` used only while the real engine is absent from the tree."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def forecast(df, horizon, season=12, level=(80, 95), method="kejing", n_jobs=1, dask_client=None):
    rows = []
    for uid, g in df.groupby("unique_id"):
        last = g["ds"].max()
        mean = float(g["y"].tail(3).mean())
        for h in range(1, horizon + 1):
            row = {"unique_id": uid, "ds": last + pd.DateOffset(months=h), "yhat": mean, "model": "fake"}
            for lv in level:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = mean * 0.8, mean * 1.2
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class AllocationResult:
    quantities: list[int]
    unplaced: int


def allocate(lines, supply, mode="proportional", **kw):
    demands = [int(x["demand"]) for x in lines]
    total = sum(demands)
    if total <= supply:
        return AllocationResult(demands, supply - total)
    exact = [supply * d / total for d in demands]
    q = [int(x) for x in exact]
    order = sorted(range(len(q)), key=lambda i: -(exact[i] - q[i]))
    for i in order[: supply - sum(q)]:
        q[i] += 1
    return AllocationResult(q, 0)
