"""The proportional allocation written the straightforward way: plain Python, one group and one line at a time.

It follows the same rules as :mod:`.allocation` (bounds, water-filling by repeated capping, largest remainder
with the same tie-break) and serves two purposes: the baseline of ``kejing bench allocate`` and an independent
oracle for the tests, which check that both give the same units.
"""

from __future__ import annotations

import math
from collections import defaultdict


def allocate_reference(rows: list[dict], supply: dict[tuple, int]) -> list[int]:
    """``rows``: dicts with spec, area, forecast and optional demand, cap, min. Returns units per row."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(r.get("spec", ""), r.get("area", ""))].append(i)
    out = [0] * len(rows)
    for key, members in groups.items():
        s = supply.get(key, 0)
        w, lo, up = {}, {}, {}
        for i in members:
            r = rows[i]
            f = float(r["forecast"])
            d = r.get("demand")
            d = math.ceil(f) if d is None or (isinstance(d, float) and math.isnan(d)) else d
            c = r.get("cap")
            c = math.inf if c is None or (isinstance(c, float) and math.isnan(c)) else c
            u = int(min(d, c))
            m = int(r.get("min") or 0)
            w[i], up[i], lo[i] = f, u, min(m, u)
        target = min(s, sum(up.values()))
        if target < sum(lo.values()):  # minimums cannot all be met: share by minimums
            w = {i: lo[i] for i in members}
            up = dict(lo)
            lo = {i: 0 for i in members}
        weighted_room = sum(up[i] if w[i] > 0 else lo[i] for i in members)
        if target > weighted_room:  # forecast lines full: fill zero-forecast lines by their room
            for i in members:
                if w[i] > 0:
                    lo[i] = up[i]
                    w[i] = 0.0
                else:
                    w[i] = up[i] - lo[i]
        x = _waterfill(members, w, lo, up, target)
        units = {i: min(max(math.floor(x[i]), lo[i]), up[i]) for i in members}
        need = target - sum(units.values())
        frac = {i: round(x[i] - math.floor(x[i]), 9) for i in members}
        weight = {i: float(rows[i]["forecast"]) for i in members}
        while need > 0:
            room = [i for i in members if units[i] < up[i]]
            room.sort(key=lambda i: (-frac[i], -weight[i], i))
            for i in room[:need]:
                units[i] += 1
                need -= 1
        while need < 0:
            room = [i for i in members if units[i] > lo[i]]
            room.sort(key=lambda i: (frac[i], -weight[i], i))
            for i in room[:-need]:
                units[i] -= 1
                need += 1
        for i in members:
            out[i] = units[i]
    return out


def _waterfill(members, w, lo, up, target):
    """Repeated capping: share in proportion to weight; pin the worse side's violators to their bound; repeat."""
    x = {i: float(lo[i]) for i in members}
    free = [i for i in members if w[i] > 0]
    fixed_sum = sum(lo[i] for i in members if w[i] <= 0)
    while free:
        wsum = sum(w[i] for i in free)
        lam = (target - fixed_sum) / wsum
        over = [i for i in free if lam * w[i] > up[i]]
        under = [i for i in free if lam * w[i] < lo[i]]
        if not over and not under:
            for i in free:
                x[i] = lam * w[i]
            break
        excess = sum(lam * w[i] - up[i] for i in over)
        deficit = sum(lo[i] - lam * w[i] for i in under)
        pin = over if excess >= deficit else under
        bound = up if excess >= deficit else lo
        for i in pin:
            x[i] = float(bound[i])
            fixed_sum += bound[i]
        pinned = set(pin)
        free = [i for i in free if i not in pinned]
    return x
