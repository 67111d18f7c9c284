"""Distances in kilometres.

Territories of one department span tens of kilometres, so an equirectangular projection around the mean
latitude (x east, y north, in km) is exact to well under 1 % and lets numpy compute every distance at once.
:func:`haversine_km` is the reference the tests compare it with.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def project(lat: np.ndarray, lon: np.ndarray, lat0: float | None = None, lon0: float | None = None) -> np.ndarray:
    """Points as an ``(n, 2)`` array of km east/north of (lat0, lon0) (default: the points' mean)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if lat0 is None:
        lat0 = float(lat.mean()) if lat.size else 0.0
    if lon0 is None:
        lon0 = float(lon.mean()) if lon.size else 0.0
    k = math.pi / 180.0 * EARTH_RADIUS_KM
    x = (lon - lon0) * k * math.cos(math.radians(lat0))
    y = (lat - lat0) * k
    return np.column_stack([x, y])


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def pairwise_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between every row of ``a`` and every row of ``b`` (both in projected km)."""
    d = a[:, None, :] - b[None, :, :]
    return np.sqrt((d * d).sum(axis=2))


def centroids(points: np.ndarray, labels: np.ndarray, k: int, fallback: np.ndarray | None = None) -> np.ndarray:
    """Mean point of each label 0..k-1; an empty label keeps ``fallback[j]`` (or the origin)."""
    counts = np.bincount(labels, minlength=k).astype(float)
    sx = np.bincount(labels, weights=points[:, 0], minlength=k)
    sy = np.bincount(labels, weights=points[:, 1], minlength=k)
    out = np.zeros((k, 2)) if fallback is None else np.array(fallback, dtype=float, copy=True)
    nz = counts > 0
    out[nz, 0] = sx[nz] / counts[nz]
    out[nz, 1] = sy[nz] / counts[nz]
    return out


def compactness_km(points: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Kejing's measure of a territory design: the mean distance (km) from a customer to the centroid of his
    CM's territory. Lower is more compact. The benchmark scores both our design and the baseline with it."""
    if len(points) == 0:
        return 0.0
    c = centroids(points, labels, k)
    d = points - c[labels]
    return float(np.sqrt((d * d).sum(axis=1)).mean())
