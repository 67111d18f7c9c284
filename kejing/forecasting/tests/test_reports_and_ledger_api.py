"""The reports summed in the database give exactly the figures of the row-by-row pandas frame (every scope,
every grouping, shops and lines on one side only, a line whose CM is not the shop's, unknown demand); a
formula SQL cannot sum exactly falls back to the frame. ``GET ledger`` lists one month unless asked for more."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_staff
from kejing.forecasting import metrics, selectors
from kejing.forecasting.models import ForecastLine, LedgerEntry, Round, Spec
from kejing.org.models import OrgUnit

from . import cycle_fixtures

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on

SEP, OCT, NOV, DEC = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)
MONTHS = [dt.date(2026, 8, 1), SEP, OCT, NOV]  # August has no round, November no ledger: both left out
# a formula over every column, so that each one's SQL is compared too
EVERY_COLUMN = "sum(max(cm, self) + model * 2 - min(stock, sold) + abs(balanced - supplied)) / sum(demand)"


@pytest.fixture
def report_data(cycle_data):
    """Rounds for September-November with lines beside the Aug-Oct ledger of ``cycle_data``:

    September: C1 JF01 matched; C1 TH04 ledger only; C1 YL01 line only; C2 JF01 a line without a CM (the shop's
    CM counts); C3 JF01 matched. October: C2 JF01's line belongs to cm1 in unit 1 (the shop was cm2's) — the
    line and C2's order are cm1's; C2 YL01's demand is unknown, so its line counts with demand 0.
    """
    org = cycle_data.org
    spec = {s.code: s for s in Spec.objects.filter(code__in=["JF01", "TH04", "YL01"])}

    def line(rnd, customer, code, cm, unit, merged, **kw):
        ForecastLine.objects.create(
            round=rnd, customer=customer, spec=spec[code], cm=cm, unit=unit, merged_qty=merged, **kw
        )

    sep, oct_, nov = (Round.objects.create(target=m) for m in (SEP, OCT, NOV))
    line(sep, org.c1, "JF01", org.cm1, org.u1, 11, cm_qty=11, balanced_qty=10)
    line(sep, org.c1, "YL01", org.cm1, org.u1, 3, model_qty=2)
    line(sep, org.c2, "JF01", None, org.u2, 18, self_qty=19, balanced_qty=17)
    line(sep, org.c3, "JF01", org.cm3, org.u3, 5, balanced_qty=4)
    line(oct_, org.c1, "JF01", org.cm1, org.u1, 15, cm_qty=15, self_qty=12, model_qty=13, balanced_qty=14)
    line(oct_, org.c1, "TH04", org.cm1, org.u1, 4)
    line(oct_, org.c2, "JF01", org.cm1, org.u1, 21, balanced_qty=19)
    line(oct_, org.c2, "YL01", org.cm2, org.u2, 7, model_qty=6)
    line(oct_, org.c3, "JF01", org.cm3, org.u3, 6, self_qty=6, model_qty=5)
    line(nov, org.c1, "JF01", org.cm1, org.u1, 9)
    LedgerEntry.objects.filter(customer=org.c2, spec=spec["YL01"], month=OCT).update(demand=None)
    LedgerEntry.objects.filter(month=SEP).update(sold=3, stock=2)
    LedgerEntry.objects.filter(customer=org.c1, month=OCT).update(sold=9)
    return cycle_data


def _with_formula(monkeypatch, code: str, formula: str) -> None:
    defs = selectors.metric_definitions()
    extra = {"code": code, "zh": code, "en": code, "formula": formula, "percent": True}
    monkeypatch.setattr(selectors, "metric_definitions", lambda: [*defs, extra])


def test_reports_summed_in_the_database_equal_the_pandas_rows(report_data, monkeypatch):
    org = report_data.org
    _with_formula(monkeypatch, "every", EVERY_COLUMN)
    users = [s.user for s in (org.admin, org.center, org.head1, org.mm1, org.mm2, org.cm1, org.cm2, org.cm3)]

    def frame_not_used(*args, **kwargs):
        raise AssertionError("the report read the rows into pandas")

    monkeypatch.setattr(selectors, "report_frame", frame_not_used)
    in_sql = {(u.username, by): selectors.report(u, MONTHS, by) for u in users for by in selectors.GROUPS}
    monkeypatch.undo()
    _with_formula(monkeypatch, "every", EVERY_COLUMN)
    monkeypatch.setattr(selectors, "report_sums", lambda *args, **kwargs: None)
    for (username, by), data in in_sql.items():
        user = next(u for u in users if u.username == username)
        assert data == selectors.report(user, MONTHS, by), (username, by)
    # not vacuous: every scope has figures, for September and October only — but cm2, whose one October order
    # with a known demand (C2 JF01) was cm1's to forecast: that row is cm1's, and cm2's October has no ledger
    assert all(d["months"] == [SEP, OCT] and d["rows"] for (u, _), d in in_sql.items() if u != "cm2")
    assert all(d["months"] == [SEP] and d["rows"] for (u, _), d in in_sql.items() if u == "cm2")
    assert any(r["values"]["every"] is not None for d in in_sql.values() for r in d["rows"])


def test_report_figures_worked_by_hand(report_data):
    org = report_data.org
    rows = {r["month"]: r for r in selectors.report(org.cm1.user, MONTHS, "cm")["rows"]}
    assert [r["key"] for r in rows.values()] == [org.cm1.pk, org.cm1.pk]
    # September: C1 JF01 11 vs 12, C1 TH04 0 vs 4 (nobody forecast it), C1 YL01 3 vs 0 (not ordered)
    assert (rows[SEP]["forecast"], rows[SEP]["demand"]) == (14, 16)
    assert rows[SEP]["values"]["accuracy"] == pytest.approx(1 - 8 / 16, abs=1e-4)
    # October: C1 JF01 15 vs 14, C1 TH04 4 vs 4, and C2 JF01: his line (the round gave him C2's JF01) with C2's
    # order, 21 vs 20 — the row is the line's, whoever's shop C2 is: |error| 1 + 0 + 1 = 2 over demand 38
    assert (rows[OCT]["forecast"], rows[OCT]["demand"], rows[OCT]["balanced"]) == (40, 38, 37)
    assert rows[OCT]["values"]["accuracy"] == pytest.approx(1 - 2 / 38, abs=1e-4)
    # cm2 in October: C2 JF01's order is cm1's (above); C2 YL01's line has no known demand; so no October row
    assert [r["month"] for r in selectors.report(org.cm2.user, MONTHS, "cm")["rows"]] == [SEP]
    # his market manager sees both CMs: the order counts once, with cm1, and cm2's October is his line only
    by_mm = {(r["key"], r["month"]): r for r in selectors.report(org.mm1.user, MONTHS, "cm")["rows"]}
    assert (by_mm[(org.cm1.pk, OCT)]["demand"], by_mm[(org.cm2.pk, OCT)]["forecast"]) == (38, 7)
    assert by_mm[(org.cm2.pk, OCT)]["demand"] == 0
    # the company by CM: September's C2 JF01 has no CM on its line and counts for the shop's CM
    by_cm = {(r["key"], r["month"]): r for r in selectors.report(org.center.user, MONTHS, "cm")["rows"]}
    assert (by_cm[(org.cm2.pk, SEP)]["forecast"], by_cm[(org.cm2.pk, SEP)]["demand"]) == (18, 26)


def test_a_formula_sql_cannot_sum_exactly_is_computed_from_the_rows(report_data, monkeypatch):
    org = report_data.org
    _with_formula(monkeypatch, "half", "sum(demand / 2) / sum(demand)")
    calls = []
    real = selectors.report_sums
    monkeypatch.setattr(selectors, "report_sums", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    data = selectors.report(org.mm1.user, MONTHS, "unit")
    assert calls == [None]
    assert data["rows"]
    for r in data["rows"]:  # unit 2 in October: nothing ordered (its lines only), no figure
        assert r["values"]["half"] == (0.5 if r["demand"] else None), r


def test_to_sql_translates_only_what_the_database_sums_exactly():
    cols = {c: c.upper() for c in metrics.COLUMNS}
    assert metrics.to_sql("abs(forecast - demand)", cols) == "ABS((FORECAST - DEMAND))"
    assert metrics.to_sql("min(demand, balanced)", cols, "LEAST", "GREATEST") == "LEAST(DEMAND, BALANCED)"
    assert metrics.to_sql("-max(cm, 2) * 3", cols) == "((-MAX(CM, 2)) * 3)"
    for term in ("demand / 2", "forecast * 0.5", "forecast + True", "forecast * 10000000000"):
        assert metrics.to_sql(term, cols) is None, term
    terms = metrics.sum_terms("1 - sum(abs(forecast - demand)) / sum(demand) + sum(demand)")
    assert sorted(terms) == ["abs(forecast - demand)", "demand"]


def test_evaluate_on_partial_sums_equals_evaluate_on_rows():
    rows = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B", "B"],
            "month": [1, 1, 2, 1, 2],
            "forecast": [10.0, 3.0, 7.0, 0.0, 4.0],
            "demand": [12.0, 0.0, 7.0, 5.0, 0.0],
        }
    )
    formula = "1 - sum(abs(forecast - demand)) / sum(demand)"
    partial = rows.assign(**{"abs(forecast - demand)": (rows["forecast"] - rows["demand"]).abs()})
    partial = partial.groupby(["unit", "month"], as_index=False).sum()
    for by in (["unit", "month"], ["month"], []):
        expected = metrics.evaluate(formula, rows, by)
        pd.testing.assert_series_equal(metrics.evaluate(formula, partial, by, summed=True), expected)
    assert pd.isna(metrics.evaluate(formula, partial, ["unit", "month"], summed=True)[("B", 2)])


# -- GET ledger -----------------------------------------------------------------------------------------------
@pytest.fixture
def ledger_data(cycle_data):
    """``cycle_data``'s Aug-Oct ledger, plus one November row for C2 (cm2's shop, unit 2, market 1)."""
    LedgerEntry.objects.create(
        customer=cycle_data.org.c2, spec=Spec.objects.get(code="JF01"), month=NOV, demand=3, supplied=3
    )
    return cycle_data


def _ledger(client, token, query=""):
    resp = client.get(f"/api/forecasting/ledger{query}", **token)
    assert resp.status_code == 200, resp.content
    return resp.json()


def test_the_ledger_lists_the_latest_month_of_my_scope_by_default(ledger_data, client, token_for):
    org = ledger_data.org
    for staff, month, shops, count in (
        (org.cm1, "2026-10-01", {"C1"}, 2),  # November's row is not his: his latest month is October
        (org.cm2, "2026-11-01", {"C2"}, 1),
        (org.mm1, "2026-11-01", {"C2"}, 1),
        (org.mm2, "2026-10-01", {"C3"}, 1),
        (org.center, "2026-11-01", {"C2"}, 1),
    ):
        data = _ledger(client, token_for(staff))
        assert data["month"] == month, staff.name
        assert {x["month"] for x in data["items"]} == {month}, staff.name
        assert {x["customer_code"] for x in data["items"]} == shops, staff.name
        assert data["count"] == count, staff.name


def test_the_ledger_page_opens_on_the_same_month_as_the_api(ledger_data, client, token_for, login, on):
    # the page and the API share one default: the latest month of my scope up to this one. cm1 has no November
    # row (today is 2026-11-02 in cycle_data, nothing booked yet): both show his October; cm2 his November; a
    # December row written by balancing does not move either; a named month and a search are left as asked
    org = ledger_data.org
    LedgerEntry.objects.create(customer=org.c2, spec=Spec.objects.get(code="YL01"), month=DEC, allocated=4)
    for staff, month in ((org.cm1, "2026-10"), (org.cm2, "2026-11"), (org.center, "2026-11")):
        login(staff)
        page = client.get("/forecasting/ledger/")
        assert page.status_code == 200
        assert page.context["month"] == month, staff.name
        assert {f"{e.month:%Y-%m}" for e in page.context["page"]} == {month}, staff.name
        assert _ledger(client, token_for(staff))["month"] == f"{month}-01", staff.name
    login(org.cm1)
    assert client.get("/forecasting/ledger/?month=2026-09").context["month"] == "2026-09"
    assert client.get("/forecasting/ledger/?q=C1").context["page"].paginator.count == 6  # every month of C1
    # a scope without any ledger: this month, empty
    on(dt.date(2026, 12, 3))
    telecom = OrgUnit.objects.create(code="M", name="测试移动公司", kind="company", industry="telecom")
    login(make_staff("tcenter", telecom, "center"))
    page = client.get("/forecasting/ledger/")
    assert page.context["month"] == "2026-12" and page.context["page"].paginator.count == 0


def test_the_ledger_export_has_the_rows_of_the_page(ledger_data, client, login):
    # cm1's October (his latest month): C1's two specs, as the history of cycle_fixtures wrote them (JF01 14
    # ordered and supplied, TH04 4 and 4); the export names shop and spec and writes the month as YYYY-MM
    import csv
    import io

    org = ledger_data.org
    login(org.cm1)
    text = client.get("/forecasting/ledger/?export=1&format=csv").content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:7] == ["客户编码", "客户名称", "规格编码", "规格", "月份", "需求量", "供货量"]
    specs = {s.code: s.name for s in Spec.objects.filter(code__in=("JF01", "TH04"))}
    assert sorted(r[:7] for r in rows) == [
        ["C1", org.c1.name, "JF01", specs["JF01"], "2026-10", "14", "14"],
        ["C1", org.c1.name, "TH04", specs["TH04"], "2026-10", "4", "4"],
    ]


def test_the_ledger_export_imports_back_and_only_the_changed_figure_is_written(ledger_data, client, login):
    """Export October as mm1 (his unit's shops C1 and C2), correct one figure in the workbook, import it back: the
    export's name and balanced-quantity columns are read past, not refused; one row is updated and audited."""
    import io

    from kejing.core.models import AuditLog
    from kejing.core.tabular import read_table
    from kejing.forecasting import services

    org = ledger_data.org
    login(org.mm1)
    data = client.get("/forecasting/ledger/?export=1&month=2026-10").content
    table = read_table(io.BytesIO(data), filename="ledger.xlsx")
    report = services.import_ledger(org.mm1.user, table)
    assert report["ok"] and report["ignored"] == ["客户名称", "规格", "平衡分配量"], report
    assert report["rows"] == 4  # C1 JF01, C1 TH04, C2 JF01, C2 YL01
    for _, row in table.rows:
        if (row["客户编码"], row["规格编码"]) == ("C1", "JF01"):
            row["需求量"] = "15"  # was 14
    logged = AuditLog.objects.filter(action="ledger_import").count()
    report = services.import_ledger(org.mm1.user, table, dry_run=False)
    assert (report["ok"], report["created"], report["updated"]) == (True, 0, 1), report
    e = LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=dt.date(2026, 10, 1))
    assert (e.demand, e.supplied) == (15, 14)
    logs = AuditLog.objects.filter(action="ledger_import").order_by("pk")[logged:]
    assert [x.changes for x in logs] == [{"demand": [14, 15]}]


