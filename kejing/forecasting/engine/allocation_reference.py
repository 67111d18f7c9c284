"""The allocation written the straightforward way: plain Python, one group and one line at a time.

It follows the same rules as :mod:`.allocation` (bounds, water-filling by repeated capping, largest remainder
with the same tie-break) and serves two purposes: the baseline of ``kejing bench allocate`` and an independent
oracle for the tests, which check that both give the same units.

:func:`allocate_reference_tier` does tier mode (minimums included) without bisection or floats: it walks the
ladder's steps ``k / a_t`` in exact fractions and stops before the first step whose total exceeds the supply.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction


def _bounds(r: dict) -> tuple[float, int, int]:
    """``(forecast, up, min)`` of one row: ``up = min(demand, cap)``, demand defaulting to the forecast rounded up."""
    f = float(r["forecast"])
    d = r.get("demand")
    d = math.ceil(f) if d is None or (isinstance(d, float) and math.isnan(d)) else d
    c = r.get("cap")
    c = math.inf if c is None or (isinstance(c, float) and math.isnan(c)) else c
    m = r.get("min")
    m = 0 if m is None or (isinstance(m, float) and math.isnan(m)) else int(m)
    return f, int(min(d, c)), m


def _groups(rows: list[dict]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(r.get("spec", ""), r.get("area", ""))].append(i)
    return groups


def allocate_reference(rows: list[dict], supply: dict[tuple, int]) -> list[int]:
    """``rows``: dicts with spec, area, forecast and optional demand, cap, min. Returns units per row."""
    out = [0] * len(rows)
    for key, members in _groups(rows).items():
        s = supply.get(key, 0)
        w, lo, up = {}, {}, {}
        for i in members:
            f, u, m = _bounds(rows[i])
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


def allocate_reference_tier(
    rows: list[dict], supply: dict[tuple, int], tier_caps: list[int] | None = None
) -> list[int]:
    """Tier mode: ``rows`` as for :func:`allocate_reference` plus ``tier`` (1-30); ``tier_caps[t - 1]`` is tier
    ``t``'s cap (``None``: the ladder is ``a_t = t``). Returns units per row.

    A line gets ``min(ceiling, max(lo, floor(lam * a_t)))``; the answer is the step function's value just below
    the first step ``lam = k / a_t`` (exact fractions) at which the group's total would exceed its supply, then
    one unit at a time to the highest tier, larger forecast, earlier line. A group whose supply is below its
    minimums goes to :func:`allocate_reference` with each line's ceiling as its cap (shared by the minimums)."""
    out = [0] * len(rows)
    for key, members in _groups(rows).items():
        s = supply.get(key, 0)
        a, ceiling, lo, weight, tier = {}, {}, {}, {}, {}
        for i in members:
            f, u, m = _bounds(rows[i])
            t = int(rows[i]["tier"])
            a[i] = tier_caps[t - 1] if tier_caps is not None else t
            ceiling[i] = min(u, a[i]) if tier_caps is not None else u
            lo[i] = min(m, ceiling[i])
            weight[i], tier[i] = f, t
        if s < sum(lo.values()):
            sub = [{**rows[i], "cap": ceiling[i], "demand": ceiling[i]} for i in members]
            for i, q in zip(members, allocate_reference(sub, {key: s}), strict=True):
                out[i] = q
            continue

        def units(lam: Fraction) -> dict[int, int]:
            return {i: min(ceiling[i], max(lo[i], math.floor(lam * a[i]))) for i in members}  # noqa: B023

        steps = sorted({Fraction(k, a[i]) for i in members if a[i] > 0 for k in range(1, ceiling[i] + 1)})
        got = units(Fraction(0))  # at the last step whose total fits = just below the first that does not
        for step in steps:
            at_step = units(step)
            if sum(at_step.values()) > s:
                break
            got = at_step
        need = min(s, sum(ceiling.values())) - sum(got.values())
        while need > 0:
            room = sorted((i for i in members if got[i] < ceiling[i]), key=lambda i: (-tier[i], -weight[i], i))
            for i in room[:need]:
                got[i] += 1
                need -= 1
        for i in members:
            out[i] = got[i]
    return out
