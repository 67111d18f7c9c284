"""Benchmarks of the engines; each times Kejing's code and a baseline in the same run on the same data."""

from __future__ import annotations

import math
import os
import time

import numpy as np

from .allocation import allocate
from .allocation_reference import allocate_reference, allocate_reference_tier
from .core import forecast
from .synth import allocation_lines, retail_panel

WARM_UP = (
    "each process first forecasts 300 other synthetic series, not timed "
    "(imports and numba compilation of every model path)"
)


def warm_up() -> bool:
    """Forecast a small panel that reaches every class (regular, short, intermittent, new, ...) once.

    statsforecast compiles its models with numba on first use, per process. Without this the first timed run of
    a fresh process (a Dask worker, or a forked child whose parent never met an intermittent series) pays the
    compilation, and a one-worker run pays it once while a two-worker run pays it twice in parallel, which
    distorts the ratio. Module-level so that Dask's ``client.run`` can call it on every worker.
    """
    forecast(retail_panel(300, seed=11), 3)
    return True


def bench_forecast(
    series: int, horizon: int = 3, n_jobs: int = 2, ets_series: int = 200, dask: bool = False, repeats: int = 2
) -> dict:
    """Series per second of ``forecast(method="kejing")`` (classing, backtest origins, blend, intervals included)
    against statsforecast's AutoETS on the same synthetic shops, both with ``n_jobs`` processes.

    The Kejing run is repeated ``repeats`` times and the fastest counts (the same rule for every timing here),
    so that a one-off hiccup of a shared machine does not decide the figure."""
    df = retail_panel(series)
    warm_up()  # in this process: the forked children inherit the compiled models
    seconds = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        out = forecast(df, horizon, n_jobs=n_jobs)
        seconds = min(seconds, time.perf_counter() - started)
    k = min(series, ets_series)
    ids = sorted(df["unique_id"].unique())[:k]
    sub = df[df["unique_id"].isin(ids)]
    forecast(sub.head(200), horizon, method="auto_ets")  # AutoETS's own numba warm-up
    started = time.perf_counter()
    forecast(sub, horizon, method="auto_ets", n_jobs=n_jobs)
    ets_seconds = time.perf_counter() - started
    result = {
        "series": series,
        "horizon": horizon,
        "n_jobs": n_jobs,
        "cpus": os.cpu_count(),
        "load_average_before": _load(),
        "warm_up": WARM_UP,
        "repeats": max(1, repeats),
        "seconds": round(seconds, 3),
        "series_per_second": round(series / seconds, 1),
        "auto_ets_series": k,
        "auto_ets_series_per_second": round(k / ets_seconds, 1),
        "speedup_vs_auto_ets": round((series / seconds) / (k / ets_seconds), 1),
        "models": out.groupby("model")["unique_id"].nunique().to_dict(),
    }
    if dask:
        result["dask"] = bench_dask(df, horizon, reference=out, repeats=repeats)
    return result


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not available on every platform
        return None


def bench_dask(df, horizon: int, reference=None, repeats: int = 2) -> dict:
    """The same forecast on a Dask LocalCluster with one worker and with two (one thread, one process each).

    Both clusters are warmed up the same way (:func:`warm_up` on every worker through ``client.run``) and time
    the same frame, fastest of ``repeats``; ``identical`` says whether both gave exactly the local forecasts."""
    from distributed import Client, LocalCluster

    timings = {}
    identical = True
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                client.run(warm_up)
                best = float("inf")
                for _ in range(max(1, repeats)):
                    started = time.perf_counter()
                    res = forecast(df, horizon, dask_client=client)
                    best = min(best, time.perf_counter() - started)
                timings[workers] = best
                if reference is not None:
                    identical = identical and res.equals(reference)
    return {
        "one_worker_seconds": round(timings[1], 3),
        "two_workers_seconds": round(timings[2], 3),
        "speedup": round(timings[1] / timings[2], 2),
        "identical_to_local": identical,
        "warm_up": WARM_UP,
    }


def _reference_rows(df, columns: list[str]) -> list[dict]:
    rows = df[columns].to_dict("records")
    for r in rows:
        if isinstance(r["cap"], float) and math.isnan(r["cap"]):
            r["cap"] = None
    return rows


def bench_allocate(lines: int, baseline: bool = True, tier_baseline_lines: int = 20000) -> dict:
    """Proportional and tier allocation of ``lines`` lines vs the plain-Python references on the same lines.

    The tier reference walks the ladder's steps as exact fractions (about 0.6 ms a line, 10 minutes for a
    million), so tier mode is compared with it on the first ``tier_baseline_lines`` lines' groups, both sides
    timed on that same smaller input (``tier_baseline`` in the answer); 0 skips it."""
    df, supply = allocation_lines(lines)
    started = time.perf_counter()
    res = allocate(df, supply)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    tier = allocate(df, supply, mode="tier")
    tier_seconds = time.perf_counter() - started
    out = {
        "lines": lines,
        "groups": res.groups,
        "supply": res.supply_total,
        "placed": res.placed_total,
        "seconds": round(seconds, 3),
        "tier_seconds": round(tier_seconds, 3),
        "tier_placed": tier.placed_total,
    }
    if baseline:
        rows = _reference_rows(df, ["spec", "area", "forecast", "demand", "cap", "min"])
        sup = {(s, a): int(v) for s, a, v in supply[["spec", "area", "supply"]].itertuples(index=False)}
        started = time.perf_counter()
        ref = allocate_reference(rows, sup)
        base_seconds = time.perf_counter() - started
        out["baseline_seconds"] = round(base_seconds, 3)
        out["speedup"] = round(base_seconds / seconds, 1)
        out["identical"] = bool(np.array_equal(np.asarray(ref), res.allocated))
    if baseline and tier_baseline_lines > 0:
        # whole groups only: the first groups (in order of appearance) holding about tier_baseline_lines lines
        sizes = df.groupby(["spec", "area"], sort=False).size()
        take = int(np.searchsorted(sizes.cumsum().to_numpy(), tier_baseline_lines)) + 1
        keys = sizes.index[:take].to_frame(index=False)
        part = df.merge(keys, on=["spec", "area"])
        part_supply = supply.merge(keys, on=["spec", "area"])
        started = time.perf_counter()
        mine = allocate(part, part_supply, mode="tier")
        part_seconds = time.perf_counter() - started
        sup = {(s, a): int(v) for s, a, v in part_supply[["spec", "area", "supply"]].itertuples(index=False)}
        started = time.perf_counter()
        ref = allocate_reference_tier(
            _reference_rows(part, ["spec", "area", "forecast", "demand", "cap", "min", "tier"]), sup
        )
        ref_seconds = time.perf_counter() - started
        out["tier_baseline"] = {
            "lines": len(part),
            "seconds": round(part_seconds, 3),
            "baseline_seconds": round(ref_seconds, 3),
            "speedup": round(ref_seconds / max(part_seconds, 1e-6), 1),
            "identical": bool(np.array_equal(np.asarray(ref), mine.allocated)),
        }
    return out
