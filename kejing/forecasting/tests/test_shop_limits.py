"""Per-shop caps and minimums in the monthly balancing (修正平衡), and the choice of mode (proportional / tier).

Three shops forecast JF01 in the round: C1 10, C2 20, C3 30 cartons (merged figures set directly). The supply row
is for the whole company (area ``T``), so all three share it. Every expected figure is worked out by hand below.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kejing.core.models import AuditLog, Job
from kejing.forecasting import services
from kejing.forecasting.models import ForecastLine, LedgerEntry, Round, ShopLimit, Supply

from . import cycle_fixtures
from .cycle_fixtures import TARGET

cycle_data = cycle_fixtures.cycle_data
on = cycle_fixtures.on


@pytest.fixture
def three(cycle_data, on):
    org, rnd = cycle_data.org, cycle_data.round
    on(dt.date(2026, 11, 18))
    for shop, qty in ((org.c1, 10), (org.c2, 20), (org.c3, 30)):
        ForecastLine.objects.filter(round=rnd, customer=shop, spec__code="JF01").update(merged_qty=qty)
    return cycle_data


def _supply(org, rnd, qty):
    services.set_supply(org.center.user, rnd, [(2, {"spec": "JF01", "area": "T", "quantity": str(qty)})])


def _limits(org, rnd, *rows):
    """rows: (customer code, cap, min) on JF01; '' = empty."""
    table = [
        (i, {"customer": c, "spec": "JF01", "cap": str(cap), "min": str(lo)}) for i, (c, cap, lo) in enumerate(rows, 2)
    ]
    return services.set_limits(org.center.user, rnd, table)


def _balanced(org, rnd):
    return [
        ForecastLine.objects.get(round=rnd, customer=c, spec__code="JF01").balanced_qty
        for c in (org.c1, org.c2, org.c3)
    ]


def _csv(text: str, name: str = "limits.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_cap_and_minimum_from_the_issue(three):
    # Supply 30 over forecasts 10 / 20 / 30, cap 5 on C3, minimum 4 on C1.
    # C3 is held at its cap 5; the other 25 go to C1 and C2 in proportion 10 : 20 -> 8.33 and 16.67 (C1's 8.33 is
    # above its minimum 4, so the minimum does not bind). Floors 8 + 16 + 5 = 29; the last carton goes to the
    # larger remainder (.67, C2) -> 8 / 17 / 5 = 30, nothing left over.
    org, rnd = three.org, three.round
    _supply(org, rnd, 30)
    assert _limits(org, rnd, ("C3", 5, ""), ("C1", "", 4)) == 2
    result = services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [8, 17, 5]
    assert (result["placed"], result["unplaced"], result["at_cap"], result["min_short"]) == (30, 0, 1, 0)
    assert [(r["customer"], r["at_cap"]) for r in result["limit_rows"]] == [("C3", True)]
    # the ledger of the target month carries the capped quantity
    assert LedgerEntry.objects.get(customer=org.c3, spec__code="JF01", month=TARGET).allocated == 5


def test_minimum_binds_and_cap_is_reached(three):
    # Supply 12, minimum 4 on C1, cap 5 on C3. Without limits: lambda = 12/60 = 0.2 -> 2 / 4 / 6.
    # C1 is raised to its minimum 4; the other 8 go to C2 and C3 as 20 : 30 -> 3.2 and 4.8 (below C3's cap 5).
    # Floors 4 + 3 + 4 = 11; the 12th carton to the larger remainder (.8, C3) -> 4 / 3 / 5: C3 is at its cap.
    org, rnd = three.org, three.round
    _supply(org, rnd, 12)
    _limits(org, rnd, ("C1", "", 4), ("C3", 5, ""))
    result = services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [4, 3, 5]
    assert (result["placed"], result["unplaced"], result["min_short"]) == (12, 0, 0)


def test_supply_below_the_minimums_is_shared_by_them_and_reported(three):
    # Supply 6, minimum 4 on C1 and on C2: the minimums add up to 8 > 6, so the 6 are shared by the minimums,
    # 6 * 4/8 = 3 each, C3 (no minimum) gets 0. Each shop is 1 carton short of its minimum; the supply row says why.
    org, rnd = three.org, three.round
    _supply(org, rnd, 6)
    _limits(org, rnd, ("C1", "", 4), ("C2", "", 4))
    result = services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [3, 3, 0]
    assert result["min_short"] == 2
    rows = {r["customer"]: r for r in result["limit_rows"]}
    assert rows["C1"]["min_short"] == rows["C2"]["min_short"] == 1
    assert "最低量之和" in rows["C1"]["reason"] and "sum of minimums" in rows["C1"]["reason"]
    assert "minimums" in Supply.objects.get(round=rnd).note


def test_caps_reached_leave_supply_unplaced_and_reported(three):
    # Supply 60, cap 5 on C3: the shops can take at most 10 + 20 + 5 = 35, so 10 / 20 / 5 and 60 - 35 = 25 cartons
    # are not placed; placed + not placed = 60, nothing lost.
    org, rnd = three.org, three.round
    _supply(org, rnd, 60)
    _limits(org, rnd, ("C3", 5, ""))
    result = services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [10, 20, 5]
    assert (result["placed"], result["unplaced"]) == (35, 25)
    sup = Supply.objects.get(round=rnd)
    assert (sup.placed, sup.unplaced, sup.placed + sup.unplaced) == (35, 25, 60)
    assert "caps" in sup.note


def test_minimum_above_the_forecast_is_given_up_to_the_forecast_and_shown(three):
    # Supply 30, minimum 15 on C1 whose forecast is 10: never above the forecast, so C1 gets 10 (lambda alone gave
    # 5); the other 20 go to C2 and C3 as 20 : 30 -> 8 and 12. C1 stays 5 short of its minimum, shown with the reason.
    org, rnd = three.org, three.round
    _supply(org, rnd, 30)
    _limits(org, rnd, ("C1", "", 15))
    result = services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [10, 8, 12]
    (row,) = result["limit_rows"]
    assert (row["customer"], row["min_short"]) == ("C1", 5) and "高于合并预测" in row["reason"]


def test_cap_applies_to_a_spec_without_supply(three):
    # No supply row for JF01: the merged forecast stands, but never above the cap -> C3 gets 7 instead of 30.
    org, rnd = three.org, three.round
    _limits(org, rnd, ("C3", 7, ""))
    services.balance(org.center.user, rnd)
    assert _balanced(org, rnd) == [10, 20, 7]


def test_tier_mode_from_the_page(three, login):
    # Tier mode, tiers C1 10, C2 20, C3 30 (档位), no tier caps in the policy: the ladder is a_t = t, every shop of
    # tier t gets floor(lambda * t). Supply 30: without limits lambda = 0.5 -> 5 / 10 / 15 = 30.
    # C1 has a minimum of 8: it gets max(8, floor(10 lambda)), so up to lambda = 0.8 it holds 8 and the other 22 are
    # floor(20 lambda) + floor(30 lambda): lambda = 13/30 -> 8 + 13 = 21 (total 29); 9/20 -> 9 + 13 = 22 (30);
    # 14/30 -> 9 + 14 = 23 (31 > 30). So lambda stops just below 14/30: 8 / 9 / 13 = 30, C1's minimum met.
    org, rnd = three.org, three.round
    for shop, tier in ((org.c1, 10), (org.c2, 20), (org.c3, 30)):
        type(shop).objects.filter(pk=shop.pk).update(tier=tier)
    _supply(org, rnd, 30)
    _limits(org, rnd, ("C1", "", 8))
    client = login(org.center)
    page = client.get("/forecasting/supply/?month=2026-12").content.decode()
    assert 'name="mode" value="tier"' in page and 'id="limits"' in page
    assert "档位限量" in page and "只执行上限" not in page  # no longer says tier mode skips minimums
    resp = client.post("/forecasting/balance/", {"month": "2026-12", "mode": "tier"})
    job = Job.objects.get(kind="forecast_balance")
    assert job.status == Job.Status.DONE, job.result
    assert job.params["mode"] == "tier" and job.result["mode"] == "tier"
    assert _balanced(org, rnd) == [8, 9, 13]
    assert Round.objects.get(pk=rnd.pk).balance_mode == "tier"
    assert job.result["limit_rows"] == [] and job.result["min_short"] == 0
    page = client.get(resp["Location"]).content.decode()
    assert 'id="result-min-short">0<' in page
    log = AuditLog.objects.get(action="forecast_balance")
    assert log.changes["mode"] == [None, "tier"] and log.changes["shop_limits"] == [None, 1]


def _tiers(org, *tiers):
    for shop, tier in zip((org.c1, org.c2, org.c3), tiers, strict=True):
        type(shop).objects.filter(pk=shop.pk).update(tier=tier)


def test_tier_mode_supply_below_the_minimums(three):
    # Tier mode, tiers 10 / 20 / 30, minimums 8 on C1 and C2 (16 in all), supply 13 < 16: shared by the minimums as
    # in proportional mode: 13 * 8/16 = 6.5 each, C3 (no minimum) 0. Floors 6 + 6 = 12; the 13th carton goes to the
    # larger forecast of the equal fractions (C2, 20) -> 6 / 7 / 0. C1 is 2 short, C2 1, with the reason; the
    # supply row says why.
    org, rnd = three.org, three.round
    _tiers(org, 10, 20, 30)
    _supply(org, rnd, 13)
    _limits(org, rnd, ("C1", "", 8), ("C2", "", 8))
    result = services.balance(org.center.user, rnd, mode="tier")
    assert _balanced(org, rnd) == [6, 7, 0]
    assert (result["placed"], result["unplaced"], result["min_short"]) == (13, 0, 3)
    rows = {r["customer"]: r for r in result["limit_rows"]}
    assert (rows["C1"]["min_short"], rows["C2"]["min_short"]) == (2, 1)
    assert all("最低量之和" in r["reason"] for r in rows.values())
    assert Supply.objects.get(round=rnd).note.startswith("供应量低于最低量之和")


def test_tier_mode_minimum_is_cut_to_the_tier_cap(three, monkeypatch):
    # Policy tier caps: 6 cartons up to tier 10, 30 above. Tiers 10 / 20 / 30; C1 (tier 10) asks for a minimum of 8,
    # above its tier cap 6: lo = min(8, 6) = 6. Supply 40. C1 holds 6 whatever lambda (its ladder is floor(6 lambda)
    # <= 6); C2 and C3 both get floor(30 lambda) (C2 at most its forecast 20): 6 + 2 * floor(30 lambda) <= 40 ->
    # floor(30 lambda) = 17 -> 6 / 17 / 17 = 40. C1 is 2 short of its minimum: the tier cap held it.
    org, rnd = three.org, three.round
    original = services.policy

    def policy():
        conf = original()
        return {**conf, "allocation": {**conf.get("allocation", {}), "tier_caps": [6] * 10 + [30] * 20}}

    monkeypatch.setattr(services, "policy", policy)
    _tiers(org, 10, 20, 30)
    _supply(org, rnd, 40)
    _limits(org, rnd, ("C1", "", 8))
    result = services.balance(org.center.user, rnd, mode="tier")
    assert _balanced(org, rnd) == [6, 17, 17]
    (row,) = result["limit_rows"]
    assert (row["customer"], row["min_short"]) == ("C1", 2) and "档位限量" in row["reason"]


def test_unknown_mode_is_refused(three, login, client, token_for):
    org = three.org
    login(org.center).post("/forecasting/balance/", {"month": "2026-12", "mode": "random"})
    assert not Job.objects.exists()
    resp = client.post(
        "/api/forecasting/balance",
        {"month": "2026-12", "mode": "random"},
        content_type="application/json",
        **token_for(org.center),
    )
    assert resp.status_code == 400 and "unknown mode" in resp.json()["detail"]


BAD = (
    "客户编码,规格编码,上限,最低量\n"
    "C1,JF01,5,\n"  # row 2: fine
    "C9,JF01,3,\n"  # row 3: unknown customer
    "C2,XX99,,2\n"  # row 4: unknown spec
    "C3,JF01,-1,\n"  # row 5: negative cap
    "C2,JF01,3,4\n"  # row 6: minimum above the cap
    "C1,JF01,6,\n"  # row 7: repeats row 2
    "C3,YL01,2,\n"  # row 8: C3 has no YL01 line in the round
)


def test_bad_rows_are_named_and_nothing_is_written_page_and_api(three, login, client, token_for):
    org = three.org
    resp = login(org.center).post("/forecasting/supply/limits/", {"month": "2026-12", "file": _csv(BAD)}, follow=True)
    text = resp.content.decode()
    for needle in (
        "第3行 客户编码",
        "row 3 customer",
        "第4行 规格编码",
        "row 4 spec",
        "第5行 上限",
        "row 5 cap",
        "第6行 最低量",
        "minimum 4 is above the cap 3",
        "第7行",
        "repeats row 2",
        "第8行",
        "has no line of spec YL01",
    ):
        assert needle in text, needle
    assert not ShopLimit.objects.exists() and not AuditLog.objects.filter(action="shop_limit").exists()
    resp = client.post("/api/forecasting/limits/import?month=2026-12", {"file": _csv(BAD)}, **token_for(org.center))
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert set(errors) == {
        "row 3 customer",
        "row 4 spec",
        "row 5 cap",
        "row 6 min",
        "row 7 customer",
        "row 8 spec",
    }
    body = {
        "month": "2026-12",
        "rows": [{"customer": "C1", "spec": "JF01", "cap": 5}, {"customer": "C2", "spec": "JF01", "cap": -2}],
    }
    resp = client.post("/api/forecasting/limits", body, content_type="application/json", **token_for(org.center))
    assert resp.status_code == 400 and set(resp.json()["errors"]) == {"row 2 cap"}
    assert not ShopLimit.objects.exists() and not AuditLog.objects.filter(action="shop_limit").exists()
    # a wrong header is named too
    resp = client.post(
        "/api/forecasting/limits/import?month=2026-12",
        {"file": _csv("客户,规格编码,上限\nC1,JF01,5\n")},
        **token_for(org.center),
    )
    assert resp.status_code == 400 and "客户" in resp.json()["detail"] and "customer" in resp.json()["detail"]


def test_page_and_api_store_the_same_and_audit_each_change(three, login, client, token_for):
    org, rnd = three.org, three.round
    good = "客户编码,规格编码,上限,最低量\nC1,JF01,,4\nC3,JF01,5,\n"
    resp = login(org.center).post("/forecasting/supply/limits/", {"month": "2026-12", "file": _csv(good)})
    assert resp.status_code == 302
    page_rows = set(ShopLimit.objects.values_list("customer__code", "spec__code", "cap", "minimum"))
    assert page_rows == {("C1", "JF01", None, 4), ("C3", "JF01", 5, None)}
    logs = AuditLog.objects.filter(action="shop_limit").order_by("pk")
    assert [(log.customer_id, log.changes) for log in logs] == [
        (org.c1.pk, {"JF01.cap": [None, None], "JF01.min": [None, 4]}),
        (org.c3.pk, {"JF01.cap": [None, 5], "JF01.min": [None, None]}),
    ]
    ShopLimit.objects.all().delete()
    AuditLog.objects.filter(action="shop_limit").delete()
    resp = client.post("/api/forecasting/limits/import?month=2026-12", {"file": _csv(good)}, **token_for(org.center))
    assert resp.status_code == 200 and resp.json() == {"changed": 2}
    assert set(ShopLimit.objects.values_list("customer__code", "spec__code", "cap", "minimum")) == page_rows
    # the JSON rows do the same; unchanged rows are not counted; both empty removes the limit (audited)
    body = {
        "month": "2026-12",
        "rows": [{"customer": "C1", "spec": "JF01", "min": 4}, {"customer": "C3", "spec": "JF01"}],
    }
    resp = client.post("/api/forecasting/limits", body, content_type="application/json", **token_for(org.center))
    assert resp.json() == {"changed": 1}
    assert list(ShopLimit.objects.values_list("customer__code", flat=True)) == ["C1"]
    removed = AuditLog.objects.filter(action="shop_limit").latest("pk")
    assert removed.note == "removed" and removed.changes == {"JF01.cap": [5, None], "JF01.min": [None, None]}
    listed = client.get("/api/forecasting/limits?month=2026-12", **token_for(org.center)).json()
    assert [(r["customer"], r["min"], r["forecast"], r["balanced"]) for r in listed] == [("C1", 4, 10, None)]
    assert rnd.balanced_at is None


def test_only_the_center_sets_caps(three, login, client, token_for):
    org = three.org
    good = "客户编码,规格编码,上限,最低量\nC1,JF01,5,\n"
    for staff in (org.cm1, org.mm1):
        resp = login(staff).post("/forecasting/supply/limits/", {"month": "2026-12", "file": _csv(good)})
        assert resp.status_code == 404
        h = token_for(staff)
        assert client.post("/api/forecasting/limits/import?month=2026-12", {"file": _csv(good)}, **h).status_code == 403
        body = {"month": "2026-12", "rows": [{"customer": "C1", "spec": "JF01", "cap": 5}]}
        assert client.post("/api/forecasting/limits", body, content_type="application/json", **h).status_code == 403
        assert client.get("/api/forecasting/limits?month=2026-12", **h).status_code == 403
    assert not ShopLimit.objects.exists() and not AuditLog.objects.filter(action="shop_limit").exists()


def test_no_limits_after_balancing(three):
    org, rnd = three.org, three.round
    _supply(org, rnd, 30)
    services.balance(org.center.user, rnd)
    rnd.refresh_from_db()
    with pytest.raises(services.ForecastError):
        _limits(org, rnd, ("C1", 5, ""))


def test_xlsx_upload(three, client, token_for):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["客户编码", "规格编码", "上限", "最低量"])
    ws.append(["C2", "JF01", 9, 2])
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("limits.xlsx", buf.getvalue())
    resp = client.post("/api/forecasting/limits/import?month=2026-12", {"file": upload}, **token_for(three.org.center))
    assert resp.status_code == 200, resp.content
    assert ShopLimit.objects.get().cap == 9


def test_a_supply_file_is_read_like_the_other_imports(three, login):
    """The supply upload: headers in another case and with a unit (供应量（条）) are read; a missing or unknown
    column is named once on row 1 instead of failing every row, and nothing is written."""
    org, rnd = three.org, three.round
    client = login(org.center)
    page = "/forecasting/supply/"
    text = client.post(page, {"month": "2026-12", "file": _csv("规格编码,区域编码\nJF01,T\n", "s.csv")},
                       follow=True).content.decode()  # fmt: skip
    assert "缺少必需的列 供应量" in text and text.count("row 2") == 0
    extra = _csv("规格编码,区域编码,供应量,备注\nJF01,T,30,x\n", "s.csv")
    text = client.post(page, {"month": "2026-12", "file": extra}, follow=True).content.decode()
    assert "未知的列 备注" in text and not Supply.objects.filter(round=rnd).exists()
    client.post(page, {"month": "2026-12", "file": _csv("Spec,AREA,供应量（条）\nJF01,T,30\n", "s.csv")})
    assert Supply.objects.get(round=rnd, spec__code="JF01").quantity == 30


def test_rows_of_totals_in_the_supply_and_limit_files_are_left_out(three, login, client, token_for):
    """Another system's supply report ends with 合计 30 (= the one spec's 30); the limit report has a 小计 row under
    its shop. Both were refused as an unknown spec / customer; now the sums are left out and the rest is saved."""
    org, rnd = three.org, three.round
    login(org.center).post(
        "/forecasting/supply/",
        {"month": "2026-12", "file": _csv("规格编码,区域编码,供应量\nJF01,T,30\n合计,,30\n", "s.csv")},
    )
    assert list(Supply.objects.filter(round=rnd).values_list("spec__code", "quantity")) == [("JF01", 30)]
    upload = _csv("客户编码,规格编码,上限,最低量\nC2,JF01,9,2\n小计,,9,2\n", "l.csv")
    resp = client.post("/api/forecasting/limits/import?month=2026-12", {"file": upload}, **token_for(org.center))
    assert resp.status_code == 200 and resp.json() == {"changed": 1}, resp.content
    assert ShopLimit.objects.get().cap == 9
