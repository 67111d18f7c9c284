"""Who may touch what: managers see and comment but cannot change a CM's figures (pages and API); a CM never
reaches another CM's customers (404); a shop key writes only its own shop; list query counts stay flat."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejing.core.models import AuditLog
from kejing.forecasting import services
from kejing.forecasting.models import Comment, Feedback, ForecastLine, ShopKey

from . import cycle_fixtures
from .cycle_fixtures import TARGET

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on


def _cm_qty(customer, spec="JF01"):
    return ForecastLine.objects.get(round__target=TARGET, customer=customer, spec__code=spec).cm_qty


def test_managers_cannot_change_a_cms_figures_over_the_api(cycle_data, client, token_for):
    org = cycle_data.org
    body = {"lines": [{"spec": "JF01", "quantity": 50}]}
    for manager in (org.mm1, org.head1, org.center):
        resp = client.put(
            f"/api/forecasting/forecasts/{org.c1.pk}", body, content_type="application/json", **token_for(manager)
        )
        assert resp.status_code == 403, manager.role
        assert "comment" in resp.json()["detail"]
    assert _cm_qty(org.c1) is None
    # ... nor submit for him
    assert (
        client.post("/api/forecasting/submit", {}, content_type="application/json", **token_for(org.mm1)).status_code
        == 403
    )
    # they may comment, and the comment is audited
    resp = client.post(
        "/api/forecasting/comments",
        {"cm": "CM1", "text": "JF01 偏低,请核实"},
        content_type="application/json",
        **token_for(org.mm1),
    )
    assert resp.status_code == 201
    assert Comment.objects.get().author == org.mm1
    assert AuditLog.objects.filter(action="forecast_comment").count() == 1
    # a manager of another market cannot even find cm1
    resp = client.post(
        "/api/forecasting/comments", {"cm": "CM1", "text": "x"}, content_type="application/json", **token_for(org.mm2)
    )
    assert resp.status_code == 404


def test_managers_cannot_change_a_cms_figures_on_the_page(cycle_data, login):
    org = cycle_data.org
    client = login(org.mm1)
    url = f"/forecasting/entry/{org.c1.pk}/?month=2026-12"
    page = client.get(url)
    assert page.status_code == 200 and "disabled" in page.content.decode()  # read-only view
    resp = client.post(url, {"qty_JF01": "50", "month": "2026-12"})
    assert resp.status_code == 403
    assert _cm_qty(org.c1) is None
    # the CM himself can
    resp = login(org.cm1).post(url, {"qty_JF01": "13", "month": "2026-12"})
    assert resp.status_code == 302 and _cm_qty(org.c1) == 13
    assert AuditLog.objects.filter(action="forecast_cm", customer=org.c1).count() == 1


def test_only_the_shops_cm_records_feedback_with_its_own_refusal(cycle_data, client, token_for, login):
    """A market manager who sees the shop is refused with the feedback rule, not the "change a forecast" one."""
    org = cycle_data.org
    resp = client.post(
        f"/api/forecasting/feedback/{org.c1.pk}",
        {"month": "2026-12", "guidance": "x"},
        content_type="application/json",
        **token_for(org.mm1),
    )
    assert resp.status_code == 403
    detail = resp.json()["detail"]
    assert detail == "只有负责该客户的客户经理可以登记反馈 / only the customer's own CM records the feedback"
    assert "comment" not in detail
    # the page says the same rule
    resp = login(org.mm1).post(f"/forecasting/feedback/{org.c1.pk}/", {"month": "2026-12", "guidance": "x"})
    assert resp.status_code == 403 and resp.content.decode() == "只有负责该客户的客户经理可以登记反馈。"
    assert not Feedback.objects.exists() and not AuditLog.objects.filter(action="forecast_feedback").exists()


def test_a_cm_answers_on_his_own_round_on_the_page(cycle_data, login, client, token_for):
    """Anyone who sees the CM may comment (page and API alike), the CM himself included; others get 404."""
    org = cycle_data.org
    web = login(org.cm1)
    page = web.get("/forecasting/consolidation/?month=2026-12").content.decode()
    assert 'action="/forecasting/comment/"' in page and '<option value="CM1">' in page
    assert '<option value="CM2">' not in page  # only himself
    resp = web.post("/forecasting/comment/", {"month": "2026-12", "cm": "CM1", "text": "JF01 客户本月有婚宴"})
    assert resp.status_code == 302
    comment = Comment.objects.get()
    assert (comment.cm, comment.author) == (org.cm1, org.cm1)
    assert "JF01 客户本月有婚宴" in web.get("/forecasting/consolidation/?month=2026-12").content.decode()
    assert "JF01 客户本月有婚宴" in web.get("/forecasting/?month=2026-12").content.decode()
    assert _cm_qty(org.c1) is None  # a comment changes no figure
    # another CM, and a market manager of another market, cannot see cm1: 404 on the page and the API
    for other in (org.cm2, org.mm2):
        resp = login(other).post("/forecasting/comment/", {"month": "2026-12", "cm": "CM1", "text": "x"})
        assert resp.status_code == 404, other.role
        resp = client.post(
            "/api/forecasting/comments",
            {"month": "2026-12", "cm": "CM1", "text": "x"},
            content_type="application/json",
            **token_for(other),
        )
        assert resp.status_code == 404, other.role
    assert Comment.objects.count() == 1
    # the manager above him gets the form as before
    assert (
        'action="/forecasting/comment/"'
        in login(org.mm1).get("/forecasting/consolidation/?month=2026-12").content.decode()
    )


def test_a_cm_adds_a_spec_the_shop_has_not_carried_on_the_page(cycle_data, login):
    """C1 carried JF01 and TH04; the grid offers the other specs on sale in 2026-12 (YQ03, launched 2026-02, marked
    new; FH01, withdrawn 2025-06, not offered) and the CM's figure for one of them becomes a line of the round."""
    org = cycle_data.org
    url = f"/forecasting/entry/{org.c1.pk}/?month=2026-12"
    client = login(org.cm1)
    html = client.get(url).content.decode()
    offered = re.findall(r'<option value="([A-Z0-9]+)">', html.split('id="add_spec"')[1].split("</select>")[0])
    assert "YQ03" in offered and "FH01" not in offered and "JF01" not in offered and "TH04" not in offered
    assert re.search(r'<option value="YQ03">[^<]*· 新品</option>', html)
    resp = client.post(url, {"qty_JF01": "", "qty_TH04": "", "add_spec": "YQ03", "add_qty": "4", "month": "2026-12"})
    assert resp.status_code == 302
    line = ForecastLine.objects.get(round__target=TARGET, customer=org.c1, spec__code="YQ03")
    assert (line.cm_qty, line.merged_qty, line.source, line.cm_id) == (4, 4, "cm", org.cm1.pk)
    assert AuditLog.objects.get(action="forecast_cm", customer=org.c1).changes == {"YQ03.cm_qty": [None, 4]}
    # a spec chosen without a figure is named, and nothing is written
    resp = client.post(url, {"add_spec": "JF04", "add_qty": "", "month": "2026-12"})
    assert resp.status_code == 200 and "请填写所添加规格的预测数量" in resp.content.decode()
    assert not ForecastLine.objects.filter(customer=org.c1, spec__code="JF04").exists()
    # a manager's read-only view offers nothing to add
    assert 'id="add_spec"' not in login(org.mm1).get(url).content.decode()


