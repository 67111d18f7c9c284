"""The pure engines: assignment invariants, hand-checkable cases, the baseline, the month plan and routes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kejing.territories.engine.assign import TerritoryError, assign
from kejing.territories.engine.baseline import baseline
from kejing.territories.engine.geo import compactness_km, haversine_km, project
from kejing.territories.engine.plan import PlanCustomer, month_plan, working_days
from kejing.territories.engine.policy import TerritoryPolicy, TerritoryPolicyError
from kejing.territories.engine.route import Stop, plan_route
from kejing.territories.engine.synthetic import generate


def test_projection_matches_haversine():
    lat = np.array([37.70, 37.80])
    lon = np.array([112.70, 112.85])
    p = project(lat, lon)
    flat = float(np.hypot(*(p[1] - p[0])))
    exact = haversine_km(37.70, 112.70, 37.80, 112.85)  # about 17.3 km
    assert 17 < exact < 18
    assert abs(flat - exact) / exact < 0.005


def test_compactness_by_hand():
    # one territory at (0,0) and (2,0): centroid (1,0), both 1 km from it -> mean 1.0
    # another at (10,0),(10,3),(10,6): centroid (10,3), distances 3,0,3 -> mean over all five: (1+1+3+0+3)/5 = 1.6
    pts = np.array([[0, 0], [2, 0], [10, 0], [10, 3], [10, 6]], dtype=float)
    assert compactness_km(pts, np.array([0, 0, 1, 1, 1]), 2) == pytest.approx(1.6)


def test_six_customers_two_cms_three_each():
    # two villages 10 km apart, three shops each; bounds 3-3; everybody is with CM 0 today.
    pts = np.array([[0, 0], [0.1, 0], [0.2, 0], [10, 0], [10.1, 0], [10.2, 0]])
    lo = hi = np.array([3, 3])
    bases = np.array([[0.0, 0.0], [10.0, 0.0]])
    r = assign(pts, lo, hi, current=np.zeros(6, dtype=int), bases=bases)
    assert r.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert r.moved == 3 and r.bounds_ok
    # each territory's centroid is its middle shop, 0.1 km from the outer two: mean (0.1+0+0.1)*2/6 = 0.0667
    assert r.compactness == pytest.approx(0.4 / 6)


def test_a_customer_stays_unless_the_gain_beats_the_penalty():
    # CM 0 holds (0,0),(1,0),(5.4,0); CM 1 holds (6,0),(7,0),(8,0). Bounds 2-4 allow any split.
    # Shop (5.4,0) is 2.72 km from CM 0's centre (2.13) and 1.6 km from CM 1's (7): a gain of ~1.1 km.
    pts = np.array([[0, 0], [1, 0], [5.4, 0], [6, 0], [7, 0], [8, 0]], dtype=float)
    cur = np.array([0, 0, 0, 1, 1, 1])
    lo, hi = np.array([2, 2]), np.array([4, 4])
    stays = assign(pts, lo, hi, current=cur, move_penalty_km=5.0)
    assert stays.moved == 0 and stays.labels.tolist() == cur.tolist()
    moves = assign(pts, lo, hi, current=cur, move_penalty_km=0.5)
    assert moves.labels.tolist() == [0, 0, 1, 1, 1, 1] and moves.moved == 1


def test_bounds_every_customer_once_and_determinism():
    data = generate(3000, seed=7)
    pts = project(data.lat, data.lon)
    lo = np.array([150 if a == "urban" else 130 for a in data.cm_area])
    hi = np.array([180 if a == "urban" else 150 for a in data.cm_area])
    a = assign(pts, lo, hi, current=data.current, seed=3)
    b = assign(pts, lo, hi, current=data.current, seed=3)
    assert len(a.labels) == len(pts) and a.labels.min() >= 0 and a.labels.max() < len(lo)
    loads = np.bincount(a.labels, minlength=len(lo))
    assert ((loads >= lo) & (loads <= hi)).all() and a.bounds_ok and loads.sum() == len(pts)
    assert np.array_equal(a.labels, b.labels)
    assert a.moved == int((a.labels != data.current).sum())
    base = baseline(pts, lo, hi, current=data.current, seed=3)
    bl = np.bincount(base, minlength=len(lo))
    assert ((bl >= lo) & (bl <= hi)).all()  # the greedy repair meets the bounds too
    assert a.compactness < compactness_km(pts, base, len(lo))


def test_impossible_totals_give_least_violation():
    # 5 customers cannot fill two CMs of exactly 3: one CM gets 3, the other 2 (one short), nobody is lost
    pts = np.array([[0, 0], [1, 0], [2, 0], [9, 0], [10, 0]], dtype=float)
    r = assign(pts, np.array([3, 3]), np.array([3, 3]))
    assert not r.feasible and not r.bounds_ok
    assert sorted(np.bincount(r.labels, minlength=2).tolist()) == [2, 3]


def test_bad_bounds_are_refused():
    with pytest.raises(TerritoryError):
        assign(np.zeros((2, 2)), np.array([3]), np.array([2]))


def test_policy_file_and_errors():
    p = TerritoryPolicy.load("tobacco")
    assert p.bounds_for("rural") == (130, 150) and p.bounds_for("urban") == (150, 180)  # source L2727
    assert p.frequency("A") == 4 and p.frequency("?") == p.default_visits_per_month
    assert p.hours("convenience") == (7 * 60, 23 * 60)
    with pytest.raises(TerritoryPolicyError):
        p.bounds_for("suburb")
    for industry in ("telecom", "bank"):
        assert TerritoryPolicy.load(industry).bounds_for("urban")[0] > 0
    data = {**_raw(), "workday": {"start": "18:00", "end": "08:00"}}
    with pytest.raises(TerritoryPolicyError, match="workday"):
        TerritoryPolicy.from_data(data)


def _raw():
    from kejing.core.policy import load_policy

    return load_policy("tobacco", "territories")


def test_working_days_use_the_holiday_calendar():
    oct25 = working_days(2025, 10)
    # National Day 1-8 Oct 2025 off; Saturday 11 Oct is a make-up working day
    assert dt.date(2025, 10, 8) not in oct25 and dt.date(2025, 10, 11) in oct25
    assert len(oct25) == 18


def test_month_plan_spacing_and_balance():
    # 20 working days; frequencies 4, 2, 1 -> 4 cycles of 5 days; every customer gets exactly f visits
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(20)]
    rng = np.random.default_rng(1)
    cust = [PlanCustomer(i, *rng.normal(0, 3, 2), f) for i, f in enumerate([4] * 10 + [2] * 30 + [1] * 60 + [0] * 5)]
    plan = month_plan(cust, days)
    assert all(len(plan[c.key]) == c.per_month for c in cust)
    for c in cust:
        idx = [days.index(d) for d in plan[c.key]]
        if c.per_month == 4:
            assert idx == [idx[0], idx[0] + 5, idx[0] + 10, idx[0] + 15]  # same sector day every cycle
        if c.per_month == 2:
            assert idx[1] - idx[0] == 10
    per_day = np.bincount([days.index(d) for v in plan.values() for d in v], minlength=20)
    # 10*4 + 30*2 + 60*1 = 160 visits over 20 days = 8 a day; sectors keep every day close to that
    assert per_day.sum() == 160 and per_day.max() - per_day.min() <= 5


def test_route_respects_time_windows():
    # base at 0; shop "pm" 1 km east opens at 13:00; shop "am" 2 km east closes at 10:00; 60 km/h, road factor 1.
    stops = [
        Stop("pm", 1.0, 0.0, 13 * 60, 18 * 60, 15),
        Stop("am", 2.0, 0.0, 8 * 60, 10 * 60, 15),
        Stop("never", 3.0, 0.0, 19 * 60, 21 * 60, 15),  # opens after the working day: left out
    ]
    r = plan_route((0.0, 0.0), stops, 8 * 60 + 30, 17 * 60 + 30, speed_kmh=60, road_factor=1.0)
    assert [s.key for s in r.stops] == ["am", "pm"] and r.dropped == ["never"]
    am, pm = r.stops
    assert 8 * 60 <= am.arrive <= 10 * 60 - 15 and am.leave == am.arrive + 15
    assert pm.arrive >= 13 * 60 and pm.leave <= 18 * 60
    assert r.depart >= 8 * 60 + 30 and r.back <= 17 * 60 + 30
    # 2 km out, 1 km back to "pm", 1 km home = 4 km
    assert r.distance_km == pytest.approx(4.0)
    again = plan_route((0.0, 0.0), stops, 8 * 60 + 30, 17 * 60 + 30, speed_kmh=60, road_factor=1.0)
    assert [s.arrive for s in again.stops] == [s.arrive for s in r.stops]
