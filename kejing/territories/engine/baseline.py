"""The yardstick: plain k-means (Lloyd's algorithm, k-means++ start) and a greedy capacity repair.

This is what a careful analyst would do with a spreadsheet and a clustering library: cluster the customers into
as many groups as there are CMs, give each group to the CM who already serves most of it, then move customers
one at a time — always the cheapest move — out of groups above their upper bound and into groups below their
lower bound. ``kejing bench territory`` runs it on the same data as :func:`.assign.assign` and scores both with
:func:`.geo.compactness_km`.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import linear_sum_assignment

from .geo import centroids, pairwise_km


def kmeans(points: np.ndarray, k: int, seed: int = 0, max_iter: int = 100) -> np.ndarray:
    """Labels 0..k-1 from Lloyd's iterations after a k-means++ start."""
    rng = np.random.default_rng(seed)
    n = len(points)
    centers = np.empty((k, 2))
    centers[0] = points[rng.integers(n)]
    d2 = ((points - centers[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        total = d2.sum()
        pick = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centers[j] = points[pick]
        d2 = np.minimum(d2, ((points - centers[j]) ** 2).sum(axis=1))
    labels = np.full(n, -1)
    for _ in range(max_iter):
        new = pairwise_km(points, centers).argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        centers = centroids(points, labels, k, fallback=centers)
    return labels


def _match(labels: np.ndarray, k: int, current: np.ndarray | None, sizes_hi: np.ndarray) -> np.ndarray:
    """Cluster → CM: the CM who already serves most of the cluster (largest clusters to the largest bounds
    when nobody serves anyone yet)."""
    if current is not None and (current >= 0).any():
        has = current >= 0
        overlap = np.zeros((k, k), dtype=np.int64)
        np.add.at(overlap, (labels[has], current[has]), 1)
        cost = -overlap
    else:
        size = np.bincount(labels, minlength=k)
        cost = -np.outer(size, sizes_hi)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    rows, cols = np.divmod(np.arange(k * k), k)
    solver.add_arcs_with_cost(rows, cols, cost.ravel())
    solver.solve()
    mapping = np.array([solver.right_mate(i) for i in range(k)])
    return mapping[labels]


def greedy_repair(points: np.ndarray, labels: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Cheapest single moves (extra distance to the centre moved to) until every load is within its bounds."""
    k = len(lo)
    labels = labels.copy()
    centers = centroids(points, labels, k)
    dist = pairwise_km(points, centers)
    load = np.bincount(labels, minlength=k)
    for j in np.argsort(-(load - hi)):  # most overloaded first
        while load[j] > hi[j]:
            members = np.flatnonzero(labels == j)
            room = load < hi
            room[j] = False
            if not room.any():  # the totals exceed every upper bound
                break
            extra = dist[np.ix_(members, np.flatnonzero(room))] - dist[members, j][:, None]
            flat = int(extra.argmin())
            i = members[flat // extra.shape[1]]
            t = np.flatnonzero(room)[flat % extra.shape[1]]
            labels[i] = t
            load[j] -= 1
            load[t] += 1
    for j in np.argsort(load - lo):  # most underloaded first
        while load[j] < lo[j]:
            donors = load > lo
            donors[j] = False
            cand = np.flatnonzero(donors[labels])
            if len(cand) == 0:  # the totals cannot meet every lower bound
                break
            extra = dist[cand, j] - dist[cand, labels[cand]]
            i = cand[int(extra.argmin())]
            load[labels[i]] -= 1
            labels[i] = j
            load[j] += 1
    return labels


def baseline(
    points: np.ndarray, lo: np.ndarray, hi: np.ndarray, current: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """k-means, clusters matched to CMs, greedy repair: the CM index of each customer."""
    k = len(lo)
    labels = _match(kmeans(points, k, seed), k, current, np.asarray(hi))
    return greedy_repair(points, labels, np.asarray(lo), np.asarray(hi))
