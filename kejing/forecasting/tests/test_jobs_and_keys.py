"""Ledger import and balancing as background jobs (dry run -> import now; start -> progress -> result), and the
shop POS keys page/API (issue shows the raw key once, revoke, audit, scope). Tasks run immediately in tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kejing.core.models import AuditLog, Job
from kejing.forecasting import services
from kejing.forecasting.models import ForecastLine, LedgerEntry, Round, ShopKey, Supply

from . import cycle_fixtures
from .cycle_fixtures import TARGET

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on

OCT = dt.date(2026, 10, 1)
NOV = dt.date(2026, 11, 1)


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("ledger.csv", text.encode("utf-8"), content_type="text/csv")


# -- ledger import ----------------------------------------------------------------------------------------------
def test_ledger_import_page_dry_run_then_import_now_on_the_same_file(cycle_data, login):
    org = cycle_data.org
    client = login(org.mm1)
    text = "客户编码,规格编码,月份,需求量\nC1,JF01,2026-11,9\nC2,YL01,2026-11,3\n"
    resp = client.post("/forecasting/ledger/import/", {"file": _upload(text), "dry_run": "1"})
    assert resp.status_code == 302
    job = Job.objects.get(kind="import_ledger")
    assert job.status == Job.Status.DONE and job.params["dry_run"] and job.result["ok"]
    page = client.get(resp["Location"]).content.decode()
    assert 'id="import-now"' in page and 'http-equiv="refresh"' not in page
    assert not LedgerEntry.objects.filter(month=NOV).exists()  # a dry run writes nothing
    resp = client.post("/forecasting/ledger/import/", {"from_job": job.pk})
    done = Job.objects.filter(kind="import_ledger").exclude(pk=job.pk).get()
    assert done.params["path"] == job.params["path"] and not done.params["dry_run"]
    assert done.result["created"] == 2
    assert 'id="import-done"' in client.get(resp["Location"]).content.decode()
    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=NOV).demand == 9
    # another manager cannot import someone else's dry run, nor see its job
    other = login(org.mm2)
    assert other.post("/forecasting/ledger/import/", {"from_job": job.pk}).status_code == 404
    assert 'id="import-report"' not in other.get(f"/forecasting/ledger/import/?job={job.pk}").content.decode()


def test_a_report_with_a_title_and_rows_of_totals_imports_its_shops_only(cycle_data, login):
    """Another system's ledger report: a title and a unit line above the header, a 小计 row under each shop and a
    合计 row at the end. Rows 4 (C1 JF01 9) and 6 (C2 YL01 3) are shops; 5 (小计 9), 7 (小 计 3) and 8 (合计 12 = 9 +
    3) are sums of them and must not become ledger rows (nor refuse the file as unknown customers)."""
    org = cycle_data.org
    client = login(org.mm1)
    text = (
        "2026年11月卷烟动销台帐\n单位:条\n客户编码,规格编码,月份,需求量\n"
        "C1,JF01,2026-11,9\n小计,,,9\nC2,YL01,2026-11,3\n小 计,,,3\n合计,,,12\n"
    )
    resp = client.post("/forecasting/ledger/import/", {"file": _upload(text)})  # no dry run
    job = Job.objects.get(kind="import_ledger")
    assert job.result["ok"] and job.result["created"] == 2, job.result
    assert job.result["totals"] == [5, 7, 8] and job.result["rows"] == 2  # the rows read as shops
    assert sorted(LedgerEntry.objects.filter(month=NOV).values_list("customer__code", "demand")) == [
        ("C1", 9),
        ("C2", 3),
    ]
    page = client.get(resp["Location"]).content.decode()
    assert 'id="import-totals"' in page and "5, 7, 8" in page


def test_ledger_import_page_lists_errors_and_a_bad_dry_run_cannot_be_imported(cycle_data, login):
    org = cycle_data.org
    client = login(org.mm1)
    # row 3: C3 belongs to the other market (outside mm1's scope); row 4: negative demand
    text = "客户编码,规格编码,月份,需求量\nC1,JF01,2026-11,9\nC3,JF01,2026-11,1\nC1,TH04,2026-11,-2\n"
    resp = client.post("/forecasting/ledger/import/", {"file": _upload(text), "dry_run": "1"})
    job = Job.objects.get(kind="import_ledger")
    assert not job.result["ok"]
    assert {(e["row"], e["field"]) for e in job.result["errors"]} == {(3, "customer"), (4, "demand")}
    page = client.get(resp["Location"]).content.decode()
    assert 'id="import-errors"' in page and 'id="import-now"' not in page
    assert client.post("/forecasting/ledger/import/", {"from_job": job.pk}).status_code == 404
    assert not LedgerEntry.objects.filter(month=NOV).exists()


def test_failed_ledger_import_job_leaves_nothing_half_written(cycle_data, login, monkeypatch):
    org = cycle_data.org
    client = login(org.admin)
    text = "客户编码,规格编码,月份,需求量\nC1,JF01,2026-10,99\nC2,JF01,2026-10,98\n"

    def boom(*args, **kwargs):  # fails after the ledger rows were written, inside the transaction
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "refresh_unit_history", boom)
    client.post("/forecasting/ledger/import/", {"file": _upload(text)})
    job = Job.objects.get(kind="import_ledger")
    assert job.status == Job.Status.FAILED and "disk full" in job.result["errors"][0]["message"]
    # October stays as the fixture imported it (C1 JF01 = 14, C2 JF01 = 20), no audit of the failed rows
    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=OCT).demand == 14
    assert LedgerEntry.objects.get(customer=org.c2, spec__code="JF01", month=OCT).demand == 20
    assert not AuditLog.objects.filter(action="ledger_import", changes__demand__1=99).exists()


def test_ledger_import_api_returns_the_job_and_its_status(cycle_data, client, token_for):
    org = cycle_data.org
    h = token_for(org.mm1)
    text = "客户编码,规格编码,月份,需求量\nC1,JF01,2026-11,7\n"
    resp = client.post("/api/forecasting/ledger/import", {"file": _upload(text)}, **h)
    assert resp.status_code == 202
    job_id = resp.json()["job"]
    status = client.get(f"/api/forecasting/jobs/{job_id}", **h).json()
    assert status["status"] == "done" and status["result"]["ok"] and status["result"]["rows"] == 1
    assert not LedgerEntry.objects.filter(month=NOV).exists()
    resp = client.post(f"/api/forecasting/ledger/import/{job_id}", **h)
    assert resp.status_code == 202
    assert client.get(f"/api/forecasting/jobs/{resp.json()['job']}", **h).json()["result"]["created"] == 1
    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=NOV).demand == 7
    # a real import cannot be "imported now" again; CMs may not import; others do not see the job
    assert client.post(f"/api/forecasting/ledger/import/{resp.json()['job']}", **h).status_code == 400
    resp = client.post("/api/forecasting/ledger/import", {"file": _upload(text)}, **token_for(org.cm1))
    assert resp.status_code == 403
    assert client.get(f"/api/forecasting/jobs/{job_id}", **token_for(org.mm2)).status_code == 404


# -- balancing --------------------------------------------------------------------------------------------------
def _supply_and_cm_figures(org, rnd, on):
    on(dt.date(2026, 11, 3))
    services.enter_cm_forecast(org.cm1.user, rnd, org.c1, {"JF01": 15})
    services.enter_cm_forecast(org.cm2.user, rnd, org.c2, {"JF01": 22})
    on(dt.date(2026, 11, 18))
    services.set_supply(org.center.user, rnd, [(2, {"spec": "JF01", "area": "T-D1", "quantity": "30"})])


def test_balance_page_starts_a_job_and_shows_placed_per_spec_and_area(cycle_data, login, on):
    org, rnd = cycle_data.org, cycle_data.round
    _supply_and_cm_figures(org, rnd, on)
    client = login(org.center)
    resp = client.post("/forecasting/balance/", {"month": "2026-12"})
    assert resp.status_code == 302 and "job=" in resp["Location"]
    job = Job.objects.get(kind="forecast_balance")
    # 30 cartons over forecasts 15 (C1) and 22 (C2): 12.16 / 17.84 -> 12 + 18; all 30 placed
    assert job.status == Job.Status.DONE and (job.result["placed"], job.result["unplaced"]) == (30, 0)
    assert job.result["rows"] == [
        {
            "spec": "JF01",
            "spec_name": job.result["rows"][0]["spec_name"],
            "area": "T-D1",
            "area_name": "一部",
            "supply": 30,
            "placed": 30,
            "unplaced": 0,
            "note": "",
        }
    ]
    page = client.get(resp["Location"]).content.decode()
    assert 'id="balance-result"' in page and "一部" in page and 'http-equiv="refresh"' not in page
    assert ForecastLine.objects.get(round=rnd, customer=org.c2, spec__code="JF01").balanced_qty == 18
    # a second start is refused with a message; a CM reaches no balancing at all
    client.post("/forecasting/balance/", {"month": "2026-12"})
    assert Job.objects.filter(kind="forecast_balance").count() == 1
    assert login(org.cm1).post("/forecasting/balance/", {"month": "2026-12"}).status_code == 404


def test_balance_while_running_shows_progress(cycle_data, login, on):
    org, rnd = cycle_data.org, cycle_data.round
    job = Job.objects.create(kind="forecast_balance", created_by=org.center.user, params={"round": rnd.pk})
    job.progress(1, 3, "分配货源 / allocating supply")
    page = login(org.center).get(f"/forecasting/supply/?month=2026-12&job={job.pk}").content.decode()
    assert 'id="job-running"' in page and 'http-equiv="refresh"' in page and "1/3" in page


def test_a_second_press_leads_to_the_job_under_way(cycle_data, client, login, token_for, monkeypatch):
    """A model run or a balancing already queued or running for the round (the worker has not finished it) is
    what a second press gets, on the page and through the API, whoever pressed first; one left over from a
    stopped worker (queued two hours ago) does not hold a new one back."""
    from django.utils import timezone

    from kejing.forecasting import tasks

    org, rnd = cycle_data.org, cycle_data.round
    queued: list[int] = []

    class Busy:  # the worker is busy: jobs wait in the queue
        enqueue = staticmethod(queued.append)

    for name in ("run_model_forecast", "run_balance"):
        monkeypatch.setattr(tasks, name, Busy())
    client = login(org.mm1)
    first = client.post("/forecasting/model/", {"month": "2026-12"})
    job = Job.objects.get(kind="forecast_model")
    assert first["Location"] == f"/accounts/jobs/{job.pk}/" and queued == [job.pk]
    assert Round.objects.get(pk=rnd.pk).model_job_id == job.pk
    mine = client.post("/forecasting/model/", {"month": "2026-12"}, follow=True)  # his own second press
    assert mine.redirect_chain[-1][0] == f"/accounts/jobs/{job.pk}/" and "已在运行" in mine.content.decode()
    # the center presses too: mm1's job page is mm1's, so the cycle page, with who started the run
    again = login(org.center).post("/forecasting/model/", {"month": "2026-12"}, follow=True)
    assert Job.objects.filter(kind="forecast_model").count() == 1 and queued == [job.pk]
    assert again.redirect_chain[-1][0] == "/forecasting/?month=2026-12"
    assert "已在运行" in again.content.decode() and org.mm1.name in again.content.decode()
    api = client.post(
        "/api/forecasting/model-run", {"month": "2026-12"}, content_type="application/json", **token_for(org.mm2)
    )
    assert api.status_code == 202 and api.json() == {"job": job.pk, "status": "queued", "started": False}
    # balancing: the same
    h = token_for(org.center)
    one = client.post("/api/forecasting/balance", {"month": "2026-12"}, content_type="application/json", **h).json()
    two = client.post("/api/forecasting/balance", {"month": "2026-12"}, content_type="application/json", **h).json()
    assert one["started"] and not two["started"] and one["job"] == two["job"]
    assert Job.objects.filter(kind="forecast_balance").count() == 1
    # a job the stopped worker left queued two hours ago: a new press starts a new run
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    client.post("/forecasting/model/", {"month": "2026-12"})
    assert Job.objects.filter(kind="forecast_model").count() == 2 and len(queued) == 3


def test_failed_balance_job_leaves_nothing_half_written(cycle_data, client, token_for, on, monkeypatch):
    org, rnd = cycle_data.org, cycle_data.round
    _supply_and_cm_figures(org, rnd, on)

    def boom(rnd):  # fails after supply rows and balanced quantities were written, inside the transaction
        raise RuntimeError("ledger locked")

    monkeypatch.setattr(services, "_push_to_ledger", boom)
    h = token_for(org.center)
    resp = client.post("/api/forecasting/balance", {"month": "2026-12"}, content_type="application/json", **h)
    assert resp.status_code == 202
    status = client.get(f"/api/forecasting/jobs/{resp.json()['job']}", **h).json()
    assert status["status"] == "failed" and "ledger locked" in status["result"]["error"]
    assert Round.objects.get(pk=rnd.pk).balanced_at is None
    assert not ForecastLine.objects.filter(round=rnd, balanced_qty__isnull=False).exists()
    assert Supply.objects.get(round=rnd).placed in (0, None)
    assert not AuditLog.objects.filter(action="forecast_balance").exists()
    # with the fault gone, balancing succeeds
    monkeypatch.undo()
    on(dt.date(2026, 11, 18))
    resp = client.post("/api/forecasting/balance", {"month": "2026-12"}, content_type="application/json", **h)
    assert client.get(f"/api/forecasting/jobs/{resp.json()['job']}", **h).json()["result"]["placed"] == 30
    resp = client.post("/api/forecasting/balance", {"month": "2026-12"}, content_type="application/json", **h)
    assert resp.status_code == 400


# -- shop keys --------------------------------------------------------------------------------------------------
def test_cm_issues_a_key_shown_once_and_revokes_it(cycle_data, login, client):
    org = cycle_data.org
    c = login(org.cm1)
    page = c.post(f"/forecasting/shops/{org.c1.pk}/keys/", {"name": "收银台"}).content.decode()
    key = ShopKey.objects.get(customer=org.c1)
    raw = page.split('id="raw-key">')[1].split("<")[0]
    assert raw.startswith("shop_") and ShopKey.objects.for_raw(raw) == key and key.name == "收银台"
    listing = c.get(f"/forecasting/shops/{org.c1.pk}/keys/").content.decode()
    assert raw not in listing and "收银台" in listing  # shown exactly once
    log = AuditLog.objects.get(action="shop_key_issue")
    assert log.customer_id == org.c1.pk and log.actor == org.cm1.user
    c.post(f"/forecasting/shops/{org.c1.pk}/keys/", {"revoke": key.pk})
    assert ShopKey.objects.get(pk=key.pk).revoked and ShopKey.objects.for_raw(raw) is None
    assert AuditLog.objects.get(action="shop_key_revoke").customer_id == org.c1.pk
    c.post(f"/forecasting/shops/{org.c1.pk}/keys/", {"revoke": key.pk})  # twice: no second record
    assert AuditLog.objects.filter(action="shop_key_revoke").count() == 1
    # the revoked key no longer authenticates the POS
    resp = client.post(
        "/api/forecasting/self-report",
        {"lines": []},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert resp.status_code == 401


def test_shop_keys_scope_pages_and_api(cycle_data, login, client, token_for):
    org = cycle_data.org
    # another CM's shop, and a manager outside the shop's unit: 404 on the page and the API
    for staff in (org.cm2, org.mm2):
        assert login(staff).get(f"/forecasting/shops/{org.c1.pk}/keys/").status_code == 404
        assert login(staff).post(f"/forecasting/shops/{org.c1.pk}/keys/").status_code == 404
        h = token_for(staff)
        assert client.get(f"/api/forecasting/shops/{org.c1.pk}/keys", **h).status_code == 404
        body = {"name": "x"}
        resp = client.post(f"/api/forecasting/shops/{org.c1.pk}/keys", body, content_type="application/json", **h)
        assert resp.status_code == 404
    assert not ShopKey.objects.exists()
    # the manager over the shop issues over the API; the raw key comes in that response only
    h = token_for(org.mm1)
    resp = client.post(f"/api/forecasting/shops/{org.c1.pk}/keys", {}, content_type="application/json", **h)
    assert resp.status_code == 201
    issued = resp.json()
    assert ShopKey.objects.for_raw(issued["key"]).pk == issued["id"]
    [listed] = client.get(f"/api/forecasting/shops/{org.c1.pk}/keys", **h).json()
    assert "key" not in listed and listed["revoked"] is False
    # another CM cannot revoke it (404); the shop's CM can
    url = f"/api/forecasting/shops/{org.c1.pk}/keys/{issued['id']}/revoke"
    assert client.post(url, **token_for(org.cm2)).status_code == 404
    assert client.post(url, **token_for(org.cm1)).json()["revoked"] is True
    assert AuditLog.objects.filter(customer=org.c1, action__startswith="shop_key").count() == 2


@pytest.mark.parametrize("n", [1, 4])
def test_shop_key_list_queries_do_not_grow(cycle_data, client, token_for, django_assert_max_num_queries, n):
    org = cycle_data.org
    for _ in range(n):
        ShopKey.objects.issue(org.c1)
    h = token_for(org.cm1)
    with django_assert_max_num_queries(8):
        assert len(client.get(f"/api/forecasting/shops/{org.c1.pk}/keys", **h).json()) == n


def test_entry_page_links_to_the_keys(cycle_data, login):
    org = cycle_data.org
    page = login(org.cm1).get(f"/forecasting/entry/?month={TARGET:%Y-%m}&show=all").content.decode()
    assert f"/forecasting/shops/{org.c1.pk}/keys/" in page


def test_ledger_import_reads_the_months_an_erp_writes(cycle_data):
    # the same month three ways (202611, 2026年11月, 2026/11/15) for three lines; a 13th month is named
    org = cycle_data.org
    text = "客户编码,规格编码,月份,需求量\nC1,JF01,202611,9\nC1,TH04,2026年11月,4\nC2,YL01,2026/11/15,3\n"
    report = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False)
    assert report["ok"] and report["created"] == 3, report
    assert set(LedgerEntry.objects.filter(month=NOV).values_list("spec__code", "demand")) == {
        ("JF01", 9),
        ("TH04", 4),
        ("YL01", 3),
    }
    bad = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text.replace("202611", "202613")))
    assert not bad["ok"] and [(e["row"], e["field"]) for e in bad["errors"]] == [(2, "month")]
    assert "202603" in bad["errors"][0]["message"]


def test_ledger_import_reads_quantities_with_thousands_commas(cycle_data):
    # a spreadsheet's "#,##0" format saved into the CSV: "1,200" is 1200; "1,20" is no grouping and is named
    org = cycle_data.org
    text = '客户编码,规格编码,月份,需求量,供货量\nC1,JF01,Jan-26,"1,200",950\nC2,YL01,46023,3,"1,005"\n'
    report = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False)
    assert report["ok"] and report["created"] == 2, report
    jan = dt.date(2026, 1, 1)  # Jan-26, and the date serial 46023 = 2026-01-01
    rows = set(LedgerEntry.objects.filter(month=jan).values_list("spec__code", "demand", "supplied"))
    assert rows == {("JF01", 1200, 950), ("YL01", 3, 1005)}
    bad = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text.replace('"1,200"', '"1,20"')))
    assert not bad["ok"] and [(e["row"], e["field"]) for e in bad["errors"]] == [(2, "demand")]
    assert "'1,20'" in bad["errors"][0]["message"]
    # another system's two decimals ("1,200.00", "950.0") and full-width digits typed with a Chinese input method
    # ("１２") are whole numbers too; "12.5" is not, and is named
    text2 = '客户编码,规格编码,月份,需求量,供货量\nC1,JF01,2026-02,"1,200.00",950.0\nC2,YL01,2026-02,１２,0.00\n'
    report = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text2), dry_run=False)
    assert report["ok"] and report["created"] == 2, report
    rows = set(LedgerEntry.objects.filter(month=dt.date(2026, 2, 1)).values_list("spec__code", "demand", "supplied"))
    assert rows == {("JF01", 1200, 950), ("YL01", 12, 0)}
    half = services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text2.replace("950.0", "12.5")))
    assert not half["ok"] and [(e["row"], e["field"]) for e in half["errors"]] == [(2, "supplied")]