def test_the_ledger_import_reads_other_names_and_units_and_writes_only_its_columns(ledger_data):
    """Another system's report: 客户代码 / 卷烟编码 / 年月 / 订货量（条）/ 库存 (条). October's C1 JF01 (ordered 14,
    supplied 14) gets demand 16 and stock 3; the file has no supplied column, so supplied stays 14."""
    org = ledger_data.org
    text = "客户代码,卷烟编码,年月,订货量（条）,库存 (条)\nC1,JF01,2026-10,16,3\n"
    report = services_import(org, text)
    assert (report["ok"], report["updated"], report["ignored"]) == (True, 1, []), report
    e = LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=dt.date(2026, 10, 1))
    assert (e.demand, e.supplied, e.stock) == (16, 14, 3)
    # a column that is none of these is still refused, by name
    bad = services_import(org, "客户代码,卷烟编码,年月,订货量,备注\nC1,JF01,2026-10,16,x\n")
    assert not bad["ok"] and bad["errors"][0]["field"] == "备注"


def services_import(org, text: str) -> dict:
    from kejing.forecasting import services

    return services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False)


def test_the_default_is_not_a_month_after_this_one(ledger_data, client, token_for, on):
    # balancing writes December's allocated quantities into the ledger while it is still November (today is
    # 2026-11-02 in cycle_data): the default stays on November, December comes when asked for
    org = ledger_data.org
    LedgerEntry.objects.create(customer=org.c2, spec=Spec.objects.get(code="YL01"), month=DEC, allocated=4)
    data = _ledger(client, token_for(org.cm2))
    assert data["month"] == "2026-11-01" and data["count"] == 1
    assert _ledger(client, token_for(org.cm2), "?month=2026-12")["count"] == 1
    on(dt.date(2026, 12, 3))  # in December the December rows are this month's
    assert _ledger(client, token_for(org.cm2))["month"] == "2026-12-01"


