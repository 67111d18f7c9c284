"""Catalog packages in the bill run: the adapter (engine/from_catalog.py), hand-worked months billed through the
engine, a cross-check against the quote engine, and the application path — open a catalog product for an EC,
add members and usage, run the bill, read it by item to the fen.

Catalog prices used (kejing/policies/telecom/catalog_*.toml):
QXT-400   企信通: package fee 400.00 per enterprise, 5,000 messages included, then 0.08 each (L1513-L1519).
CWT-B     车务通 GPS B: 38.00 per user, 25,000 positionings per user included, then 0.05 each (L2281-L2362).
YDBG-STD  移动办公: 18.00 per user, 20 MB per user included, then 0.01/KB = 10.24/MB, traffic capped at
          1,024 MB per user, bill capped at 200.00 per user (L1687).
QYJZ-CARD 企业建站 企业名片: 98.00 a year, no messages included and no message price (L1733-L1765).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kejing.catalog.engine import load_catalog, quote
from kejing.core.policy import load_policy
from kejing.groupbiz.engine.baseline import baseline_bill
from kejing.groupbiz.engine.billing import BillError, build_inputs, run_bill
from kejing.groupbiz.engine.from_catalog import ItemMap, NotBillable, package_from_catalog, packages_from_catalog

CATALOG = load_catalog()
ITEMS = ItemMap.from_policy(load_policy("telecom", "groupbiz"))
PACKAGES, REFUSED = packages_from_catalog(CATALOG, ITEMS)


def test_adapter_translates_fees_quotas_caps_and_year_fees():
    qxt = PACKAGES["QXT-400"]
    assert qxt.product_code == "QXT" and qxt.name == "企信通400套餐"
    assert [(f.item, f.amount_fen, f.basis, f.period) for f in qxt.fixed] == [("A", 40000, "group_user", "month")]
    assert [(r.kind, r.included, r.rate_e4, r.item, r.pool) for r in qxt.usage] == [
        ("sms", 5000, 800, "B", "group_user")
    ]
    ydbg = PACKAGES["YDBG-STD"]
    assert [(f.item, f.amount_fen, f.basis) for f in ydbg.fixed] == [("F", 1800, "member")]
    # 0.01 yuan per KB on a meter counted in MB: 0.01 × 1024 = 10.24 yuan per MB = 102,400 / 10,000 yuan
    (mb,) = ydbg.usage
    assert (mb.kind, mb.included, mb.rate_e4, mb.pool, mb.max_units) == ("mb", 20, 102400, "member", 1024)
    assert ydbg.member_cap_fen == 20000
    card = PACKAGES["QYJZ-CARD"]
    assert [(f.item, f.amount_fen, f.period) for f in card.fixed] == [("F", 9800, "year")]
    assert card.name == "企业建站 企业名片"
    assert [(r.kind, r.included, r.rate_e4) for r in card.usage] == [("sms", 0, -1)]  # no price beyond 0: unpriced
    # 校讯通's information fee is a value-added function fee (G), per member
    assert [(f.item, f.amount_fen, f.basis) for f in PACKAGES["XXT-PAXY"].fixed] == [("G", 1000, "member")]


def test_every_catalog_package_is_billable_or_listed_with_a_reason():
    total = sum(len(p.packages) for p in CATALOG.products.values())
    assert total == 99 and len(PACKAGES) + len(REFUSED) == total
    assert {u.code for u in REFUSED} == {
        "WXKD-IN",  # rent from the bandwidth table
        "WXKD-BETWEEN",
        "WXKD-LD",
        "MDT-ST-A",  # per store
        "MDT-ST-B",
        "MDT-ST-C",
        "NXT-COL",  # per column subscription
        "NXT-12582",  # per hotline subscriber
        "NXT-12582-PROMO",
        "YDGJ-STD",  # 150 minutes shared by local and long-distance calls
        "DL100-TX-YDGJB",
    }
    reasons = {u.code: u.reason for u in REFUSED}
    assert "bandwidth" in reasons["WXKD-IN"] and "门店数" in reasons["MDT-ST-A"]
    assert "minutes_local, minutes_long" in reasons["YDGJ-STD"]
    # nothing billable is priced at nothing: every billable package has a fee or a usage rate
    assert all(p.fixed or p.usage for p in PACKAGES.values())


def test_an_unmapped_fee_label_or_an_enterprise_cap_is_refused():
    product = CATALOG.products["QXT"]
    with pytest.raises(NotBillable, match="套餐费"):
        package_from_catalog(product, product.packages[0], ItemMap({}, ITEMS.usage))
    with pytest.raises(NotBillable, match="sms"):
        package_from_catalog(product, product.packages[0], ItemMap(ITEMS.fees, {}))
    from dataclasses import replace

    capped = replace(product.packages[0], cap=(Decimal("500"), "enterprise"))
    with pytest.raises(NotBillable, match="only a cap per user"):
        package_from_catalog(product, capped, ITEMS)


def _month(month: str):
    """EC 1, total account 10. Group users: 201 QXT-400, 202 CWT-B (members 1, 2), 203 YDBG-STD (members 1, 3),
    204 QYJZ-CARD opened in March 2025."""
    return build_inputs(
        month,
        PACKAGES,
        group_users=[
            {"id": 201, "ec": 1, "package": "QXT-400", "account": 10},
            {"id": 202, "ec": 1, "package": "CWT-B", "account": 10},
            {"id": 203, "ec": 1, "package": "YDBG-STD", "account": 10},
            {"id": 204, "ec": 1, "package": "QYJZ-CARD", "account": 10, "start": "2025-03"},
        ],
        members=[{"id": 1, "ec": 1}, {"id": 2, "ec": 1}, {"id": 3, "ec": 1}],
        memberships=[
            {"member": 1, "gu": 202},
            {"member": 2, "gu": 202},
            {"member": 1, "gu": 203},
            {"member": 3, "gu": 203},
        ],
        usage=[
            {"member": None, "gu": 201, "kind": "sms", "qty": 6234},
            {"member": 1, "gu": 202, "kind": "positionings", "qty": 25000},
            {"member": 2, "gu": 202, "kind": "positionings", "qty": 27345},
            {"member": 1, "gu": 203, "kind": "mb", "qty": 25},
            {"member": 3, "gu": 203, "kind": "mb", "qty": 2000},
            {"member": None, "gu": 204, "kind": "sms", "qty": 10},
        ],
    )


def test_hand_worked_catalog_month():
    res = run_bill(_month("2026-03"))
    # group account 10:
    #   A  QXT-400 package fee 400.00
    #   B  6,234 messages − 5,000 included = 1,234 × 0.08 = 98.72
    #   F  企业名片 98.00 a year, opened 2025-03 → due in 2026-03 (12 months later)
    assert res.account_totals() == {(10, "A"): 40000, (10, "B"): 9872, (10, "F"): 9800}
    # members (no payment plan: every member fee stays on the member's bill):
    #   member 1: F 38.00 (CWT-B) + 18.00 (YDBG) = 56.00; B 25,000 − 25,000 = 0 + (25 − 20) × 10.24 = 51.20
    #   member 2: F 38.00; B 27,345 − 25,000 = 2,345 × 0.05 = 117.25
    #   member 3: F 18.00; B min(2,000, 1,024) − 20 = 1,004 MB × 10.24 = 10,280.96, cut to 200.00 − 18.00 = 182.00
    assert res.member_remainders() == {
        (1, "F"): 5600,
        (1, "B"): 5120,
        (2, "F"): 3800,
        (2, "B"): 11725,
        (3, "F"): 1800,
        (3, "B"): 18200,
    }
    # all fees: 400 + 98.72 + 98 + 56 + 51.20 + 38 + 117.25 + 18 + 182 = 1,059.17
    assert res.totals() == {"charged": 105917, "group": 59672, "members": 46245}
    # the 10 messages of 企业名片 have no price in the manual: not billed, reported
    assert res.unpriced_usage == 1 and res.rejected_usage == 0


@pytest.mark.parametrize("month", ["2026-03", "2026-04"])
def test_the_per_record_baseline_agrees(month):
    """The straightforward per-record reading (engine/baseline.py) gives the same accounts and members."""
    x = _month(month)
    res, base = run_bill(x), baseline_bill(x)
    assert {k: v for k, v in res.account_totals().items() if v} == base["accounts"]
    assert {k: v for k, v in res.member_remainders().items() if v} == base["members"]


def test_yearly_fee_only_in_the_month_it_falls_due():
    # April 2026 is not an anniversary of March 2025: no 98.00; everything else as in March
    assert (10, "F") not in run_bill(_month("2026-04")).account_totals()
    # a month before the opening month: not due either
    assert (10, "F") not in run_bill(_month("2025-02")).account_totals()
    # the opening month itself: due
    assert run_bill(_month("2025-03")).account_totals()[(10, "F")] == 9800
    x = build_inputs("2026-03", PACKAGES, [{"id": 1, "ec": 1, "package": "QYJZ-CARD", "account": 10}], [], [], [])
    with pytest.raises(BillError, match="opening month"):
        run_bill(x)


def test_member_cap_applies_per_member_and_group_user():
    # two members at the cap and one below it: 200.00 + 200.00 + (18 + 5 × 10.24 = 69.20) = 469.20
    x = build_inputs(
        "2026-03",
        PACKAGES,
        [{"id": 1, "ec": 1, "package": "YDBG-STD", "account": 10}],
        [{"id": m, "ec": 1} for m in (1, 2, 3)],
        [{"member": m, "gu": 1} for m in (1, 2, 3)],
        [
            {"member": 1, "gu": 1, "kind": "mb", "qty": 100},  # 80 × 10.24 = 819.20 → 182.00
            {"member": 2, "gu": 1, "kind": "mb", "qty": 40},  # 20 × 10.24 = 204.80 → 182.00
            {"member": 3, "gu": 1, "kind": "mb", "qty": 25},  # 5 × 10.24 = 51.20
        ],
    )
    assert run_bill(x).totals()["charged"] == 46920


@pytest.mark.parametrize(
    "code, usage",
    [
        ("QXT-400", {"sms": 6234}),
        ("CWT-B", {"positionings": 27345}),
        ("YDBG-STD", {"mb": 25}),
        ("YDBG-STD", {"mb": 2000}),
        ("SJYX-98", {"mb": 500, "mb_intl": 30}),
        ("QYYX-1680", {"mb": 100, "mb_roaming": 5}),
        ("SWYHT-STD", {"minutes_local": 100, "minutes_long": 20, "sms": 10}),
        ("XNKX-2", {"sms": 40000}),
    ],
)
def test_bill_of_one_user_equals_the_quote(code, usage):
    """One member (or the group user itself for pooled quotas) billed for a month costs what the quote said."""
    pkg = PACKAGES[code]
    product = CATALOG.products[pkg.product_code]
    q = quote(CATALOG, product.code, {"users": 1, **usage}).package(code).monthly
    pools = {r.kind: r.pool for r in pkg.usage}
    x = build_inputs(
        "2026-03",
        PACKAGES,
        [{"id": 1, "ec": 1, "package": code, "account": 10}],
        [{"id": 1, "ec": 1}],
        [{"member": 1, "gu": 1}],
        [{"member": 1 if pools[k] == "member" else None, "gu": 1, "kind": k, "qty": v} for k, v in usage.items()],
    )
    res = run_bill(x)
    assert Decimal(res.totals()["charged"]) / 100 == q


# --- the application ------------------------------------------------------------------------------------------


@pytest.fixture
def catalog_rows(db):
    from kejing.catalog.services import sync_catalog

    sync_catalog()


def test_open_catalog_products_bill_an_ec_to_the_fen(tel, catalog_rows, settings, tmp_path):
    from kejing.groupbiz import services
    from kejing.groupbiz.billrun import run_month
    from kejing.groupbiz.models import BillLine, UsageRecord

    settings.VAR_DIR = tmp_path
    u = tel.org.cm1.user
    # the product code may be left out: the catalog package names its product
    qxt = services.open_group_user(u, tel.e1, product_code="", package_code="QXT-400", account=tel.total)
    ydbg = services.open_group_user(u, tel.e1, product_code="YDBG", package_code="YDBG-STD", account=tel.total)
    assert qxt.product_code == "QXT" and not qxt.is_vnet
    m1 = services.add_member(u, tel.e1, "13900000801", "", ydbg)
    m2 = services.add_member(u, tel.e1, "13900000802", "", ydbg)
    for member, gu, kind, qty in ((None, qxt, "sms", 6234), (m1, ydbg, "mb", 25), (m2, ydbg, "mb", 2000)):
        UsageRecord.objects.create(ec=tel.e1, group_user=gu, member=member, month="2026-03", kind=kind, quantity=qty)
    (run,) = run_month([tel.e1], "2026-03")
    # E1's V-net and data group users have no members: only the catalog products cost anything.
    # A: 400.00 (QXT-400, group account)
    # B: 1,234 × 0.08 = 98.72 (group) + member 1 5 MB × 10.24 = 51.20 + member 2 capped 200 − 18 = 182.00
    #    = 331.92, of which members 233.20
    # F: 18.00 × 2 members = 36.00
    assert run.totals["items"] == {
        "A": {"total": "400.00", "group": "400.00", "members": "0.00"},
        "B": {"total": "331.92", "group": "98.72", "members": "233.20"},
        "F": {"total": "36.00", "group": "0.00", "members": "36.00"},
    }
    assert (run.totals["total"], run.totals["group"], run.totals["members"]) == ("767.92", "498.72", "269.20")
    capped = BillLine.objects.get(run=run, msisdn="13900000802", item="B")
    assert capped.amount == Decimal("182.00") and "封顶" in capped.note and "10280.96" in capped.note.replace(",", "")
    assert run.totals["unpriced_usage"] == 0


def test_open_refuses_unknown_and_unbillable_packages(tel, catalog_rows):
    from kejing.groupbiz import services

    u = tel.org.cm1.user
    with pytest.raises(services.GroupError) as exc:
        services.open_group_user(u, tel.e1, product_code="", package_code="YDGJ-STD", account=tel.total)
    assert "minutes_local" in exc.value.errors["package_code"]
    with pytest.raises(services.GroupError) as exc:
        services.open_group_user(u, tel.e1, product_code="", package_code="NOPE-1", account=tel.total)
    assert "unknown package" in exc.value.errors["package_code"]
    with pytest.raises(services.GroupError) as exc:
        services.open_group_user(u, tel.e1, product_code="CWT", package_code="QXT-400", account=tel.total)
    assert "belongs to product QXT" in exc.value.errors["package_code"]


def test_price_list_has_one_source_per_package(catalog_rows):
    from kejing.groupbiz import services

    prices = services.price_list()
    local = load_policy("telecom", "groupbiz")["packages"]
    catalog_codes = {k.code for p in CATALOG.products.values() for k in p.packages}
    assert not set(local) & catalog_codes  # groupbiz.toml repeats no catalog package
    assert prices.entries["QXT-400"].source == "catalog"
    assert prices.entries["VPMN-10"].source == "local"
    offered = {e.code for e in prices.offered()}
    assert {"QXT-400", "YDBG-STD", "VPMN-10", "VPMN-5", "YDGJ-STD"} <= offered
    assert not offered & {"MAS-300", "FLEET-20", "DATA-30", "LINE-2M", "RBT-5"}  # worked examples only


def test_open_page_and_api_offer_catalog_packages(tel, catalog_rows, login, client, token_for):
    c = login(tel.org.cm1)
    page = c.get(f"/groups/ec/{tel.e1.pk}/").content.decode()
    assert 'label="企信通 (QXT)"' in page and "企信通400套餐 (QXT-400)" in page
    assert 'value="YDGJ-STD" data-product="YDGJ" disabled' in page and 'value="MAS-300"' not in page
    r = c.post(f"/groups/ec/{tel.e1.pk}/open/", {"package_code": "CWT-B", "account": tel.total.pk})
    assert r.status_code == 302 and tel.e1.group_users.filter(package_code="CWT-B", product_code="CWT").exists()
    h = token_for(tel.org.cm1)
    body = client.get("/api/groupbiz/packages?product=ydbg", **h).json()
    assert body == [
        {
            "code": "YDBG-STD",
            "name": "移动办公基本套餐",
            "product_code": "YDBG",
            "product_name": "移动办公",
            "source": "catalog",
            "billable": True,
            "reason": "",
            "fixed": [{"item": "F", "amount": "18.00", "basis": "member", "period": "month"}],
            "usage": [
                {"kind": "mb", "included": 20, "rate": "10.24", "item": "B", "pool": "member", "max_units": 1024}
            ],
            "member_cap": "200.00",
        }
    ]
    ydgj = client.get("/api/groupbiz/packages?product=YDGJ", **h).json()[0]
    assert ydgj["billable"] is False and "minutes_local" in ydgj["reason"]
    r = client.post(
        f"/api/groupbiz/ecs/{tel.e1.pk}/group-users",
        {"package_code": "QXT-900", "account": tel.total.pk},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 201 and r.json()["product_code"] == "QXT"
    from django.test import Client

    assert Client().get("/api/groupbiz/packages").status_code == 401
