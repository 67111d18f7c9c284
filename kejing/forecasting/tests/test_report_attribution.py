"""Whose a month's forecast and orders are once a shop has moved to another CM (a reassignment, a territory
redesign): the reports and the appraisal scorecard keep each past month with the CM and unit the round gave it.

December 2026's round, then C1 (cm1, unit 一区) moves to cm2 (unit 二区). Worked by hand:

  shop × spec   CM at the round   forecast   demand   |error|
  C1 × JF01     cm1               10         12       2
  C1 × TH04     cm1                4          4       0
  C1 × YL01     cm1 (C1's round)   —          3       3   ordered, nobody forecast it: the shop's CM at the round
  C2 × JF01     cm2               20         18       2
  C2 × YL01     cm2                6          6       0
  C3 × JF01     cm3                5          5       0

  cm1: Σdemand 12 + 4 + 3 = 19, Σ|error| 2 + 0 + 3 = 5  → accuracy 1 − 5/19 = 73.7 %
  cm2: Σdemand 18 + 6 = 24,     Σ|error| 2             → accuracy 1 − 2/24 = 91.7 %

Before, the rows followed the shop's CM of today: cm1's December vanished from his own report and scorecard
(no shop of his in the ledger) and cm2's fell to 1 − (2 + 19)/(24 + 19) = 51.2 % with orders he never forecast.
"""

from __future__ import annotations

import pytest

from kejing.customers.models import Customer
from kejing.forecasting import selectors
from kejing.forecasting.models import ForecastLine, LedgerEntry, Spec

from . import cycle_fixtures

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on
DEC = cycle_fixtures.TARGET

FORECAST = {("C1", "JF01"): 10, ("C1", "TH04"): 4, ("C2", "JF01"): 20, ("C2", "YL01"): 6, ("C3", "JF01"): 5}
DEMAND = {
    ("C1", "JF01"): 12,
    ("C1", "TH04"): 4,
    ("C1", "YL01"): 3,
    ("C2", "JF01"): 18,
    ("C2", "YL01"): 6,
    ("C3", "JF01"): 5,
}


@pytest.fixture
def moved(cycle_data):
    org, rnd = cycle_data.org, cycle_data.round
    for (shop, spec), q in FORECAST.items():
        n = ForecastLine.objects.filter(round=rnd, customer__code=shop, spec__code=spec).update(merged_qty=q)
        assert n == 1, (shop, spec)
    assert ForecastLine.objects.filter(round=rnd).count() == len(FORECAST)
    shops = {c.code: c for c in Customer.objects.filter(code__in=["C1", "C2", "C3"])}
    specs = {s.code: s for s in Spec.objects.filter(code__in=["JF01", "TH04", "YL01"])}
    for (shop, spec), d in DEMAND.items():
        LedgerEntry.objects.create(customer=shops[shop], spec=specs[spec], month=DEC, demand=d, supplied=d)
    Customer.objects.filter(pk=org.c1.pk).update(cm=org.cm2, unit=org.u2)
    return org


def _accuracy(user, by: str = "cm") -> dict[int, float]:
    report = selectors.report(user, [DEC], by)
    return {r["key"]: round(r["values"]["accuracy"], 4) for r in report["rows"] if r["month"] == DEC}


def test_a_moved_shops_month_stays_with_the_cm_and_unit_of_the_round(moved):
    org = moved
    cm1, cm2 = round(1 - 5 / 19, 4), round(1 - 2 / 24, 4)
    assert _accuracy(org.cm1.user) == {org.cm1.pk: cm1}  # his forecasts' outcomes, though C1 is no longer his
    assert _accuracy(org.cm2.user) == {org.cm2.pk: cm2}  # not C1's December, which he never forecast
    assert _accuracy(org.mm1.user) == {org.cm1.pk: cm1, org.cm2.pk: cm2}
    assert _accuracy(org.center.user, "unit") == {org.u1.pk: cm1, org.u2.pk: cm2, org.u3.pk: 1.0}
    # the pandas path (for formulas the database cannot sum) reads the same rows
    frame = selectors.report_frame(org.cm2.user, [DEC])
    assert (frame["demand"].sum(), (frame["forecast"] - frame["demand"]).abs().sum()) == (24, 2)
    frame = selectors.report_frame(org.cm1.user, [DEC])
    assert (frame["demand"].sum(), (frame["forecast"] - frame["demand"]).abs().sum()) == (19, 5)
    assert set(frame["customer"]) == {org.c1.pk}


def test_the_scorecard_keeps_the_month_with_the_cm_who_forecast_it(moved, client, token_for):
    org = moved
    mine = client.get(f"/api/appraisal/kpi/{org.cm1.pk}?month=2026-12", **token_for(org.cm1)).json()
    rows = {r["code"]: r for r in mine["rows"]}
    assert rows["forecast_accuracy"]["months"][-1]["value"] == "73.7"  # 1 − 5/19
    theirs = client.get(f"/api/appraisal/kpi/{org.cm2.pk}?month=2026-12", **token_for(org.cm2)).json()
    rows = {r["code"]: r for r in theirs["rows"]}
    assert rows["forecast_accuracy"]["months"][-1]["value"] == "91.7"  # 1 − 2/24


def test_the_ledger_page_still_follows_the_shop(moved):
    """Reading a shop's ledger is about the shop: its new CM sees its past months, its old CM no longer does."""
    org = moved
    assert selectors.visible_ledger(org.cm2.user).filter(customer=org.c1, month=DEC).count() == 3
    assert not selectors.visible_ledger(org.cm1.user).filter(customer=org.c1).exists()


def test_before_the_move_nothing_changes(cycle_data):
    """Without a move the rows are the shop's of today, as before: a check that the attribution adds nothing."""
    org, rnd = cycle_data.org, cycle_data.round
    ForecastLine.objects.filter(round=rnd).update(merged_qty=1)
    spec = Spec.objects.get(code="JF01")
    LedgerEntry.objects.create(customer=org.c1, spec=spec, month=DEC, demand=3)
    # C1 × JF01: forecast 1, demand 3 → |error| 2; C1 × TH04: forecast 1, demand 0 → 1; Σdemand 3 → 1 − 3/3 = 0
    assert _accuracy(org.cm1.user) == {org.cm1.pk: 0.0}
