"""County-like test data for ``kejing bench territory`` and the tests (deterministic for a seed).

Shaped like the demo company: eleven county departments (two urban, nine rural). A county has a dense seat
town (urban customers, in a few neighbourhoods) and villages spread 4–28 km around it (rural customers, a few
to a hundred shops each). Urban CMs live in the town, rural CMs in the larger villages. The "current" design is
an old map that gave each shop to the CM living nearest to it — loads have drifted out of bounds since, which
is what a re-balance has to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (code, seat latitude, seat longitude, urban county?, CMs) — 65 CMs for 10,000 customers
COUNTIES = [
    ("YC", 37.697, 112.708, True, 10),
    ("TG", 37.421, 112.551, False, 6),
    ("QX", 37.358, 112.335, False, 6),
    ("PY", 37.189, 112.176, False, 6),
    ("JX", 37.027, 111.917, True, 7),
    ("LS", 36.847, 111.778, False, 5),
    ("SY", 37.895, 113.176, False, 5),
    ("XY", 37.612, 113.706, False, 5),
    ("HS", 37.329, 113.570, False, 5),
    ("ZQ", 37.082, 113.379, False, 5),
    ("YS", 37.070, 112.975, False, 5),
]
KM_PER_DEG_LAT = 111.2


@dataclass
class Synthetic:
    customer_ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    area: list[str]
    current: np.ndarray  # CM index per customer
    cm_ids: list[str]
    cm_area: list[str]
    cm_lat: np.ndarray
    cm_lon: np.ndarray


def _offset(lat: float, lon: float, dx_km: np.ndarray, dy_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lat + dy_km / KM_PER_DEG_LAT, lon + dx_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))


def generate(customers: int = 10_000, seed: int = 2026, urban_load: int = 165, rural_load: int = 140) -> Synthetic:
    """``customers`` shops and about one CM per 154 of them, spread over the eleven counties."""
    rng = np.random.default_rng(seed)
    # about one CM per 154 customers (65 for 10,000), shared over the counties by largest remainder
    total_cms = max(1, round(customers * 65 / 10_000))
    share = np.array([c[4] for c in COUNTIES], dtype=float) * total_cms / 65
    n_cms = np.floor(share).astype(int)
    n_cms[np.argsort(-(share - n_cms), kind="stable")[: total_cms - n_cms.sum()]] += 1
    plan = []  # (county, n_urban_cms, n_rural_cms)
    for (code, lat, lon, urban, _), n in zip(COUNTIES, n_cms, strict=True):
        if n == 0:
            continue
        n_urban = n if urban else (1 if n > 1 else 0)  # a rural county's seat town needs a CM of its own
        plan.append((code, lat, lon, n_urban, n - n_urban))
    weights = np.array([u * urban_load + r * rural_load for _, _, _, u, r in plan], dtype=float)
    per_county = np.floor(weights / weights.sum() * customers).astype(int)
    per_county[: customers - per_county.sum()] += 1
    lat_l, lon_l, area_l, cur_l = [], [], [], []
    cm_ids, cm_area, cm_lat, cm_lon = [], [], [], []
    for (code, lat, lon, n_urban, n_rural), total in zip(plan, per_county, strict=True):
        n_town = int(round(total * n_urban * urban_load / (n_urban * urban_load + n_rural * rural_load)))
        n_villages_shops = total - n_town
        # the seat town: 3-6 neighbourhoods of different density
        hoods = rng.normal(0, 2.0, size=(rng.integers(3, 7), 2))
        share = rng.dirichlet(np.ones(len(hoods)) * 2)
        which = rng.choice(len(hoods), size=n_town, p=share)
        pts = hoods[which] + rng.normal(0, 0.9, size=(n_town, 2))
        tlat, tlon = _offset(lat, lon, pts[:, 0], pts[:, 1])
        # villages: sizes from a skewed distribution until the rural shops are placed
        sizes = []
        left = n_villages_shops
        while left > 0:
            s = int(min(left, max(3, rng.lognormal(3.0, 0.7))))
            sizes.append(s)
            left -= s
        ang = rng.uniform(0, 2 * np.pi, len(sizes))
        rad = rng.uniform(4, 28, len(sizes))
        vx, vy = rad * np.cos(ang), rad * np.sin(ang)
        vid = np.repeat(np.arange(len(sizes)), sizes)
        vpts = np.column_stack([vx[vid], vy[vid]]) + rng.normal(0, 0.35, size=(len(vid), 2))
        vlat, vlon = _offset(lat, lon, vpts[:, 0], vpts[:, 1])
        c_lat = np.concatenate([tlat, vlat])
        c_lon = np.concatenate([tlon, vlon])
        # CM bases: urban CMs in town, rural CMs in villages (bigger villages more likely)
        first = len(cm_ids)
        bx = rng.normal(0, 2.0, size=n_urban)
        by = rng.normal(0, 2.0, size=n_urban)
        blat, blon = _offset(lat, lon, bx, by)
        if n_rural:
            p = np.array(sizes, dtype=float) / sum(sizes)
            pick = rng.choice(len(sizes), size=n_rural, replace=len(sizes) < n_rural, p=p)
            rlat, rlon = _offset(lat, lon, vx[pick], vy[pick])
            blat, blon = np.concatenate([blat, rlat]), np.concatenate([blon, rlon])
        for j in range(n_urban + n_rural):
            cm_ids.append(f"{code}-CM{j + 1:02d}")
            cm_area.append("urban" if j < n_urban else "rural")
        cm_lat.append(blat)
        cm_lon.append(blon)
        # the old map: nearest CM of the county
        dx = (c_lon[:, None] - blon[None, :]) * np.cos(np.radians(lat))
        dy = c_lat[:, None] - blat[None, :]
        cur_l.append(first + (dx * dx + dy * dy).argmin(axis=1))
        lat_l.append(c_lat)
        lon_l.append(c_lon)
        area_l += ["urban"] * n_town + ["rural"] * n_villages_shops
    lat_a, lon_a = np.concatenate(lat_l), np.concatenate(lon_l)
    return Synthetic(
        customer_ids=[f"S{i + 1:06d}" for i in range(len(lat_a))],
        lat=np.round(lat_a, 6),
        lon=np.round(lon_a, 6),
        area=area_l,
        current=np.concatenate(cur_l),
        cm_ids=cm_ids,
        cm_area=cm_area,
        cm_lat=np.round(np.concatenate(cm_lat), 6),
        cm_lon=np.round(np.concatenate(cm_lon), 6),
    )