def test_lock_after_the_deadline_even_without_submission(cycle_data, on, client, token_for):
    org = cycle_data.org
    h = token_for(org.cm1)
    url = f"/api/forecasting/forecasts/{org.c1.pk}"
    on(dt.date(2026, 11, 8))  # the 8th itself is still open
    assert (
        client.put(url, {"lines": [{"spec": "JF01", "quantity": 9}]}, content_type="application/json", **h).status_code
        == 200
    )
    on(dt.date(2026, 11, 9))
    resp = client.put(url, {"lines": [{"spec": "JF01", "quantity": 10}]}, content_type="application/json", **h)
    assert resp.status_code == 400 and "deadline" in resp.json()["detail"]
    assert _cm_qty(org.c1) == 9
    assert client.post("/api/forecasting/submit", {}, content_type="application/json", **h).status_code == 400


def test_bad_quantities_name_the_spec_and_write_nothing(cycle_data, client, token_for):
    org = cycle_data.org
    resp = client.put(
        f"/api/forecasting/forecasts/{org.c1.pk}",
        {"lines": [{"spec": "JF01", "quantity": 5}, {"spec": "NOPE", "quantity": 1}, {"spec": "TH04", "quantity": -2}]},
        content_type="application/json",
        **token_for(org.cm1),
    )
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert set(errors) == {"NOPE", "TH04"}
    assert _cm_qty(org.c1) is None  # the valid JF01 line was not written either


