"""Balancing (修正平衡): share a decided supply per spec and area out to customers in whole units, exactly.

Lines (one per customer x spec x area): ``customer_id, spec, area, forecast`` and optionally ``demand``, ``cap``,
``min`` and ``tier`` (1-30). Supply: ``spec, area, supply`` (or one integer for a single group).

Proportional mode, per (spec, area) group with supply ``S``:

1. Each line may receive between ``lo = min(min, up)`` and ``up = min(demand, cap)`` units; ``demand`` defaults to
   the forecast rounded up, ``cap`` to no cap, ``min`` to 0.
2. Continuous shares ``x = clamp(lam * forecast, lo, up)`` with the one ``lam`` that makes them add up to ``S``
   (water-filling: lines that hit their cap or minimum drop out and the rest share what is left in proportion to
   their forecast). Solved exactly by sorting the points where lines hit a bound, all groups at once.
   Lines with a zero forecast get their minimum; if the forecast lines are all full and supply is left, the
   zero-forecast lines are filled in proportion to their room (they did ask for it through ``demand``).
3. Whole units: every line gets ``floor(x)``; the units still missing go one each to the lines with the largest
   fractional part (largest-remainder rounding). Ties (fractions compared to 9 decimals) go to the larger
   forecast, then to the line that came first in the input. Nothing is random: same input, same output.
4. What cannot be placed is reported per group with a reason (:class:`Remainder`): more supply than the
   customers' demand and caps (``demand_exhausted``), no customer line (``no_customers``); a supply below the
   sum of minimums is shared in proportion to the minimums and reported as ``minimums_short``.

Tier mode (按档位): customers of tier ``t`` share one ladder quantity ``q_t = floor(lam * a_t)``, where ``a_t`` is
the ladder: ``tier_caps`` (per-customer caps, non-decreasing from tier 1 up to tier 30, i.e. non-increasing from 30
down to 1; ``lam <= 1``), or ``a_t = t`` without caps. Minimums hold as in proportional mode:

1. A line's ``ceiling`` is ``min(demand, cap)`` and, with ``tier_caps``, its tier's cap; its floor is
   ``lo = min(min, ceiling)``. It gets ``min(ceiling, max(lo, q_t))``: its tier's quantity, raised to its minimum,
   never above its ceiling. A line whose minimum is above ``q_t`` gets its minimum instead (``tier_quantity``
   still reports ``q_t``, the ladder's figure for the tier).
2. That total never decreases as ``lam`` grows, so the largest ``lam`` whose total fits the supply is found by
   bisection for all groups at once; lines of different tiers whose steps fall on the same ``lam`` (1/1, 2/2,
   3/3) step together. The few units left (fewer than one more step of the ladder) go one each to the highest
   tiers first (then larger forecast, then input order), never above a line's ceiling; anything still left is
   reported (``tier_caps_reached``).
3. A group whose supply is below the sum of its minimums is shared by the minimums exactly as in proportional
   mode (the same code: continuous shares in proportion to ``lo``, largest remainder) and reported as
   ``minimums_short``; its ``tier_quantity`` is 0 for every tier (``lam = 0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

REASONS = {
    "no_customers": ("没有该规格和区域的客户", "no customer line for this spec and area"),
    "demand_exhausted": ("供应量超过客户需求与上限之和", "supply exceeds the customers' demand and caps"),
    "tier_caps_reached": ("所有客户已达档位限量或需求", "every customer is at its tier cap or demand"),
    "minimums_short": ("供应量低于最低量之和,按最低量比例分配", "supply below the sum of minimums; shared by minimums"),
}
MAX_TIER = 30


class AllocationError(ValueError):
    """Bad allocation input; the message names the table, row (1 = first data row) and column."""


@dataclass(frozen=True)
class Remainder:
    """A group whose supply was not placed as asked: ``unplaced`` units are left over (or minimums were cut)."""

    spec: Any
    area: Any
    supply: int
    placed: int
    unplaced: int
    reason: str

    @property
    def message(self) -> str:
        zh, en = REASONS[self.reason]
        return f"{zh} / {en}"


@dataclass
class AllocationResult:
    """``allocated[i]`` is the whole number of units for input line ``i``; ``remainders`` lists every group that
    could not be served exactly as asked; ``tier_quantity`` maps ``(spec, area)`` to ``{tier: q_t}`` (tier mode: the
    ladder's quantity of each tier present; a line whose minimum is higher got its minimum instead)."""

    allocated: np.ndarray
    remainders: list[Remainder]
    mode: str
    groups: int
    supply_total: int
    tier_quantity: dict = field(default_factory=dict)

    @property
    def placed_total(self) -> int:
        return int(self.allocated.sum())

    @property
    def unplaced(self) -> dict[tuple[Any, Any], int]:
        """Units left over per ``(spec, area)`` (only groups with a leftover)."""
        return {(r.spec, r.area): r.unplaced for r in self.remainders if r.unplaced}


# ---------------------------------------------------------------- input


def _frame(obj: Any, name: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if hasattr(obj, "to_pandas"):
        return obj.to_pandas()
    if isinstance(obj, Mapping):
        return pd.DataFrame(dict(obj))
    if isinstance(obj, list):
        return pd.DataFrame(obj)
    raise AllocationError(f"{name}: 需要表格 / expected a table (DataFrame, dict of columns or list of rows)")


def _number(df: pd.DataFrame, col: str, table: str, default: float | None, integer: bool) -> np.ndarray:
    if col not in df.columns:
        if default is None:
            raise AllocationError(f"{table}: 缺少列 {col} / missing column {col}")
        return np.full(len(df), default, dtype=float)
    raw = df[col]
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    missing = raw.isna().to_numpy()
    if default is not None:
        vals = np.where(missing, default, vals)
    bad = ~np.isfinite(vals) & ~(np.isinf(vals) & (vals > 0) & (default == np.inf))
    bad |= vals < 0
    if integer:
        bad |= np.isfinite(vals) & (vals != np.floor(vals))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        kind = "非负整数 / a whole number >= 0" if integer else "非负数 / a number >= 0"
        raise AllocationError(f"{table} 第 {row + 1} 行 {col}: {raw.iloc[row]!r} 应为{kind}")
    return vals


# ---------------------------------------------------------------- proportional


def _waterfill(g: np.ndarray, w: np.ndarray, lo: np.ndarray, up: np.ndarray, s: np.ndarray, ngroups: int) -> np.ndarray:
    """Continuous ``clamp(lam_g * w, lo, up)`` summing to ``s_g`` in every group (needs ``sum lo <= s_g``)."""
    base = np.bincount(g, weights=lo, minlength=ngroups)
    pos = np.flatnonzero(w > 0)
    x = lo.astype(float).copy()
    if len(pos) == 0:
        return x
    gp, wp, lp, upp = g[pos], w[pos], lo[pos], up[pos]
    # events: line enters (lam = lo/w: slope +w, constant -lo) and leaves (lam = up/w: slope -w, constant +up)
    ev_g = np.concatenate([gp, gp])
    ev_lam = np.concatenate([lp / wp, upp / wp])
    ev_slope = np.concatenate([wp, -wp])
    ev_const = np.concatenate([-lp, upp])
    order = np.lexsort((ev_slope < 0, ev_lam, ev_g))  # enter before leave at equal lam
    ev_g, ev_lam, ev_slope, ev_const = ev_g[order], ev_lam[order], ev_slope[order], ev_const[order]
    cs_slope = np.cumsum(ev_slope)
    cs_const = np.cumsum(ev_const)
    first = np.r_[0, np.flatnonzero(np.diff(ev_g)) + 1]
    grp_of_first = ev_g[first]
    # subtract what the cumulative sums carried over from earlier groups
    carry_slope = np.zeros(ngroups)
    carry_const = np.zeros(ngroups)
    prev = first - 1
    carry_slope[grp_of_first] = np.where(prev >= 0, cs_slope[np.maximum(prev, 0)], 0.0)
    carry_const[grp_of_first] = np.where(prev >= 0, cs_const[np.maximum(prev, 0)], 0.0)
    slope = cs_slope - carry_slope[ev_g]
    const = cs_const - carry_const[ev_g] + base[ev_g]
    total = const + slope * ev_lam  # total just after each event
    reached = total >= s[ev_g] - 1e-9 * np.maximum(1.0, s[ev_g])
    # first event per group where the target is reached
    hit = np.flatnonzero(reached)
    lam = np.full(ngroups, np.inf)
    if len(hit):
        hg = ev_g[hit]
        uniq, idx = np.unique(hg, return_index=True)
        k = hit[idx]
        # state before event k: the previous event of the same group, or the start (slope 0, constant base)
        same = (k > 0) & (ev_g[np.maximum(k - 1, 0)] == uniq)
        sl = np.where(same, slope[np.maximum(k - 1, 0)], 0.0)
        co = np.where(same, const[np.maximum(k - 1, 0)], base[uniq])
        with np.errstate(divide="ignore", invalid="ignore"):
            lam_k = np.where(sl > 0, (s[uniq] - co) / sl, ev_lam[k])
        lam[uniq] = np.minimum(np.maximum(lam_k, 0.0), ev_lam[k])
    lam_line = lam[gp]
    x[pos] = np.minimum(np.maximum(np.where(np.isinf(lam_line), upp, lam_line * wp), lp), upp)
    return x


def _round(
    g: np.ndarray, x: np.ndarray, w: np.ndarray, lo: np.ndarray, up: np.ndarray, s: np.ndarray, ngroups: int
) -> np.ndarray:
    """Largest-remainder rounding of ``x`` to integers within ``[lo, up]`` adding up to ``s_g`` per group."""
    base = np.clip(np.floor(x), lo, up).astype(np.int64)
    frac = np.round(x - np.floor(x), 9)
    idx = np.arange(len(x))
    need = s.astype(np.int64) - np.bincount(g, weights=base, minlength=ngroups).astype(np.int64)
    for _ in range(64):  # one pass suffices unless floating error left more than the fractional lines can take
        if not (need > 0).any() and not (need < 0).any():
            break
        for sign in (1, -1):
            want = np.maximum(sign * need, 0)
            if not want.any():
                continue
            eligible = (base < up) if sign > 0 else (base > lo)
            eligible &= want[g] > 0
            cand = np.flatnonzero(eligible)
            if not len(cand):
                continue
            keyfrac = frac[cand] if sign > 0 else -frac[cand]
            order = cand[np.lexsort((idx[cand], -w[cand], -keyfrac, g[cand]))]
            og = g[order]
            start = np.r_[0, np.flatnonzero(np.diff(og)) + 1]
            rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
            take = order[rank < want[og]]
            base[take] += sign
            need -= sign * np.bincount(g[take], minlength=ngroups)
    return base


def _proportional(g, w, lo, up, s, ngroups):
    lo = np.minimum(lo, up)
    sum_lo = np.bincount(g, weights=lo, minlength=ngroups)
    sum_up = np.bincount(g, weights=up, minlength=ngroups)
    target = np.minimum(s, sum_up)
    short = target < sum_lo  # minimums cannot all be honoured: share by minimums instead
    w1 = np.where(short[g], lo, w)
    lo1 = np.where(short[g], 0.0, lo)
    up1 = np.where(short[g], lo, up)
    # groups whose forecast lines cannot absorb the supply: fill them, then the zero-forecast lines by room
    weighted_room = np.bincount(g, weights=np.where(w1 > 0, up1, lo1), minlength=ngroups)
    spill = target > weighted_room + 1e-9
    if spill.any():
        sg = spill[g]
        zero = w1 <= 0
        lo1 = np.where(sg & ~zero, up1, lo1)
        w1 = np.where(sg & zero, up1 - lo1, np.where(sg, 0.0, w1))
    x = _waterfill(g, w1, lo1, up1, target, ngroups)
    alloc = _round(g, x, w, lo1, up1, target, ngroups)
    return alloc, short


# ---------------------------------------------------------------- tier


def _ladder(tier_caps: Any) -> tuple[np.ndarray, bool]:
    a = np.arange(MAX_TIER + 1, dtype=float)
    if tier_caps is None:
        return a, False
    caps = dict(tier_caps.items()) if isinstance(tier_caps, Mapping) else dict(enumerate(tier_caps, start=1))
    for t in range(1, MAX_TIER + 1):
        if t not in caps:
            raise AllocationError(f"tier_caps: 缺少第 {t} 档 / tier {t} has no cap")
        v = caps[t]
        if not (float(v) >= 0 and float(v) == int(v)):
            raise AllocationError(f"tier_caps 第 {t} 档: {v!r} 应为非负整数 / must be a whole number >= 0")
        a[t] = int(v)
    for t in range(2, MAX_TIER + 1):
        if a[t] < a[t - 1]:
            raise AllocationError(
                f"tier_caps: 第 {t} 档 ({int(a[t])}) 低于第 {t - 1} 档 ({int(a[t - 1])}) / tier {t} cap is below tier "
                f"{t - 1}: caps must not increase from tier 30 down to tier 1"
            )
    a[0] = 0
    return a, True


def _tier(g, w, lo, up, tier, s, ngroups, tier_caps):
    """Tier mode (module docstring): ``(units per line, lam per group, ladder, short per group)``."""
    a, capped = _ladder(tier_caps)
    at = a[tier]
    ceiling = np.minimum(up, at) if capped else up
    lo = np.minimum(lo, ceiling)
    room_total = np.bincount(g, weights=ceiling, minlength=ngroups)
    short = np.bincount(g, weights=lo, minlength=ngroups) > s  # minimums cannot all be honoured
    if capped:
        hi = np.ones(ngroups)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(at > 0, up / np.maximum(at, 1), 0.0)
        hi = np.zeros(ngroups)
        np.maximum.at(hi, g, need)
        hi += 1.0
    lo_l = np.zeros(ngroups)
    floor_line = lo if lo.any() else None  # no minimums: skip the max (the bench's hot loop)

    def quantity(lam):
        q = np.floor(lam[g] * at + 1e-9)
        if floor_line is not None:
            q = np.maximum(q, floor_line)
        return np.minimum(q, ceiling)

    def total(lam):
        return np.bincount(g, weights=quantity(lam), minlength=ngroups)

    # total(0) = the sum of minimums <= s outside the short groups, which keep lam = 0 (never ``ok`` below)
    fits_all = total(hi) <= s
    lo_l[fits_all] = hi[fits_all]
    for _ in range(60):
        mid = (lo_l + hi) / 2
        ok = total(mid) <= s
        lo_l = np.where(ok & ~fits_all, mid, lo_l)
        hi = np.where(ok | fits_all, hi, mid)
    # ``hi`` now sits on the first step ``k / a_t`` whose total exceeds the supply, less the 1e-9 that keeps float
    # products such as (1/3) * 3 from flooring to 0. That 1e-9 moves each line's step by 1e-9 / a_t, so lines of
    # different tiers that step at the same lam (1/1, 2/2, 3/3) part by a hair and the search could stop between
    # them. Two different steps are at least 1 / a_max**2 apart: step back by half that, and every line is
    # evaluated just below the step, together (exact for ladder values up to about 20,000).
    a_max = max(1.0, float(at.max())) if len(at) else 1.0
    lam = np.where(fits_all, hi, np.maximum(hi - 0.5 / a_max**2, 0.0))
    lam[short] = 0.0
    q_line = quantity(lam).astype(np.int64)
    placed = np.bincount(g, weights=q_line, minlength=ngroups).astype(np.int64)
    need = np.minimum(s.astype(np.int64) - placed, room_total.astype(np.int64) - placed)
    need[short] = 0
    idx = np.arange(len(g))
    while (need > 0).any():
        cand = np.flatnonzero((q_line < ceiling) & (need[g] > 0))
        if not len(cand):
            break
        order = cand[np.lexsort((idx[cand], -w[cand], -tier[cand], g[cand]))]
        og = g[order]
        start = np.r_[0, np.flatnonzero(np.diff(og)) + 1]
        rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
        take = order[rank < need[og]]
        q_line[take] += 1
        need -= np.bincount(g[take], minlength=ngroups)
    if short.any():  # shared by the minimums: proportional mode's own path, on those groups' lines only
        sub = np.flatnonzero(short[g])
        alloc, _ = _proportional(g[sub], w[sub], lo[sub], ceiling[sub], s, ngroups)
        q_line[sub] = alloc
    return q_line, lam, a, short


# ---------------------------------------------------------------- entry point


def allocate(
    lines: Any,
    supply: Any,
    mode: str = "proportional",
    *,
    tier_caps: Mapping[int, int] | list[int] | None = None,
) -> AllocationResult:
    """Allocate whole units of each (spec, area) supply to the lines (see the module docstring for the rules)."""
    if mode not in ("proportional", "tier"):
        raise AllocationError(f"未知分配方式 / unknown mode {mode!r}: use 'proportional' or 'tier'")
    df = _frame(lines, "lines")
    n = len(df)
    for col in ("spec", "area"):
        if col not in df.columns:
            df = df.assign(**{col: ""})
    forecast = _number(df, "forecast", "lines", None, integer=False)
    if "demand" in df.columns:  # an empty demand cell means "as forecast"
        filled = df["demand"].where(df["demand"].notna(), pd.Series(np.ceil(forecast), index=df.index))
        demand = _number(df.assign(demand=filled), "demand", "lines", None, integer=True)
    else:
        demand = np.ceil(forecast)
    cap = _number(df, "cap", "lines", np.inf, integer=True)
    minimum = _number(df, "min", "lines", 0.0, integer=True)
    up = np.minimum(demand, cap)
    keys = pd.MultiIndex.from_arrays([df["spec"].to_numpy(), df["area"].to_numpy()])
    if isinstance(supply, (int, np.integer)):
        if supply < 0:
            raise AllocationError("supply: 应为非负整数 / must be a whole number >= 0")
        codes, uniq = pd.factorize(keys)
        sup_keys = list(uniq) if len(uniq) else [("", "")]
        sup_vals = np.full(len(sup_keys), int(supply), dtype=np.int64)
        if len(uniq) > 1:
            raise AllocationError("supply: 多个规格/区域需要供应表 / several spec/area groups need a supply table")
    else:
        sdf = _frame(supply, "supply")
        for col in ("spec", "area"):
            if col not in sdf.columns:
                sdf = sdf.assign(**{col: ""})
        svals = _number(sdf, "supply", "supply", None, integer=True).astype(np.int64)
        skeys = pd.MultiIndex.from_arrays([sdf["spec"].to_numpy(), sdf["area"].to_numpy()])
        if skeys.has_duplicates:
            row = int(np.flatnonzero(skeys.duplicated())[0])
            raise AllocationError(f"supply 第 {row + 1} 行: 规格和区域重复 / row {row + 1}: spec and area repeated")
        all_keys = skeys.append(keys[~keys.isin(skeys)].unique()) if n else skeys
        codes = all_keys.get_indexer(keys) if n else np.zeros(0, dtype=np.int64)
        sup_keys = list(all_keys)
        sup_vals = np.zeros(len(all_keys), dtype=np.int64)
        sup_vals[: len(svals)] = svals
    ngroups = len(sup_keys)
    g = np.asarray(codes, dtype=np.int64)
    s = sup_vals.astype(float)
    tier_quantity: dict = {}
    if mode == "proportional":
        alloc, short = _proportional(g, forecast, minimum, up, s, ngroups)
    else:
        if "tier" not in df.columns:
            raise AllocationError("lines: 档位方式需要 tier 列 / tier mode needs a tier column")
        tier = _number(df, "tier", "lines", None, integer=True).astype(np.int64)
        bad = (tier < 1) | (tier > MAX_TIER)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise AllocationError(f"lines 第 {row + 1} 行 tier: {tier[row]} 应在 1–30 / must be between 1 and 30")
        alloc, lam, ladder, short = _tier(g, forecast, minimum, up, tier, s, ngroups, tier_caps)
        present = np.zeros((ngroups, MAX_TIER + 1), dtype=bool)
        present[g, tier] = True
        for gi, t in zip(*np.nonzero(present), strict=True):
            tier_quantity.setdefault(sup_keys[gi], {})[int(t)] = int(np.floor(lam[gi] * ladder[t] + 1e-9))
    placed = np.bincount(g, weights=alloc, minlength=ngroups).astype(np.int64)
    counts = np.bincount(g, minlength=ngroups)
    remainders = []
    for gi in np.flatnonzero((placed != sup_vals) | short).tolist():
        left = int(sup_vals[gi] - placed[gi])
        if counts[gi] == 0:
            reason = "no_customers"
        elif short[gi]:
            reason = "minimums_short"
        elif mode == "tier":
            reason = "tier_caps_reached"
        else:
            reason = "demand_exhausted"
        spec, area = sup_keys[gi]
        remainders.append(Remainder(spec, area, int(sup_vals[gi]), int(placed[gi]), left, reason))
    return AllocationResult(
        allocated=alloc.astype(np.int64),
        remainders=remainders,
        mode=mode,
        groups=ngroups,
        supply_total=int(sup_vals.sum()),
        tier_quantity=tier_quantity,
    )
