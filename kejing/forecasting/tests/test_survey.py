"""Month-end social-inventory and profit survey (source L2813-L2821): stock into the ledger, sales and purchases
into the survey, unit figures worked out by hand, field errors, scope and audit."""

from __future__ import annotations

import datetime as dt

from kejing.core.models import AuditLog
from kejing.forecasting.models import LedgerEntry, PhaseTask, ShopSurvey

from . import cycle_fixtures

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on
NOV = dt.date(2026, 11, 1)


def _put(client, h, customer, **body):
    data = {"month": "2026-11", "sales_amount": "1000.50", "purchase_amount": "880.25", **body}
    return client.put(f"/api/forecasting/survey/{customer.pk}", data, content_type="application/json", **h)


def test_survey_writes_stock_and_profit_and_the_unit_figures(cycle_data, client, token_for):
    org = cycle_data.org
    resp = _put(client, token_for(org.cm1), org.c1, stock={"JF01": 7, "TH04": 2})
    assert resp.status_code == 200, resp.content
    # gross profit = 1000.50 - 880.25 = 120.25
    assert resp.json()["gross_profit"] == "120.25"
    stock = dict(LedgerEntry.objects.filter(customer=org.c1, month=NOV).values_list("spec__code", "stock"))
    assert stock == {"JF01": 7, "TH04": 2}
    assert AuditLog.objects.filter(action="ledger_stock").count() == 2
    assert AuditLog.objects.filter(action="shop_survey").count() == 1
    # cm1 has one shop: surveying it closes his survey-and-summary task of the round
    task = PhaseTask.objects.get(round=cycle_data.round, phase="summary", task__staff=org.cm1).task
    assert task.done_at is not None
    # the month's sales from the ledger: 14 cartons of JF01 -> stock-to-sales = (7 + 2) / 14 = 0.64
    LedgerEntry.objects.filter(customer=org.c1, month=NOV, spec__code="JF01").update(sold=14)
    rows = {r["unit"]: r for r in client.get("/api/forecasting/survey?month=2026-11", **token_for(org.mm1)).json()}
    one = rows["一区"]
    assert (one["shops"], one["surveyed"], one["stock"], one["sold"]) == (1, 1, 9, 14)
    assert one["stock_to_sales"] == 0.64
    # margin = 120.25 / 1000.50 = 0.1202
    assert one["profit"] == 120.25 and one["margin"] == 0.1202
    assert rows["二区"]["surveyed"] == 0 and rows["二区"]["margin"] is None
    # another market's manager does not see 一区
    assert "一区" not in {r["unit"] for r in client.get("/api/forecasting/survey", **token_for(org.mm2)).json()}


def test_bad_fields_are_named_and_nothing_is_written(cycle_data, client, token_for):
    org = cycle_data.org
    resp = _put(client, token_for(org.cm1), org.c1, stock={"JF01": -1, "XX99": 3}, sales_amount="abc")
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert "JF01" in detail and "XX99" in detail and "amount" in detail
    resp = _put(client, token_for(org.cm1), org.c1, month="2026-08")
    assert resp.status_code == 400 and "month" in resp.json()["detail"]
    assert ShopSurvey.objects.count() == 0
    assert not LedgerEntry.objects.filter(month=NOV).exists()


def test_scope_and_who_writes(cycle_data, client, token_for, login):
    org = cycle_data.org
    assert _put(client, token_for(org.cm1), org.c2).status_code == 404
    assert _put(client, token_for(org.mm1), org.c1).status_code == 403
    web = login(org.cm1)
    assert web.get(f"/forecasting/survey/{org.c2.pk}/").status_code == 404
    page = web.get("/forecasting/survey/").content.decode()
    assert org.c1.name in page and org.c2.name not in page
    resp = web.post(
        f"/forecasting/survey/{org.c1.pk}/",
        {"month": "2026-11", "stock_JF01": "5", "sales_amount": "300", "purchase_amount": "250"},
    )
    assert resp.status_code == 302
    assert ShopSurvey.objects.get(customer=org.c1).gross_profit == 50
    assert login(org.mm1).post(f"/forecasting/survey/{org.c1.pk}/", {"month": "2026-11"}).status_code == 403
    xlsx = login(org.mm1).get("/forecasting/survey/?export=xlsx")
    assert xlsx.status_code == 200
