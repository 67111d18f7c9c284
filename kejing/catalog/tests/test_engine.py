"""Hand-worked quotes straight from the policy files (no database): the arithmetic is in the comments."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from kejing.catalog.engine import QuoteError, load_catalog, quote
from kejing.catalog.engine.catalog import CatalogError, build_catalog
from kejing.catalog.engine.money import fen

D = Decimal


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def test_every_product_of_the_manual_is_there(cat):
    names = {p.name for p in cat.products.values()}
    for name in [
        "专网服务", "固定宽带接入", "无线宽带接入", "集团V网", "综合V网", "融合通信(IMS)", "企信通", "效能快信",
        "商务一号通", "商务宝", "移动管家", "企业邮箱", "手机邮箱", "BlackBerry", "集团通讯管家", "移动办公",
        "企业一卡通", "集团彩铃", "企业建站", "掌上客", "销售e卡通", "移动400", "门店通", "农信通", "校讯通",
        "动力100之通信动力", "M2M应用", "动力100之营销动力", "车务通", "动力100之办公动力", "飞信企业版",
    ]:  # fmt: skip
        assert name in names, name
    assert len(cat.products["XXT"].packages) == 15  # every 校讯通 sub-service
    assert len(cat.products["XNKX"].packages) == 6
    assert len(cat.products["QYYX"].packages) == 8
    for p in cat.products.values():
        assert p.raw.get("description") and p.raw.get("selling_tip") and p.source, p.code


def test_qxt_overage_picks_the_middle_package(cat):
    q = quote(cat, "企信通", {"sms": 6000})
    # 100 套餐: 100 + (6000-1000)×0.10 = 600;  400 套餐: 400 + (6000-5000)×0.08 = 480;  900 套餐: 900 (15000 included)
    assert [p.monthly for p in q.packages] == [D("600.00"), D("480.00"), D("900.00")]
    assert q.cheapest == {"main": "QXT-400"} and q.monthly == D("480.00")
    assert [x.amount for x in q.package("QXT-400").lines] == [D("400.00"), D("80.00")]


def test_pooled_minutes_per_user_are_spent_on_the_cheaper_meter_first(cat):
    q = quote(cat, "YDGJ", {"users": 10, "minutes_local": 1000, "minutes_long": 800})
    # fee 15×10 = 150; pool 150×10 = 1500 min covers 1000 local + 500 long; 300 long over × 0.30 = 90 → 240
    assert q.monthly == D("240.00")
    assert q.package("YDGJ-STD").lines[-1].detail.startswith("800 − 包含 500")


def test_mobile_office_overage_per_kb_and_the_200_yuan_cap(cat):
    q = quote(cat, "YDBG", {"users": 2, "mb": 50})
    # 18×2 = 36; included 20×2 = 40 MB; 10 MB over × 1024 KB × 0.01 = 102.40 → 138.40 (under the 400 cap)
    assert q.monthly == D("138.40")
    q = quote(cat, "YDBG", {"users": 2, "mb": 3000})
    # billable MB capped at 1024×2 = 2048; 36 + (2048-40)×10.24 = 36 + 20561.92 = 20597.92 → cap 200×2 = 400
    lines = q.package("YDBG-STD").lines
    assert q.monthly == D("400.00") and lines[-1].label == "月封顶" and lines[-1].amount == D("-20197.92")


def test_per_year_fee_and_quota_without_an_overage_price(cat):
    q = quote(cat, "QYJZ", {"sms": 2000})
    card, classic, pro = q.package("QYJZ-CARD"), q.package("QYJZ-CLASSIC"), q.package("QYJZ-PRO")
    assert not card.eligible and card.monthly is None  # no SMS at all and no price for them
    assert not classic.eligible and "1500" in classic.reasons[0]  # 1500 included, no overage price
    assert pro.eligible and pro.monthly == D("350.00")
    assert q.cheapest == {"main": "QYJZ-PRO"}
    q = quote(cat, "QYJZ", {})
    # 98 yuan a year ÷ 12 = 8.1666… → 8.17 a month
    assert q.package("QYJZ-CARD").monthly == D("8.17") and q.cheapest == {"main": "QYJZ-CARD"}


def test_wireless_broadband_interpolation(cat):
    q = quote(cat, "WXKD", {"bandwidth_mbps": 3})
    # in-area: 2000 + (3500-2000)×(3-2)/(4-2) = 2750; between: 4000 + 2500/2 = 5250; long: 6000 + 4000/2 = 8000
    assert [p.monthly for p in q.packages] == [D("2750.00"), D("5250.00"), D("8000.00")]
    q = quote(cat, "WXKD", {"bandwidth_mbps": 100}, zone="local_in")
    # 16000 + (44000-16000)×(100-34)/(155-34) = 16000 + 28000×66/121 = 31272.7272… → 31272.73
    assert q.package("WXKD-IN").monthly == D("31272.73")
    assert not q.package("WXKD-LD").eligible and q.cheapest == {"main": "WXKD-IN"}
    assert quote(cat, "WXKD", {"bandwidth_mbps": 155}).package("WXKD-BETWEEN").monthly == D("88000.00")
    with pytest.raises(QuoteError) as err:
        quote(cat, "WXKD", {"bandwidth_mbps": 1})
    assert err.value.field == "bandwidth_mbps"
    with pytest.raises(QuoteError):
        quote(cat, "WXKD", {})


def test_positioning_interval_makes_package_a_ineligible(cat):
    q = quote(cat, "车务通", {"users": 10, "positionings": 200000, "interval_s": 120})
    a = q.package("CWT-A")
    assert not a.eligible and "120" in a.reasons[0] and "300" in a.reasons[0]
    # B: 38×10 = 380 with 25000×10 positionings included; G: 500 + (200000-10000)×0.1 = 19500
    assert q.package("CWT-B").monthly == D("380.00") and q.package("CWT-G").monthly == D("19500.00")
    assert q.cheapest == {"main": "CWT-B"}
    # without an interval need A is fine: 28×10 + (200000-100000)×0.05 = 5280, still dearer than B
    assert quote(cat, "CWT", {"users": 10, "positionings": 200000}).package("CWT-A").eligible


def test_store_link_store_count_and_two_groups(cat):
    q = quote(cat, "门店通", {"stores": 250, "sms": 2000, "mb": 20000})
    eligible = {p.code for p in q.packages if p.eligible}
    assert {"MDT-HQ-C", "MDT-HQ-D"} <= eligible and not {"MDT-HQ-A", "MDT-HQ-B", "MDT-HQ-E", "MDT-HQ-F"} & eligible
    # HQ C: 370 + (2000-1000)×0.09 = 460; store B: 80×250 = 20000 with 80×250 = 20000 MB included → 20460
    assert q.recommended == ["MDT-HQ-C", "MDT-ST-B"] and q.monthly == D("20460.00")
    # store A: 45×250 = 11250 + 20000 MB × 1024 × 0.01 = 204800 → 216050
    assert q.package("MDT-ST-A").monthly == D("216050.00")
    assert not quote(cat, "MDT", {"stores": 401}).package("MDT-HQ-D").eligible
    with pytest.raises(QuoteError) as err:
        quote(cat, "MDT", {"sms": 10})
    assert err.value.field == "stores"


def test_mailbox_user_limit_and_per_user_data(cat):
    q = quote(cat, "QYYX", {"users": 120, "mb": 10000})
    assert not q.package("QYYX-880").eligible and not q.package("QYYX-1680").eligible  # 50 and 100 users at most
    assert not q.package("QYYX-100").eligible  # no push-mail data in the basic editions
    # 2480: 120 users ≤ 150; 80 MB × 120 = 9600 included, 400 MB over × 1 yuan = 400 → 2880
    assert q.package("QYYX-2480").monthly == D("2880.00") and q.cheapest == {"main": "QYYX-2480"}


def test_bundle_groups_and_optional_groups(cat):
    q = quote(cat, "DL100-BG", {"users": 10, "mb": 300, "storage_mb": 5000})
    # office: 28×10 = 280 with 500 MB included (18-档: 180 + 100 MB × 10.24 = 1204); mail: 5000 MB needs 中级 200
    assert q.recommended == ["DL100-BG-28", "DL100-BG-MAIL200"] and q.monthly == D("480.00")
    q = quote(cat, "农信通", {"columns": 3})
    # only the column group is wanted: 2 × 3 = 6; the hotline group is optional and not asked for
    assert q.recommended == ["NXT-COL"] and q.monthly == D("6.00")
    q = quote(cat, "NXT", {"columns": 3, "hotline_users": 2})
    assert q.recommended == ["NXT-COL", "NXT-12582-PROMO"] and q.monthly == D("8.00")  # 6 + 1×2


def test_required_features(cat):
    q = quote(cat, "掌上客", {"sms": 800}, needs=("advanced_terminal",))
    assert not q.package("ZSK-A").eligible and q.cheapest == {"main": "ZSK-C"}
    assert q.monthly == D("560.00")  # 280 + 80 + 200, 800 SMS within 3000
    with pytest.raises(QuoteError) as err:
        quote(cat, "ZSK", {}, needs=("teleport",))
    assert err.value.field == "need"


def test_bad_usage_names_the_field(cat):
    with pytest.raises(QuoteError) as err:
        quote(cat, "QXT", {"smss": 10})
    assert err.value.field == "smss"
    with pytest.raises(QuoteError) as err:
        quote(cat, "QXT", {"sms": -1})
    assert err.value.field == "sms"
    with pytest.raises(CatalogError):
        cat.find("不存在的产品")


def test_products_without_prices_say_why(cat):
    q = quote(cat, "JTVW", {})
    assert q.packages == [] and q.monthly is None and "BOSS" in q.notes[0]
    assert q.opening["days"] == 3


def test_fen_rounding_is_half_up():
    assert fen(Fraction(1, 200)) == D("0.01") and fen(Fraction(1, 300)) == D("0.00")
    assert fen(D("2.345")) == D("2.35")


def test_malformed_catalog_is_refused():
    bad = {"meters": {"sms": {}}, "products": [{"code": "X", "name": "x", "packages": [{"code": "X1", "name": "x",
           "rates": {"minutes": "1"}}]}]}  # fmt: skip
    with pytest.raises(CatalogError, match="X/X1"):
        build_catalog({"catalog": bad})