def test_shop_key_is_scoped_to_its_own_shop(cycle_data, client, token_for, on):
    org = cycle_data.org
    _, raw = ShopKey.objects.issue(org.c3)
    body = {"lines": [{"spec": "JF01", "quantity": 7}]}
    # a staff token is not a shop key
    resp = client.post("/api/forecasting/self-report", body, content_type="application/json", **token_for(org.cm3))
    assert resp.status_code == 401
    # the shop key does not open the staff API
    assert client.get("/api/forecasting/forecasts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    resp = client.post(
        "/api/forecasting/self-report", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert resp.status_code == 200
    assert ForecastLine.objects.get(round__target=TARGET, customer=org.c3, spec__code="JF01").self_qty == 7
    assert ForecastLine.objects.filter(round__target=TARGET, self_qty__isnull=False).count() == 1
    on(dt.date(2026, 11, 7))  # self-reporting closes after the 6th
    resp = client.post(
        "/api/forecasting/self-report", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert resp.status_code == 400


def test_a_cm_gets_404_on_another_cms_customer(cycle_data, client, token_for, login):
    org = cycle_data.org
    h = token_for(org.cm1)
    body = {"lines": [{"spec": "JF01", "quantity": 1}]}
    assert (
        client.put(f"/api/forecasting/forecasts/{org.c2.pk}", body, content_type="application/json", **h).status_code
        == 404
    )
    assert (
        client.post(f"/api/forecasting/feedback/{org.c2.pk}", {}, content_type="application/json", **h).status_code
        == 404
    )
    assert [x["customer_id"] for x in client.get("/api/forecasting/forecasts", **h).json()] == [org.c1.pk] * 2
    assert {x["customer_code"] for x in client.get("/api/forecasting/ledger", **h).json()["items"]} == {"C1"}
    web = login(org.cm1)
    for url in (f"/forecasting/entry/{org.c2.pk}/", f"/forecasting/feedback/{org.c2.pk}/"):
        assert web.get(url).status_code == 404 and web.post(url, {"qty_JF01": "1"}).status_code == 404
    assert "华联超市" not in web.get("/forecasting/ledger/").content.decode()
    assert "C2" not in web.get("/forecasting/ledger/?export=1&format=csv").content.decode("utf-8-sig")
    assert (
        client.put(
            "/api/forecasting/key-customers", {"customer_ids": [org.c2.pk]}, content_type="application/json", **h
        ).status_code
        == 400
    )


def test_managers_see_only_their_unit(cycle_data, client, token_for):
    org = cycle_data.org
    names = {r["name"] for r in client.get("/api/forecasting/consolidation?by=unit", **token_for(org.mm1)).json()}
    assert names == {"一区", "二区"}
    names = {r["name"] for r in client.get("/api/forecasting/consolidation?by=unit", **token_for(org.center)).json()}
    assert names == {"一区", "二区", "三区"}
    cms = [r["cm"] for r in client.get("/api/forecasting/submissions", **token_for(org.mm2)).json()]
    assert cms == ["CM3"]


def test_supply_and_balance_are_the_centers(cycle_data, client, token_for):
    org = cycle_data.org
    body = {"rows": [{"spec": "JF01", "area": "T-D1", "quantity": 10}]}
    assert (
        client.post("/api/forecasting/supply", body, content_type="application/json", **token_for(org.mm1)).status_code
        == 403
    )
    assert (
        client.post("/api/forecasting/balance", {}, content_type="application/json", **token_for(org.cm1)).status_code
        == 403
    )
    # overlapping areas for one spec are refused, nothing written
    body = {
        "rows": [{"spec": "JF01", "area": "T-D1", "quantity": 10}, {"spec": "JF01", "area": "T-D1-01", "quantity": 3}]
    }
    resp = client.post("/api/forecasting/supply", body, content_type="application/json", **token_for(org.center))
    assert resp.status_code == 400 and "overlap" in resp.json()["detail"]
    assert not cycle_data.round.supplies.exists()


def test_ledger_import_reports_rows_and_writes_nothing_on_error(cycle_data):
    org = cycle_data.org
    text = (
        "客户编码,规格编码,月份,需求量\nC1,JF01,2026-10,3\nC9,JF01,2026-10,1\nC1,XX99,2026-1x,-4\nC1,JF01,2026-10,5\n"
    )
    report = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False)
    assert not report["ok"]
    errs = {(e["row"], e["field"]) for e in report["errors"]}
    assert {(3, "customer"), (4, "spec"), (4, "month"), (4, "demand"), (5, "customer")} <= errs
    from kejing.forecasting.models import LedgerEntry

    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=dt.date(2026, 10, 1)).demand == 14
    # a CM importing for another CM's shop gets the row refused
    report = services.import_ledger(
        org.cm1.user, cycle_fixtures.csv_table("客户编码,规格编码,月份,需求量\nC2,JF01,2026-10,1\n")
    )
    assert report["errors"][0]["field"] == "customer"


def _grow(org, n):
    from kejing.customers.models import Customer
    from kejing.forecasting.models import Round, Spec

    rnd = Round.objects.get(target=TARGET)
    spec = Spec.objects.get(code="JF01")
    for i in range(n):
        c = Customer.objects.create(
            code=f"G{Customer.objects.count():04d}", name=f"店{i}", unit=org.u1, cm=org.cm1, industry="tobacco"
        )
        ForecastLine.objects.create(round=rnd, customer=c, spec=spec, cm=org.cm1, unit=org.u1, cm_qty=1, merged_qty=1)


@pytest.mark.parametrize(
    "path,who",
    [
        ("/forecasting/?month=2026-12", "cm1"),
        ("/forecasting/?month=2026-12", "mm1"),
        ("/forecasting/entry/?month=2026-12&show=all", "cm1"),
        ("/forecasting/consolidation/?month=2026-12&by=cm", "mm1"),
        ("/forecasting/ledger/", "mm1"),
        ("/forecasting/feedback/?month=2026-12", "cm1"),
        ("/forecasting/reports/?by=unit", "mm1"),
        ("/api/forecasting/forecasts?month=2026-12", "mm1"),
        ("/api/forecasting/consolidation?month=2026-12&by=cm", "mm1"),
        ("/api/forecasting/ledger", "mm1"),
    ],
)
def test_query_counts_do_not_grow_with_rows(cycle_data, login, path, who):
    org = cycle_data.org
    client = login(getattr(org, who))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    _grow(org, 2)
    count()
    small = count()
    _grow(org, 25)
    assert count() == small
