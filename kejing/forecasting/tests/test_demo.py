"""The demo's monthly cycle on a fixed day in the last five days of a month (27 November 2026): the round that
targets November is a past round, balanced and in November's ledger; the ledger holds November to date; the
survey has figures; the reports stay on the last complete month (October)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F, Sum

from kejing.forecasting import demo, selectors, services
from kejing.forecasting.models import ForecastLine, LedgerEntry, Round, Submission

from . import cycle_fixtures

on = cycle_fixtures.on
TODAY = dt.date(2026, 11, 27)
NOV, OCT, DEC = dt.date(2026, 11, 1), dt.date(2026, 10, 1), dt.date(2026, 12, 1)


@pytest.fixture
def demo_nov(policies, on):
    from kejing import demo as whole_demo

    on(TODAY)
    whole_demo.build(customers=300)
    return TODAY


def test_this_months_round_is_built_like_the_past_ones(demo_nov):
    targets = list(Round.objects.order_by("target").values_list("target", flat=True))
    # three complete months, this month (worked on in October) and the live round for December
    assert targets == [dt.date(2026, 8, 1), dt.date(2026, 9, 1), OCT, NOV, DEC]
    nov = Round.objects.get(target=NOV)
    assert nov.balanced_at is not None and nov.model_ran_at is not None
    lines = ForecastLine.objects.filter(round=nov)
    assert lines.count() > 100
    assert not lines.filter(balanced_qty__isnull=True).exists()
    assert not lines.filter(balanced_qty__gt=F("merged_qty")).exists()  # never above the forecast
    # submitted by the 8th of the month before (October)
    assert {s.submitted_at.date() for s in Submission.objects.filter(round=nov)} == {dt.date(2026, 10, 8)}
    # the balanced quantities are in November's ledger and the shops recorded them (the feedback)
    balanced = dict(((c, s), q) for c, s, q in lines.values_list("customer_id", "spec_id", "balanced_qty"))
    ledger = LedgerEntry.objects.filter(month=NOV)
    got = {
        (c, s): (a, r) for c, s, a, r in ledger.values_list("customer_id", "spec_id", "allocated", "recorded_forecast")
    }
    assert all(got[k] == (q, q) for k, q in balanced.items())


def test_this_months_ledger_holds_the_month_to_date(demo_nov):
    nov = LedgerEntry.objects.filter(month=NOV)
    assert nov.count() > 100
    assert not nov.filter(stock__lt=0).exists() and not nov.filter(sold__lt=0).exists()
    assert nov.filter(sold__gt=0).count() > nov.count() // 4
    assert not nov.filter(supplied__gt=F("demand")).exists()  # supplied out of what was ordered
    # 26 of 30 days are over (the ledger is kept to yesterday's close)
    assert demo.month_elapsed(TODAY) == 26 / 30
    # stock = October's stock + supplied so far - sold so far, row by row
    oct_stock = dict(
        ((c, s), q) for c, s, q in LedgerEntry.objects.filter(month=OCT).values_list("customer_id", "spec_id", "stock")
    )
    for c, s, supplied, sold, stock in nov.values_list("customer_id", "spec_id", "supplied", "sold", "stock"):
        assert stock == oct_stock.get((c, s), 0) + supplied - sold, (c, s)
    # less ordered so far than in the whole of a complete month is the rule, not the exception
    assert nov.aggregate(t=Sum("demand"))["t"] < LedgerEntry.objects.filter(month=OCT).aggregate(t=Sum("demand"))["t"]


def test_the_survey_has_figures_and_the_reports_stay_on_october(demo_nov, client, token_for):
    from kejing.org.models import Staff

    mm = Staff.objects.select_related("user").get(user__username="mm01")
    rows = services.survey_summary(mm.user, NOV)
    assert rows and any(r["stock_to_sales"] is not None for r in rows)
    for r in rows:
        if r["sold"]:
            assert r["stock_to_sales"] == round(r["stock"] / r["sold"], 2)
    # the reports and the meeting default to the last complete month, never the one still running
    assert selectors.closed_targets(1) == [OCT]
    client.force_login(mm.user)
    meeting = client.get("/forecasting/meeting/")
    assert meeting.status_code == 200 and meeting.context["month"] == OCT
    months = client.get("/api/forecasting/reports?months=12", **token_for(mm)).json()["months"]
    assert months[-1] == "2026-10-01" and "2026-11-01" not in months
    # the survey page of this month says that the month is not over
    page = client.get("/forecasting/survey/").content.decode()
    assert "本月未结束" in page
