"""Allocation engine: hand-worked examples, tier mode, and randomized property checks against the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kejing.forecasting.engine import AllocationError, allocate
from kejing.forecasting.engine.allocation_reference import allocate_reference


def _lines(forecast, **cols):
    n = len(forecast)
    return pd.DataFrame({"customer_id": range(n), "spec": "P1", "area": "A", "forecast": forecast, **cols})


def test_proportional_exact_shares():
    # 60 units over forecasts 10/20/30 (sum 60): lam = 1, shares 10, 20, 30 exactly.
    r = allocate(_lines([10, 20, 30]), 60)
    assert r.allocated.tolist() == [10, 20, 30]
    assert r.remainders == []


def test_largest_remainder_rounding():
    # 10 units over 1/1/1: shares 3.333 each; floors 3+3+3 = 9, 1 unit left.
    # Equal fractions (0.333) and equal forecasts -> the first line in the input gets it.
    r = allocate(_lines([1, 1, 1], demand=[10, 10, 10]), 10)
    assert r.allocated.tolist() == [4, 3, 3]
    # 7 units over 2/3/5 (sum 10): shares 1.4, 2.1, 3.5; floors 1+2+3 = 6, 1 left -> largest fraction 0.5 (line 3).
    r = allocate(_lines([2, 3, 5]), 7)
    assert r.allocated.tolist() == [1, 2, 4]


def test_tie_goes_to_larger_forecast():
    # 5 units over 1.5/2.5 with demand 10 each: lam = 5/4 -> 1.875, 3.125; floors 1+3 = 4, one left.
    # Fractions .875 vs .125 -> line 1 gets it: [2, 3].
    r = allocate(_lines([1.5, 2.5], demand=[10, 10]), 5)
    assert r.allocated.tolist() == [2, 3]
    # 3 units over 2/4 with demand 3 each: shares 1 and 2 exact; no rounding needed.
    assert allocate(_lines([2, 4], demand=[3, 3]), 3).allocated.tolist() == [1, 2]


def test_caps_water_filling():
    # 40 units over forecasts 10/10/40 with the third capped at 10:
    # line 3 is pinned at 10, the other 30 are shared 10:10 -> 15, 15, 10.
    r = allocate(_lines([10, 10, 40], demand=[50, 50, 50], cap=[None, None, 10]), 40)
    assert r.allocated.tolist() == [15, 15, 10]


def test_minimum_honoured():
    # 10 units, forecasts 10/20/30, line 1 needs at least 8: line 1 = 8, the other 2 shared 20:30 -> 0.8, 1.2;
    # floors 0+1 = 1, one left -> larger fraction 0.8 -> [8, 1, 1].
    r = allocate(_lines([10, 20, 30], min=[8, 0, 0]), 10)
    assert r.allocated.tolist() == [8, 1, 1]


def test_minimums_above_supply_reported():
    # Minimums 8+8+8 = 24 > 10: shared by minimums 3.33 each -> 3, 3, 3 + 1 to the larger forecast (line 3).
    r = allocate(_lines([10, 20, 30], min=[8, 8, 8]), 10)
    assert r.allocated.tolist() == [3, 3, 4]
    assert [x.reason for x in r.remainders] == ["minimums_short"]
    assert r.remainders[0].unplaced == 0


def test_supply_above_demand_is_reported_not_lost():
    # Demand 10+20+30 = 60, supply 61 -> everyone full, 1 unit reported.
    r = allocate(_lines([10, 20, 30]), 61)
    assert r.allocated.tolist() == [10, 20, 30]
    assert r.unplaced == {("P1", "A"): 1}
    assert r.remainders[0].reason == "demand_exhausted"
    assert "demand" in r.remainders[0].message


def test_zero_forecast_lines_take_overflow():
    # Forecast lines want 5 (demand 5), the zero-forecast line asked for 4: supply 8 -> 5 + 3.
    r = allocate(_lines([5, 0], demand=[5, 4]), 8)
    assert r.allocated.tolist() == [5, 3]


def test_supply_table_and_missing_groups():
    lines = pd.DataFrame(
        {"spec": ["P1", "P1", "P2"], "area": ["A", "A", "A"], "forecast": [1, 3, 5], "customer_id": [1, 2, 3]}
    )
    supply = pd.DataFrame({"spec": ["P1", "P9"], "area": ["A", "A"], "supply": [4, 7]})
    r = allocate(lines, supply)
    # P1/A: 4 over 1:3 -> 1, 3. P2/A has no supply row -> 0. P9/A has no customers -> 7 unplaced.
    assert r.allocated.tolist() == [1, 3, 0]
    assert r.unplaced == {("P9", "A"): 7}
    assert r.remainders[0].reason == "no_customers"


def test_bad_input_names_row_and_column():
    with pytest.raises(AllocationError, match="第 2 行 forecast"):
        allocate(_lines([1, -2]), 3)
    with pytest.raises(AllocationError, match="cap"):
        allocate(_lines([1, 2], cap=[1.5, None]), 3)
    with pytest.raises(AllocationError, match="tier"):
        allocate(_lines([1, 2], tier=[1, 31]), 3, mode="tier")


def test_tier_mode_ladder():
    # Ladder a_t = t (no caps). Tiers 30, 20, 1 with demand 10, 20, 30; supply 20.
    # lam = 0.5: q30 = 15 -> 10 (demand), q20 = 10, q1 = 0 -> total 20 exactly.
    r = allocate(_lines([10, 20, 30], tier=[30, 20, 1]), 20, mode="tier")
    assert r.allocated.tolist() == [10, 10, 0]


def test_tier_mode_caps_and_leftover():
    caps = {t: (2 if t >= 10 else 1) for t in range(1, 31)}
    # Caps: tier >= 10 -> 2 per customer, below -> 1. Four customers at tiers 30, 30, 5, 5, demand 5 each.
    # Supply 5: lam = 0.5 -> q = 1 for everyone = 4 units; 1 left -> highest tier, larger forecast: line 2.
    r = allocate(_lines([3, 4, 3, 3], demand=[5] * 4, tier=[30, 30, 5, 5]), 5, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [1, 2, 1, 1]
    # Supply 9 > full caps 2+2+1+1 = 6: 3 reported as unplaced.
    r = allocate(_lines([3, 4, 3, 3], demand=[5] * 4, tier=[30, 30, 5, 5]), 9, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [2, 2, 1, 1]
    assert r.remainders[0].unplaced == 3 and r.remainders[0].reason == "tier_caps_reached"


def test_tier_caps_must_not_increase_downwards():
    caps = dict.fromkeys(range(1, 31), 5)
    caps[3] = 6  # tier 3 above tier 4
    with pytest.raises(AllocationError, match="tier 4"):
        allocate(_lines([1], tier=[1]), 1, mode="tier", tier_caps=caps)


def _random_case(rng, n):
    forecast = np.round(rng.gamma(1.0, 5.0, n), 1) * (rng.random(n) > 0.1)
    demand = np.ceil(forecast * rng.uniform(0.5, 2, n)) + rng.integers(0, 3, n)
    cap = np.where(rng.random(n) < 0.3, rng.integers(0, 8, n).astype(float), np.nan)
    minimum = np.where(rng.random(n) < 0.3, rng.integers(0, 4, n), 0).astype(float)
    spec = rng.choice(["P1", "P2"], n)
    lines = pd.DataFrame(
        {"spec": spec, "area": "A", "forecast": forecast, "demand": demand, "cap": cap, "min": minimum}
    )
    up = np.minimum(demand, np.nan_to_num(cap, nan=np.inf))
    room = {s: int(up[spec == s].sum()) for s in ("P1", "P2")}
    supply = {("P1", "A"): int(rng.integers(0, room["P1"] + 5)), ("P2", "A"): int(rng.integers(0, room["P2"] + 5))}
    return lines, supply, up, np.minimum(minimum, up)


def test_properties_randomized():
    rng = np.random.default_rng(2026)
    for _ in range(300):
        n = int(rng.integers(1, 25))
        lines, supply, up, lo = _random_case(rng, n)
        sdf = pd.DataFrame([{"spec": k[0], "area": k[1], "supply": v} for k, v in supply.items()])
        r = allocate(lines, sdf)
        a = r.allocated
        assert (a >= 0).all() and (a <= up).all()  # never above demand or cap
        for (spec, area), s in supply.items():
            mask = (lines["spec"] == spec).to_numpy()
            room = int(up[mask].sum())
            placed = int(a[mask].sum())
            assert placed + r.unplaced.get((spec, area), 0) == s  # nothing lost
            assert placed == min(s, room)  # exact whenever the customers can take it
            if s >= lo[mask].sum():
                assert (a[mask] >= lo[mask]).all()  # minimums honoured when feasible
        # the plain-Python reference follows the same rules and tie-break
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in lines.to_dict("records")
        ]
        assert allocate_reference(rows, supply) == a.tolist()
        # deterministic
        assert allocate(lines, sdf).allocated.tolist() == a.tolist()


def test_tier_properties_randomized():
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 30))
        caps = np.sort(rng.integers(0, 6, 30))  # non-decreasing from tier 1 to 30
        tiers = rng.integers(1, 31, n)
        demand = rng.integers(0, 8, n)
        s = int(rng.integers(0, 60))
        lines = _lines(rng.uniform(0, 5, n), demand=demand, tier=tiers)
        r = allocate(lines, s, mode="tier", tier_caps=list(caps))
        a = r.allocated
        ceiling = np.minimum(demand, caps[tiers - 1])
        assert (a <= ceiling).all() and (a >= 0).all()
        assert a.sum() + sum(r.unplaced.values()) == s
        assert a.sum() == min(s, ceiling.sum())
