"""Allocation engine: hand-worked examples, tier mode, and randomized property checks against the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kejing.forecasting.engine import AllocationError, allocate
from kejing.forecasting.engine.allocation_reference import allocate_reference, allocate_reference_tier


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
    # Supply 5, ladder a = 2 / 2 / 1 / 1: lam = 1/2 -> floor(2/2) = 1 for tier 30, floor(1/2) = 0 for tier 5 (2 units);
    # the next step is lam = 1, where all four step together: 2 + 2 + 1 + 1 = 6 > 5. So lam stops just below 1:
    # 1 / 1 / 0 / 0, and the 3 left go one each to the highest tiers: lines 1 and 2 (tier 30), then tier 5 with equal
    # forecasts -> the earlier line 3: 2 / 2 / 1 / 0. (Until the tiers' common step was made exact, a float hair let
    # tier 5 step before tier 30 and this gave 1 / 2 / 1 / 1, which no single lam produces.)
    r = allocate(_lines([3, 4, 3, 3], demand=[5] * 4, tier=[30, 30, 5, 5]), 5, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [2, 2, 1, 0]
    assert r.tier_quantity == {("P1", "A"): {5: 0, 30: 1}}
    # Supply 9 > full caps 2+2+1+1 = 6: 3 reported as unplaced.
    r = allocate(_lines([3, 4, 3, 3], demand=[5] * 4, tier=[30, 30, 5, 5]), 9, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [2, 2, 1, 1]
    assert r.remainders[0].unplaced == 3 and r.remainders[0].reason == "tier_caps_reached"


def test_tier_mode_lines_stepping_together_step_together():
    # Ladder a_t = t, tiers 1, 2, 3, demand 10 each, supply 5. Steps of floor(lam * t): lam = 1/3 (tier 3 -> 1),
    # 1/2 (tier 2 -> 1), 2/3 (tier 3 -> 2), then lam = 1 where all three step at once: 1 + 2 + 3 = 6 > 5.
    # So lam stops just below 1: q = 0 / 1 / 2 = 3, and the 2 left go one each to the highest tiers: tier 3, tier 2
    # -> 0 / 2 / 3. (A float search that let tier 1 step a hair before tier 3 gave 1 / 2 / 2.)
    r = allocate(_lines([5, 5, 5], demand=[10] * 3, tier=[1, 2, 3]), 5, mode="tier")
    assert r.allocated.tolist() == [0, 2, 3]
    assert r.tier_quantity == {("P1", "A"): {1: 0, 2: 1, 3: 2}}


def test_tier_mode_honours_minimums():
    # Ladder a_t = t, tiers 1, 2, 3, forecast 5 and demand 10 each, supply 8; the tier-1 line has a minimum of 4.
    # Each line gets min(10, max(lo, floor(lam * t))) with lo = 4, 0, 0. Total by lam:
    #   lam = 1/3: 4 + 0 + 1 = 5;  1/2: 4 + 1 + 1 = 6;  2/3: 4 + 1 + 2 = 7;  1: 4 + 2 + 3 = 9 > 8.
    # So lam stops just below 1: q_1 = 0, q_2 = 1, q_3 = 2; the tier-1 line gets its minimum 4 instead of 0.
    # 4 + 1 + 2 = 7, one unit left -> the highest tier (3): 4 / 1 / 3 = 8.
    lines = _lines([5, 5, 5], demand=[10] * 3, tier=[1, 2, 3], min=[4, 0, 0])
    r = allocate(lines, 8, mode="tier")
    assert r.allocated.tolist() == [4, 1, 3]
    assert r.tier_quantity == {("P1", "A"): {1: 0, 2: 1, 3: 2}}  # the ladder's figures, minimum aside
    assert r.remainders == []
    # Without the minimum the same supply climbs further: lam = 1: 1 + 2 + 3 = 6; 4/3: tier 3 -> 4 = 7;
    # 3/2: tier 2 -> 3 = 8; 5/3: tier 3 -> 5 = 9 > 8. Just below 5/3: 1 / 3 / 4 = 8 exactly.
    assert allocate(lines.drop(columns=["min"]), 8, mode="tier").allocated.tolist() == [1, 3, 4]
    # Supply 4 = the minimum: lam stays below 1/3 (4 + 0 + 1 = 5 > 4): 4 / 0 / 0.
    assert allocate(lines, 4, mode="tier").allocated.tolist() == [4, 0, 0]
    # A minimum above the demand counts up to the demand: minimum 15 on demand 10 -> lo = 10. Supply 16:
    # 10 + floor(2 lam) + floor(3 lam): lam = 1: 10 + 2 + 3 = 15; 4/3: tier 3 -> 4 = 16; 3/2: tier 2 -> 3 = 17 > 16.
    # Just below 3/2: 10 / 2 / 4 = 16.
    r = allocate(lines.assign(min=[15, 0, 0]), 16, mode="tier")
    assert r.allocated.tolist() == [10, 2, 4] and r.remainders == []


def test_tier_mode_minimum_within_the_tier_cap():
    caps = {t: (2 if t >= 10 else 1) for t in range(1, 31)}
    # Tier caps 2 (tier >= 10) and 1 (below). Tiers 30, 30, 5, forecasts 3 / 4 / 3, demand 5 each, supply 3.
    # The tier-5 line asks for a minimum of 3 but its tier cap is 1: lo = min(3, 1) = 1.
    # Ladder a = 2, 2, 1 (lam <= 1): lam = 1/2 -> 1 + 1 + max(1, 0) = 3; lam = 1 -> 2 + 2 + 1 = 5 > 3.
    # Just below 1: q_30 = 1, q_5 = 0, the tier-5 line gets its minimum (cut to 1): 1 / 1 / 1 = 3.
    lines = _lines([3, 4, 3], demand=[5] * 3, tier=[30, 30, 5], min=[0, 0, 3])
    r = allocate(lines, 3, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [1, 1, 1]
    assert r.tier_quantity == {("P1", "A"): {5: 0, 30: 1}}
    # Without it: 1 + 1 + 0 = 2 and the last unit goes to tier 30, the larger forecast (line 2): 1 / 2 / 0.
    assert allocate(lines.drop(columns=["min"]), 3, mode="tier", tier_caps=caps).allocated.tolist() == [1, 2, 0]


def test_tier_mode_supply_below_the_minimums():
    # Minimums 4 + 4 + 4 = 12 > supply 10: shared by the minimums as in proportional mode: 10/3 = 3.33 each,
    # floors 3 + 3 + 3 = 9, the 10th unit to the equal fractions' larger forecast (line 3): 3 / 3 / 4.
    # Reported as minimums_short, nothing unplaced; the ladder is not used (q_t = 0 for every tier).
    lines = _lines([10, 20, 30], demand=[10] * 3, tier=[3, 2, 1], min=[4, 4, 4])
    r = allocate(lines, 10, mode="tier")
    assert r.allocated.tolist() == [3, 3, 4]
    assert [(x.reason, x.placed, x.unplaced) for x in r.remainders] == [("minimums_short", 10, 0)]
    assert r.tier_quantity == {("P1", "A"): {1: 0, 2: 0, 3: 0}}
    assert allocate(lines, 10).allocated.tolist() == [3, 3, 4]  # the same as proportional mode
    # With tier caps the minimums are first cut to the caps: tier 1 cap 1, tiers 2-3 cap 3 -> lo = 3, 3, 1 (= 7).
    # Supply 5 < 7: shares 5 * 3/7 = 2.14, 2.14, 0.71; floors 2 + 2 + 0 = 4, the 5th to the largest fraction
    # (.71, line 3): 2 / 2 / 1.
    caps = [1] + [3] * 29
    r = allocate(lines, 5, mode="tier", tier_caps=caps)
    assert r.allocated.tolist() == [2, 2, 1]
    assert r.remainders[0].reason == "minimums_short"
    # One more group beside it, with supply to spare over its minimums, keeps the ladder.
    two = pd.concat([lines, lines.assign(spec="P2")], ignore_index=True)
    supply = pd.DataFrame({"spec": ["P1", "P2"], "area": "A", "supply": [10, 18]})
    r = allocate(two, supply, mode="tier")
    # P2, supply 18 >= 12: max(4, floor(lam * t)) per line, tiers 3, 2, 1: lam <= 4/3 keeps everyone at 4 (12);
    # 5/3: tier 3 -> 5 = 13; 2: tier 3 -> 6 = 14; 7/3: 7 = 15; 5/2: tier 2 -> 5 = 16; 8/3: tier 3 -> 8 = 17;
    # 3: tier 3 -> 9, tier 2 -> 6 = 19 > 18. Just below 3: 8 / 5 / 4 = 17, the last unit to tier 3: 9 / 5 / 4.
    assert r.allocated.tolist() == [3, 3, 4, 9, 5, 4]
    assert [(x.spec, x.reason) for x in r.remainders] == [("P1", "minimums_short")]


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
    for k in range(300):
        n = int(rng.integers(1, 30))
        capped = k % 3 != 0
        caps = np.sort(rng.integers(0, 6, 30)) if capped else None  # non-decreasing from tier 1 to 30
        tiers = rng.integers(1, 31, n) if k % 2 else rng.integers(1, 6, n)  # few tiers: many common steps
        demand = rng.integers(0, 8, n)
        minimum = np.where(rng.random(n) < 0.3, rng.integers(0, 6, n), 0)
        s = int(rng.integers(0, 60))
        lines = _lines(np.round(rng.uniform(0, 5, n), 1), demand=demand, tier=tiers, min=minimum)
        r = allocate(lines, s, mode="tier", tier_caps=None if caps is None else list(caps))
        a = r.allocated
        ceiling = np.minimum(demand, caps[tiers - 1]) if capped else demand
        lo = np.minimum(minimum, ceiling)
        assert (a <= ceiling).all() and (a >= 0).all()
        assert a.sum() + sum(r.unplaced.values()) == s
        assert a.sum() == min(s, ceiling.sum())
        if s >= lo.sum():
            assert (a >= lo).all()  # minimums honoured whenever the supply covers them
            q = np.array([r.tier_quantity[("P1", "A")][t] for t in tiers])
            base = np.minimum(ceiling, np.maximum(lo, q))
            assert ((a - base >= 0) & (a - base <= 1)).all()  # the ladder (or minimum), then at most one unit
        else:
            assert [x.reason for x in r.remainders] == ["minimums_short"]
        # the exact plain-Python reference (ladder steps as fractions, no bisection) gives the same units
        rows = lines.to_dict("records")
        assert allocate_reference_tier(rows, {("P1", "A"): s}, None if caps is None else caps.tolist()) == a.tolist()
