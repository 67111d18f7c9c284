"""The spec catalogue (卷烟规格目录): the marketing center imports or edits specs, everyone reads them.

Worked on the shared org with the 40 specs of ``cigarettes.toml`` and three months of ledger (cycle_fixtures):
today is 2 November 2026; in October C1 (cm1) ordered 14 cartons of JF01, C2 (cm2) 20 and C3 (cm3) 5.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from kejing.core.models import AuditLog
from kejing.core.policies import problems
from kejing.core.tabular import read_table
from kejing.forecasting import services, spec_catalogue
from kejing.forecasting.models import ForecastLine, Spec

from . import cycle_fixtures

cycle_ledger, on = cycle_fixtures.cycle_ledger, cycle_fixtures.on
PAGE = "/forecasting/specs/"

HEADER = "规格编码,品牌,规格名称,价类,批发价(元/条),上市日期,停售日期"


def _csv(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("specs.csv", ("\n".join(lines) + "\n").encode("utf-8"), content_type="text/csv")


def _table(*lines: str):
    return cycle_fixtures.csv_table("\n".join(lines) + "\n")


def _history(code: str) -> list[AuditLog]:
    spec = Spec.objects.get(code=code)
    return list(AuditLog.objects.filter(model="forecasting.spec", object_pk=str(spec.pk)).order_by("pk"))


GOOD = (
    HEADER,
    # a new spec: 1,250.00 yuan a carton, launched in December (a month: its first day)
    'NEW1,晋风,晋风(冰爽),中价位,"1,250.00",2026-12,',
    # JF01 moves from low to high price and is withdrawn after December (a month: its last day on sale);
    # its empty brand, name and price keep what is there
    "JF01,,,高价位,,,2026-12",
    # JF02 exactly as it is: unchanged
    "JF02,晋风,晋风(软蓝),低价位,95,,",
)


def test_a_dry_run_shows_each_change_then_the_import_writes_and_audits_it(cycle_ledger):
    center = cycle_ledger.center.user
    dry = spec_catalogue.import_specs(center, _table(*GOOD), dry_run=True)
    assert dry["ok"] and not dry["written"]
    assert (dry["rows"], dry["created"], dry["updated"], dry["unchanged"]) == (3, 1, 1, 1)
    by_code = {c["code"]: c for c in dry["changes"]}
    assert by_code["JF01"]["fields"] == {"price_class": ["low", "high"], "discontinued": [None, "2026-12-31"]}
    assert by_code["NEW1"]["action"] == "create" and by_code["NEW1"]["fields"]["price"] == [None, "1250.00"]
    # the dry run wrote nothing
    assert Spec.objects.count() == 40 and Spec.objects.get(code="JF01").price_class == "low"

    done = spec_catalogue.import_specs(center, _table(*GOOD), dry_run=False, filename="specs.csv")
    assert done["written"] and (done["created"], done["updated"]) == (1, 1)
    new = Spec.objects.get(code="NEW1")
    assert (new.brand, new.name, new.price_class, new.price) == ("晋风", "晋风(冰爽)", "mid", Decimal("1250.00"))
    assert (new.launched, new.discontinued, new.packs_per_unit) == (dt.date(2026, 12, 1), None, 10)
    jf01 = Spec.objects.get(code="JF01")
    assert (jf01.brand, jf01.name, jf01.price) == ("晋风", "晋风(硬红)", Decimal("85.00"))  # kept
    assert (jf01.price_class, jf01.discontinued) == ("high", dt.date(2026, 12, 31))
    # one audit record per spec written, with every field's before and after, and who did it
    (update,) = _history("JF01")
    assert update.action == "spec_update" and update.actor == center and "specs.csv" in update.note
    assert update.changes == {"price_class": ["low", "high"], "discontinued": [None, "2026-12-31"]}
    (create,) = _history("NEW1")
    assert create.action == "spec_create" and create.changes["name"] == [None, "晋风(冰爽)"]
    assert _history("JF02") == []
    # importing the same file again changes nothing and audits nothing
    again = spec_catalogue.import_specs(center, _table(*GOOD), dry_run=False)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert AuditLog.objects.filter(model="forecasting.spec").count() == 2


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_written(cycle_ledger):
    center = cycle_ledger.center.user
    report = spec_catalogue.import_specs(
        center,
        _table(
            HEADER,
            "OK1,晋风,晋风(一号),低价位,50,,",  # row 2: valid, but not written
            "BAD1,晋风,晋风(二号),特价,50,,",  # row 3: unknown price class
            "BAD2,晋风,晋风(三号),低价位,-5,,",  # row 4: price not above 0
            "BAD3,晋风,,低价位,50,,",  # row 5: a new spec without a name
            "JF03,,,,,2026-05-01,2026-03",  # row 6: withdrawn (2026-03-31) before launched (2026-05-01)
            "OK1,晋风,晋风(一号),低价位,50,,",  # row 7: repeats row 2
            "B AD,晋风,晋风(四号),低价位,50,,",  # row 8: a space in the code
            "合计,,,,,,",  # row 9: a totals row, left out
            "BAD4,晋风,晋风(五号),低价位,12.345,2026-13,",  # row 10: three decimals, no such month
        ),
        dry_run=False,
    )
    assert not report["ok"] and not report["written"]
    found = {(e["row"], e["field"]) for e in report["errors"]}
    assert found == {
        (3, "price_class"),
        (4, "price"),
        (5, "name"),
        (6, "discontinued"),
        (7, "code"),
        (8, "code"),
        (10, "price"),
        (10, "launched"),
    }
    assert report["totals"] == [9]
    messages = {(e["row"], e["field"]): e["message"] for e in report["errors"]}
    assert "特价" in messages[(3, "price_class")] and "第2行" in messages[(7, "code")]
    assert "2026-03-31" in messages[(6, "discontinued")]
    assert not Spec.objects.filter(code__in=["OK1", "BAD1", "BAD2", "BAD3", "BAD4"]).exists()
    assert Spec.objects.get(code="JF03").launched is None
    # a file without the code column, or with a column nobody knows, is refused at row 1
    no_code = spec_catalogue.import_specs(center, _table("品牌,规格名称", "晋风,晋风(一号)"))
    assert no_code["errors"] == [
        {"row": 1, "field": "规格编码/code", "message": "缺少必需的列 / required column missing"}
    ]
    odd = spec_catalogue.import_specs(center, _table("规格编码,颜色", "JF01,红"))
    assert odd["errors"][0]["row"] == 1 and odd["errors"][0]["field"] == "颜色"


def test_the_page_export_imports_back_unchanged_and_the_page_shows_the_dry_run(cycle_ledger, login):
    client = login(cycle_ledger.center)
    resp = client.get(PAGE + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:8] == [names[0] for names in spec_catalogue.SPEC_COLUMNS.values()]
    assert sheet.max_row == 41  # the header and the 40 specs
    exported = SimpleUploadedFile("specs.xlsx", resp.content)
    page = client.post(PAGE, {"file": exported, "dry_run": "1"}).content.decode()
    assert 'id="import-report"' in page and 'id="import-errors"' not in page
    # the state and last month's shops and demand are read past; all 40 are unchanged
    report = spec_catalogue.import_specs(
        cycle_ledger.center.user, read_table(io.BytesIO(resp.content), filename="specs.xlsx")
    )
    assert report["ok"] and report["unchanged"] == 40 and report["ignored"] == ["状态", "上月订货户数", "上月需求量"]
    # a dry run on the page lists the change and writes nothing; without it the page imports and says so
    page = client.post(PAGE, {"file": _csv(*GOOD), "dry_run": "1"}).content.decode()
    assert 'id="import-changes"' in page and "NEW1" in page and not Spec.objects.filter(code="NEW1").exists()
    resp = client.post(PAGE, {"file": _csv(*GOOD)}, follow=True)
    assert Spec.objects.filter(code="NEW1").exists()
    assert resp.redirect_chain[-1][0] == PAGE
    assert "规格目录已导入:新增 1 个,修改 1 个,未变 1 个" in resp.content.decode()


def test_only_the_marketing_center_and_administrators_change_the_catalogue(cycle_ledger, login, token_for, client):
    org = cycle_ledger
    for staff in (org.cm1, org.mm1, org.head1):
        c = login(staff)
        page = c.get(PAGE).content.decode()
        assert 'id="spec-list"' in page and 'id="spec-import"' not in page and 'id="spec-add"' not in page
        assert c.post(PAGE, {"file": _csv(*GOOD)}).status_code == 403
        jf01 = Spec.objects.get(code="JF01")
        assert c.post(f"{PAGE}{jf01.pk}/", {"price": "1"}).status_code == 403
        assert 'id="spec-form"' not in c.get(f"{PAGE}{jf01.pk}/").content.decode()
        assert c.get(f"{PAGE}new/").status_code == 404
        h = token_for(staff)
        assert client.get("/api/forecasting/specs", **h).status_code == 200
        put = client.put(
            "/api/forecasting/specs/JF01", data=json.dumps({"price": "1"}), content_type="application/json", **h
        )
        assert put.status_code == 403
        imp = client.post("/api/forecasting/specs/import", {"file": _csv(*GOOD)}, **h)
        assert imp.status_code == 403
    assert Spec.objects.get(code="JF01").price == Decimal("85.00") and not Spec.objects.filter(code="NEW1").exists()
    assert not AuditLog.objects.filter(model="forecasting.spec").exists()
    # an administrator may
    h = token_for(org.admin)
    put = client.put(
        "/api/forecasting/specs/JF01", data=json.dumps({"price": "88"}), content_type="application/json", **h
    )
    assert put.status_code == 200 and put.json()["changes"] == {"price": ["85.00", "88.00"]}


def test_the_api_adds_and_changes_a_spec_and_names_a_bad_field(cycle_ledger, token_for, client):
    h = token_for(cycle_ledger.center)
    body = {"brand": "云岭", "name": "云岭(新品)", "price_class": "high", "price": "560", "launched": "2026-01"}
    resp = client.put("/api/forecasting/specs/YL09", data=json.dumps(body), content_type="application/json", **h)
    assert resp.status_code == 200, resp.content
    out = resp.json()["spec"]
    # launched in January 2026: within the last 12 months of 2 November 2026, so "new"
    assert (out["price"], out["launched"], out["state"]) == ("560.00", "2026-01-01", "new")
    bad = client.put(
        "/api/forecasting/specs/YL09",
        data=json.dumps({"price": "abc", "discontinued": "2025-12"}),
        content_type="application/json",
        **h,
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"price", "discontinued"}
    assert Spec.objects.get(code="YL09").price == Decimal("560.00")
    missing = client.put(
        "/api/forecasting/specs/YL10", data=json.dumps({"brand": "云岭"}), **h, content_type="application/json"
    )
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"name", "price_class", "price"}
    # the list filters by state on today (2 November 2026): YL09 and YQ03 (launched 2026-02) are new; JF04
    # (launched 2025-03, 20 months ago) is only on sale; CG01, FH01 and ZJ03 (last days 2024-12-31, 2025-06-30,
    # 2026-03-31) are withdrawn: 41 specs, 38 on sale
    new = client.get("/api/forecasting/specs?state=new", **h).json()
    assert [s["code"] for s in new] == ["YL09", "YQ03"]
    gone = client.get("/api/forecasting/specs?state=discontinued", **h).json()
    assert [s["code"] for s in gone] == ["CG01", "FH01", "ZJ03"]
    on_sale = {s["code"] for s in client.get("/api/forecasting/specs?state=on_sale", **h).json()}
    assert {"JF04", "YL09"} <= on_sale and not {"CG01", "FH01", "ZJ03"} & on_sale and len(on_sale) == 41 - 3
    # a file through the API: the dry run's report
    rep = client.post("/api/forecasting/specs/import", {"file": _csv(*GOOD)}, **h).json()
    assert rep["ok"] and not rep["written"] and rep["created"] == 1


def test_a_spec_added_to_the_catalogue_is_taken_by_the_ledger_import(cycle_ledger):
    center = cycle_ledger.center.user
    ledger = cycle_fixtures.csv_table("客户编码,规格编码,月份,需求量\nC1,NEW1,2026-10,3\n")
    refused = services.import_ledger(center, ledger, dry_run=False)
    assert not refused["ok"] and refused["errors"][0]["field"] == "spec"
    spec_catalogue.save_spec(
        center, "NEW1", {"brand": "晋风", "name": "晋风(冰爽)", "price_class": "mid", "price": "200"}
    )
    ledger = cycle_fixtures.csv_table("客户编码,规格编码,月份,需求量\nC1,NEW1,2026-10,3\n")
    assert services.import_ledger(center, ledger, dry_run=False)["ok"]


def test_a_withdrawn_spec_gets_no_line_in_the_rounds_after_its_last_day(cycle_ledger):
    """C1, C2 and C3 all ordered JF01 in August to October: December's round would give each a JF01 line. JF01's
    last day on sale set to 30 November (the month 2026-11) leaves them out of December's round."""
    spec_catalogue.save_spec(cycle_ledger.center.user, "JF01", {"discontinued": "2026-11"})
    assert Spec.objects.get(code="JF01").discontinued == dt.date(2026, 11, 30)
    rnd = services.open_round(cycle_fixtures.TARGET)
    assert not ForecastLine.objects.filter(round=rnd, spec__code="JF01").exists()
    # the other specs keep their lines: C1 TH04, C2 YL01
    assert set(ForecastLine.objects.filter(round=rnd).values_list("customer__code", "spec__code")) == {
        ("C1", "TH04"),
        ("C2", "YL01"),
    }


