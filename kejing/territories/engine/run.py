"""One territory run from arrays to a JSON-ready result; shared by the CLI, the benchmark and the web app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .assign import Assignment, assign
from .baseline import baseline, kmeans
from .geo import compactness_km, project
from .policy import TerritoryPolicy
from .tables import Problem


def solve(
    problem: Problem,
    policy: TerritoryPolicy,
    *,
    move_penalty_km: float | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Assignment, np.ndarray]:
    """The assignment and the projected points (km) it was computed on."""
    lat0 = float(problem.lat.mean()) if len(problem.lat) else 0.0
    lon0 = float(problem.lon.mean()) if len(problem.lon) else 0.0
    points = project(problem.lat, problem.lon, lat0, lon0)
    bases = project(problem.cm_lat, problem.cm_lon, lat0, lon0)  # NaN rows stay NaN
    result = assign(
        points,
        problem.lo,
        problem.hi,
        current=problem.current,
        bases=bases,
        move_penalty_km=policy.move_penalty_km if move_penalty_km is None else move_penalty_km,
        seed=policy.seed if seed is None else seed,
        max_iter=policy.max_iterations,
        neighbours=policy.neighbours,
        progress=progress,
    )
    return result, points


def summary(problem: Problem, result: Assignment, points: np.ndarray, seconds: float) -> dict[str, Any]:
    k = len(problem.cm_ids)
    has = problem.current >= 0
    before = np.bincount(problem.current[has], minlength=k)
    all_current = bool(has.all()) and len(problem.current) > 0
    return {
        "customers": len(problem.customer_ids),
        "cms": k,
        "seconds": round(seconds, 3),
        "bounds_ok": result.bounds_ok,
        "bounds_feasible": result.feasible,
        "compactness": round(result.compactness, 3),
        "compactness_before": round(compactness_km(points, problem.current, k), 3) if all_current else None,
        "moved": result.moved,
        "iterations": result.iterations,
        "loads": [
            {
                "cm": problem.cm_ids[j],
                "area": problem.cm_area[j],
                "min": int(problem.lo[j]),
                "max": int(problem.hi[j]),
                "before": int(before[j]),
                "after": int(result.loads[j]),
            }
            for j in range(k)
        ],
        "moves": [
            {
                "customer": problem.customer_ids[i],
                "from": problem.cm_ids[problem.current[i]],
                "to": problem.cm_ids[result.labels[i]],
            }
            for i in np.flatnonzero(has & (problem.current != result.labels))
        ],
        "assignment": {problem.customer_ids[i]: problem.cm_ids[result.labels[i]] for i in range(len(points))},
    }


def bench(customers: int = 10_000, seed: int = 2026, policy: TerritoryPolicy | None = None) -> dict[str, Any]:
    """Kejing's assignment and the k-means + greedy-repair baseline on the same synthetic counties."""
    from .synthetic import generate

    policy = policy or TerritoryPolicy.load("tobacco")
    data = generate(customers, seed)
    bounds = [policy.bounds_for(a) for a in data.cm_area]
    problem = Problem(
        customer_ids=data.customer_ids,
        lat=data.lat,
        lon=data.lon,
        current=data.current,
        cm_ids=data.cm_ids,
        cm_area=data.cm_area,
        lo=np.array([b[0] for b in bounds]),
        hi=np.array([b[1] for b in bounds]),
        cm_lat=data.cm_lat,
        cm_lon=data.cm_lon,
        customer_area=data.area,
    )
    t0 = time.perf_counter()
    result, points = solve(problem, policy)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = baseline(points, problem.lo, problem.hi, current=problem.current, seed=seed)
    base_seconds = time.perf_counter() - t0
    k = len(problem.cm_ids)
    base_loads = np.bincount(base, minlength=k)
    base_compact = compactness_km(points, base, k)
    before = compactness_km(points, problem.current, k)
    cur_loads = np.bincount(problem.current, minlength=k)
    return {
        "customers": len(points),
        "cms": k,
        "seconds": round(ours, 3),
        "bounds_ok": result.bounds_ok,
        "compactness": round(result.compactness, 3),
        "baseline_compactness": round(base_compact, 3),
        "moved": result.moved,
        "ratio": round(result.compactness / base_compact, 3) if base_compact else None,
        "baseline_seconds": round(base_seconds, 3),
        "baseline_bounds_ok": bool(((base_loads >= problem.lo) & (base_loads <= problem.hi)).all()),
        "baseline_moved": int((base != problem.current).sum()),
        "before_compactness": round(before, 3),
        "before_out_of_bounds": int(((cur_loads < problem.lo) | (cur_loads > problem.hi)).sum()),
        "iterations": result.iterations,
        # k-means alone, bounds ignored: how compact an unconstrained clustering gets (for context only)
        "kmeans_unbounded_compactness": round(compactness_km(points, kmeans(points, k, seed), k), 3),
        "move_penalty_km": policy.move_penalty_km,
        "seed": seed,
    }
