"""Customer-to-CM assignment: every CM's load within its bounds, territories compact, few customers moved.

Method (a capacitated k-means solved exactly at each step):

1. Each CM's territory has a centre: the centroid of his current customers, else his home base, else a far
   customer chosen k-means++ style (seeded, so runs repeat).
2. Given the centres, the best assignment is a **min-cost flow** (OR-Tools): customer → CM arcs cost the
   distance to that CM's centre in metres plus ``move_penalty_km`` when the CM is not the customer's current
   one; CM → sink arcs carry the load bounds (``lo`` at a large negative cost, ``hi - lo`` free, any excess at
   a large positive cost, so bounds that cannot all be met still give the least-violating answer). The flow
   is integral, so each customer goes to exactly one CM and the bounds hold exactly; no repair step is needed.
3. Centres move to the centroids of their new territories; 2–3 repeat until nothing changes.

To keep the graph small each customer gets arcs to his ``neighbours`` nearest centres (and his current CM);
if that leaves a bound unmet although the totals allow it, the step is solved again with every arc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from .geo import centroids, compactness_km, pairwise_km

BIG = 10_000_000  # metres: the price of one customer outside a bound, dearer than any trip


class TerritoryError(ValueError):
    """Input that cannot be assigned (sizes that do not match, bounds the wrong way round)."""


@dataclass
class Assignment:
    labels: np.ndarray  # index of the CM of each customer
    centers: np.ndarray  # (k, 2) km
    loads: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    compactness: float
    moved: int
    iterations: int
    feasible: bool  # whether the totals allow every bound to be met at all
    violations: list[int] = field(default_factory=list)  # CM indices whose load is out of bounds

    @property
    def bounds_ok(self) -> bool:
        return not self.violations


def totals_feasible(n: int, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether ``n`` customers can be shared so that every CM is within [lo, hi]."""
    return int(lo.sum()) <= n <= int(hi.sum())


def _initial_centers(
    points: np.ndarray, k: int, current: np.ndarray | None, bases: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    centers = np.full((k, 2), np.nan)
    if current is not None:
        has = current >= 0
        if has.any():
            cnt = np.bincount(current[has], minlength=k)
            c = centroids(points[has], current[has], k)
            centers[cnt > 0] = c[cnt > 0]
    if bases is not None:
        missing = np.isnan(centers[:, 0]) & ~np.isnan(bases[:, 0])
        centers[missing] = bases[missing]
    missing = np.flatnonzero(np.isnan(centers[:, 0]))
    for j in missing:  # k-means++ seeding for CMs with no customers and no base
        known = centers[~np.isnan(centers[:, 0])]
        if len(known) == 0:
            centers[j] = points[rng.integers(len(points))]
            continue
        d2 = pairwise_km(points, known).min(axis=1) ** 2
        total = d2.sum()
        pick = rng.choice(len(points), p=d2 / total) if total > 0 else rng.integers(len(points))
        centers[j] = points[pick]
    return centers


def _flow_step(
    points: np.ndarray,
    centers: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    current: np.ndarray | None,
    penalty_m: int,
    neighbours: int,
) -> np.ndarray:
    n, k = len(points), len(centers)
    dist_m = np.rint(pairwise_km(points, centers) * 1000.0).astype(np.int64)
    kk = min(k, neighbours)
    if kk < k:
        near = np.argpartition(dist_m, kk - 1, axis=1)[:, :kk]
    else:
        near = np.tile(np.arange(k), (n, 1))
    if current is not None:
        cur = np.where(current >= 0, current, near[:, 0])
        near = np.column_stack([near, cur])
    rows = np.repeat(np.arange(n), near.shape[1])
    cols = near.ravel()
    costs = dist_m[rows, cols]
    if current is not None and penalty_m:
        costs = costs + penalty_m * ((current[rows] >= 0) & (current[rows] != cols))
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(rows, n + cols, np.ones(len(rows), dtype=np.int64), costs)
    sink = n + k
    cm_nodes = n + np.arange(k)
    smcf.add_arcs_with_capacity_and_unit_cost(cm_nodes, np.full(k, sink), lo.astype(np.int64), np.full(k, -BIG))
    smcf.add_arcs_with_capacity_and_unit_cost(cm_nodes, np.full(k, sink), (hi - lo).astype(np.int64), np.zeros(k))
    smcf.add_arcs_with_capacity_and_unit_cost(
        cm_nodes, np.full(k, sink), np.full(k, n, dtype=np.int64), np.full(k, BIG)
    )
    supplies = np.zeros(n + k + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    smcf.set_nodes_supplies(np.arange(n + k + 1), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:  # pragma: no cover - the network always has a feasible flow
        raise TerritoryError(f"min-cost flow failed with status {status}")
    used = smcf.flows(arcs) > 0
    labels = np.empty(n, dtype=np.int64)
    labels[rows[used]] = cols[used]
    return labels


def assign(
    points: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    current: np.ndarray | None = None,
    bases: np.ndarray | None = None,
    move_penalty_km: float = 1.0,
    seed: int = 0,
    max_iter: int = 40,
    neighbours: int = 12,
    progress: Callable[[int, int], None] | None = None,
) -> Assignment:
    """Assign ``points`` (``(n, 2)`` km, see :func:`.geo.project`) to ``k = len(lo)`` CMs.

    ``current[i]`` is the index of customer i's CM today (-1: none); ``bases`` an optional ``(k, 2)`` array of
    home bases in km (NaN rows where unknown). ``move_penalty_km``: a customer stays with his CM unless another
    centre is at least that much nearer (or a bound needs him elsewhere).
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    n, k = len(points), len(lo)
    if k == 0:
        raise TerritoryError("没有客户经理 / no customer managers to assign to")
    if len(hi) != k or (lo < 0).any() or (hi < lo).any():
        raise TerritoryError("每名客户经理的下限不能大于上限 / each CM's lower bound must not exceed the upper bound")
    if current is not None:
        current = np.asarray(current, dtype=np.int64)
        if len(current) != n or (current >= k).any():
            raise TerritoryError("current 与客户数量或客户经理编号不符 / current does not match the customers or CMs")
    if bases is not None:
        bases = np.asarray(bases, dtype=float).reshape(k, 2)
    rng = np.random.default_rng(seed)
    centers = _initial_centers(points, k, current, bases, rng) if n else np.zeros((k, 2))
    penalty_m = int(round(move_penalty_km * 1000))
    feasible = totals_feasible(n, lo, hi)
    labels = np.full(n, -1, dtype=np.int64)
    it = 0
    for it in range(1, max_iter + 1):
        if n == 0:
            break
        new = _flow_step(points, centers, lo, hi, current, penalty_m, neighbours)
        loads = np.bincount(new, minlength=k)
        if feasible and ((loads < lo) | (loads > hi)).any() and neighbours < k:
            new = _flow_step(points, centers, lo, hi, current, penalty_m, k)
        if progress is not None:
            progress(it, max_iter)
        if np.array_equal(new, labels):
            break
        labels = new
        centers = centroids(points, labels, k, fallback=centers)
    loads = np.bincount(labels, minlength=k) if n else np.zeros(k, dtype=np.int64)
    violations = [int(j) for j in np.flatnonzero((loads < lo) | (loads > hi))]
    moved = int(((current >= 0) & (current != labels)).sum()) if current is not None and n else 0
    return Assignment(
        labels=labels,
        centers=centers,
        loads=loads,
        lo=lo,
        hi=hi,
        compactness=compactness_km(points, labels, k) if n else 0.0,
        moved=moved,
        iterations=it,
        feasible=feasible,
        violations=violations,
    )