def test_the_page_shows_last_months_shops_and_demand_of_my_scope_only(cycle_ledger, login):
    """October's JF01: C1 14, C2 20, C3 5 cartons. cm1 sees his one shop (14); the market manager of the first
    market sees C1 and C2 (34); the center sees all three (14 + 20 + 5 = 39)."""
    jf01 = Spec.objects.get(code="JF01")
    for staff, shops, demand in ((cycle_ledger.cm1, 1, 14), (cycle_ledger.mm1, 2, 34), (cycle_ledger.center, 3, 39)):
        c = login(staff)
        sheet = load_workbook(io.BytesIO(c.get(PAGE + "?export=xlsx&q=JF01").content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        assert [(r[0], r[9], r[10]) for r in rows] == [("JF01", shops, demand)]
        detail = c.get(f"{PAGE}{jf01.pk}/")
        october = next(m for m in detail.context["months"] if m["month"] == dt.date(2026, 10, 1))
        assert (october["shops"], october["demand"]) == (shops, demand)


def test_the_form_saves_a_change_audits_it_and_refuses_a_bad_price(cycle_ledger, login):
    client = login(cycle_ledger.center)
    th03 = Spec.objects.get(code="TH03")
    fields = {"brand": "太行", "name": "太行(山水)", "price_class": "mid", "packs_per_unit": "10"}
    bad = client.post(f"{PAGE}{th03.pk}/", {**fields, "price": "两百", "launched": "", "discontinued": ""})
    assert bad.status_code == 200 and 'id="spec-errors"' in bad.content.decode()
    assert Spec.objects.get(code="TH03").price == Decimal("260.00") and _history("TH03") == []
    ok = client.post(f"{PAGE}{th03.pk}/", {**fields, "price": "268.50", "launched": "", "discontinued": ""})
    assert ok.status_code == 302 and Spec.objects.get(code="TH03").price == Decimal("268.50")
    page = client.get(f"{PAGE}{th03.pk}/").content.decode()
    assert "260.00 → 268.50" in page
    new = client.post(f"{PAGE}new/", {**fields, "code": "TH09", "name": "太行(新)", "price": "99", "launched": ""})
    assert new.status_code == 302 and Spec.objects.get(code="TH09").price == Decimal("99.00")


def test_the_price_class_words_come_from_the_policy_and_are_checked(cycle_ledger, settings):
    from kejing.core.policies import get_policy

    data = get_policy("tobacco", "cigarettes")
    assert problems("cigarettes", data) == []
    words = {**data, "price_class_words": {"high": ["一类", "高"], "low": ["高", "五类"], "cheap": ["特价"]}}
    found = problems("cigarettes", words)
    assert len(found) == 2 and any("cheap" in p for p in found) and any("'高'" in p for p in found)
    # a company that writes 一类 adds it under high; the import then takes it
    assert spec_catalogue.class_words({"price_class_words": {"high": ["一类烟"]}})["一类烟"] == "high"
    # the labels the pages show are understood whatever the policy says
    assert spec_catalogue.class_words({})["高价位"] == "high" and spec_catalogue.class_words({})["midprice"] == "mid"


@pytest.mark.parametrize(
    ("text", "end", "day"),
    [
        ("2026-03-15", False, dt.date(2026, 3, 15)),
        ("2026/3/5", True, dt.date(2026, 3, 5)),
        ("2026年3月5日", False, dt.date(2026, 3, 5)),
        ("20260305", False, dt.date(2026, 3, 5)),
        ("2026-02", False, dt.date(2026, 2, 1)),
        ("2026-02", True, dt.date(2026, 2, 28)),  # 2026 is no leap year
        ("2028年2月", True, dt.date(2028, 2, 29)),  # 2028 is
    ],
)
def test_days_and_months_in_the_launch_and_withdrawal_columns(text, end, day):
    assert spec_catalogue.parse_day(text, end_of_month=end) == day


def test_a_change_on_the_admin_site_is_audited_too(cycle_ledger, login):
    client = login(cycle_ledger.admin)
    spec = Spec.objects.get(code="TH03")
    form = {
        "code": "TH03",
        "brand": "太行",
        "name": "太行(山水)",
        "price_class": "high",  # was mid
        "unit": "carton",
        "packs_per_unit": "10",
        "price": "260.00",
        "launched": "",
        "discontinued": "",
    }
    resp = client.post(f"/admin/forecasting/spec/{spec.pk}/change/", form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    (entry,) = _history("TH03")
    assert entry.action == "spec_update" and entry.changes == {"price_class": ["mid", "high"]}