def test_the_default_ledger_page_counts_one_month_only(ledger_data, client, token_for):
    with CaptureQueriesContext(connection) as ctx:
        data = _ledger(client, token_for(ledger_data.org.center))
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(*)" in q["sql"] and "ledgerentry" in q["sql"]]
    assert len(counts) == 1 and "2026-11-01" in counts[0]
    assert data["count"] == 1


def test_the_ledger_gives_every_month_when_asked(ledger_data, client, token_for):
    org = ledger_data.org
    h = token_for(org.cm1)
    data = _ledger(client, h, "?all=true")
    assert data["month"] is None and data["count"] == 6
    assert {x["customer_code"] for x in data["items"]} == {"C1"}  # still only his shop
    assert {x["month"] for x in data["items"]} == {"2026-08-01", "2026-09-01", "2026-10-01"}
    # a shop's whole history without a month, another CM's shop not at all
    assert _ledger(client, h, f"?customer_id={org.c1.pk}")["count"] == 6
    assert _ledger(client, h, f"?customer_id={org.c2.pk}") == {"count": 0, "month": None, "items": []}
    data = _ledger(client, h, "?month=2026-09")
    assert data["month"] == "2026-09-01" and data["count"] == 2
    assert {x["month"] for x in data["items"]} == {"2026-09-01"}
    assert client.get("/api/forecasting/ledger?month=2026-13", **h).status_code == 400
    # the marketing center asks for everything: every shop's rows of the four months
    assert _ledger(client, token_for(org.center), "?all=true&page_size=1")["count"] == 16


def test_a_scope_without_any_ledger_gets_an_empty_page(ledger_data, client, token_for):
    telecom = OrgUnit.objects.create(code="M", name="测试移动公司", kind="company", industry="telecom")
    other = make_staff("tcenter", telecom, "center")
    assert _ledger(client, token_for(other)) == {"count": 0, "month": None, "items": []}
