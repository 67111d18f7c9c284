"""Emergency and special orders (source L2799): within the CM's limits at once, above them a manager decides;
approved orders reach the ledger; scope and audit hold on pages and the API."""

from __future__ import annotations

import datetime as dt

from kejing.core.models import AuditLog
from kejing.forecasting.models import LedgerEntry, SpecialOrder

from . import cycle_fixtures

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on
NOV = dt.date(2026, 11, 1)


def _raise(client, h, customer, qty, kind="emergency", **extra):
    body = {"customer_id": customer.pk, "spec": "JF01", "quantity": qty, "kind": kind, "reason": "断货", **extra}
    return client.post("/api/forecasting/special-orders", body, content_type="application/json", **h)


def _ledger(customer):
    return LedgerEntry.objects.filter(customer=customer, spec__code="JF01", month=NOV).first()


def test_within_limits_approved_at_once_and_in_the_ledger(cycle_data, client, token_for):
    org = cycle_data.org
    h = token_for(org.cm1)
    # default limits: 20 cartons an order, 100 a month. 20 is within both -> approved, ledger 0 + 20.
    resp = _raise(client, h, org.c1, 20)
    assert resp.status_code == 201, resp.content
    assert resp.json()["state"] == "approved" and resp.json()["within_limit"] is True
    entry = _ledger(org.c1)
    assert (entry.demand, entry.supplied) == (20, 20)
    # 21 cartons in one order is above the per-order limit -> waits; the ledger does not move
    resp = _raise(client, h, org.c1, 21, kind="wedding")
    assert resp.json()["state"] == "pending" and resp.json()["within_limit"] is False
    assert _ledger(org.c1).demand == 20
    # the waiting 21 does not use his limit (only what he approved himself counts): four more orders of 20 give
    # 20 + 4 x 20 = 100 = the monthly limit, all approved; one more carton (101) waits
    for _ in range(4):
        assert _raise(client, h, org.c1, 20).json()["state"] == "approved"
    assert _raise(client, h, org.c1, 1).json()["state"] == "pending"
    assert _ledger(org.c1).demand == 100
    assert AuditLog.objects.filter(action="ledger_special_order").count() == 5


def test_manager_decides_above_the_limit(cycle_data, client, token_for):
    org = cycle_data.org
    order_id = _raise(client, token_for(org.cm1), org.c1, 30, kind="group").json()["id"]
    url = f"/api/forecasting/special-orders/{order_id}/decision"
    # the CM cannot approve his own order; a manager of another market cannot find it
    assert client.post(url, {"approve": True}, content_type="application/json", **token_for(org.cm1)).status_code == 403
    assert client.post(url, {"approve": True}, content_type="application/json", **token_for(org.mm2)).status_code == 404
    # a rejection needs a note
    resp = client.post(url, {"approve": False}, content_type="application/json", **token_for(org.mm1))
    assert resp.status_code == 400 and "note" in resp.json()["detail"]
    resp = client.post(url, {"approve": True, "note": "婚宴"}, content_type="application/json", **token_for(org.mm1))
    assert resp.status_code == 200 and resp.json()["state"] == "approved" and resp.json()["decided_by"] == "MM1"
    assert _ledger(org.c1).supplied == 30
    # decided once only
    resp = client.post(url, {"approve": True}, content_type="application/json", **token_for(org.mm1))
    assert resp.status_code == 400
    assert AuditLog.objects.filter(action="special_order_approve").count() == 1


def test_bad_input_names_the_field_and_writes_nothing(cycle_data, client, token_for):
    org = cycle_data.org
    h = token_for(org.cm1)
    resp = _raise(client, h, org.c1, 0, kind="party", month="2026-10")
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert "quantity" in detail and "kind" in detail and "month" in detail
    # another CM's shop is not his
    assert "customer" in _raise(client, h, org.c2, 5).json()["detail"]
    assert SpecialOrder.objects.count() == 0 and _ledger(org.c1) is None


def test_scope_on_the_page_and_the_list(cycle_data, client, token_for, login):
    org = cycle_data.org
    _raise(client, token_for(org.cm2), org.c2, 5)
    assert [o["customer_id"] for o in client.get("/api/forecasting/special-orders", **token_for(org.cm2)).json()] == [
        org.c2.pk
    ]
    assert client.get("/api/forecasting/special-orders", **token_for(org.cm1)).json() == []
    assert client.get("/api/forecasting/special-orders", **token_for(org.mm2)).json() == []
    web = login(org.cm1)
    page = web.get("/forecasting/special/").content.decode()
    assert org.c2.name not in page
    # the page form raises an order for his own shop (within the limit -> approved)
    resp = web.post(
        "/forecasting/special/",
        {
            "customer": org.c1.pk,
            "spec": "JF01",
            "kind": "funeral",
            "month": "2026-11",
            "quantity": "3",
            "reason": "丧事",
        },
    )
    assert resp.status_code == 302 and _ledger(org.c1).supplied == 3
    xlsx = web.get("/forecasting/special/?export=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    # a manager's page shows the approve button for a waiting order in his unit
    _raise(client, token_for(org.cm1), org.c1, 50)
    assert "decision" in login(org.mm1).get("/forecasting/special/").content.decode()
