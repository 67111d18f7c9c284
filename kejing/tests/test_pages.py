"""The workbench pages end to end through Django's test client."""

from __future__ import annotations

import io

from conftest import PASSWORD
from kejing.core.models import AuditLog, Job
from kejing.customers.models import ChangeRequest, Customer
from kejing.service.models import Task, Visit


def test_login_logout_and_dashboard(org, client):
    resp = client.post("/accounts/login/", {"username": "cm1", "password": PASSWORD})
    assert resp.status_code == 302 and resp.url == "/"
    page = client.get("/").content.decode()
    assert "cm1" in page and 'id="overdue-count"' in page
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_default_password_must_be_changed_first(org, client):
    org.cm1.must_change_password = True
    org.cm1.save()
    client.post("/accounts/login/", {"username": "cm1", "password": PASSWORD})
    resp = client.get("/customers/")
    assert resp.status_code == 302 and resp.url == "/accounts/password/"
    resp = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Gx7-new-secret", "new_password2": "Gx7-new-secret"},
    )
    assert resp.status_code == 302
    assert client.get("/customers/").status_code == 200
    org.cm1.refresh_from_db()
    assert not org.cm1.must_change_password


def test_web_login_is_throttled(org, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "cm1", "password": "wrong"})
    resp = client.post("/accounts/login/", {"username": "cm1", "password": PASSWORD})
    assert resp.status_code == 429
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_chinese_by_default_and_english_switch(org, login):
    client = login(org.cm1)
    assert 'lang="zh-hans"' in client.get("/customers/").content.decode()
    # a phone set to English still gets Chinese until the user switches
    assert 'lang="zh-hans"' in client.get("/customers/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    assert 'lang="en"' in client.get("/customers/").content.decode()


def test_pinyin_search_on_the_list(org, login):
    page = login(org.mm1).get("/customers/?q=zgyd").content.decode()
    assert "中国移动营业厅便利店" in page and "华联超市" not in page
    page = login(org.mm1).get("/customers/?q=140700000002").content.decode()
    assert "华联超市" in page and "中国移动" not in page


def test_edit_page_applies_direct_fields_and_requests_the_rest(org, login):
    client = login(org.cm1)
    form = client.get(f"/customers/{org.c1.pk}/edit/").content.decode()
    assert 'name="order_cycle"' in form and 'name="status"' not in form  # status is read-only for a CM
    data = {"phone": "13855556666", "order_cycle": "W2", "name": org.c1.name, "reason": ""}
    resp = client.post(f"/customers/{org.c1.pk}/edit/", data)
    assert resp.status_code == 200 and "reason" in resp.content.decode()  # a reason is required
    assert Customer.objects.get(pk=org.c1.pk).phone == "13900000000"  # nothing half-written
    data["reason"] = "客户要求"
    resp = client.post(f"/customers/{org.c1.pk}/edit/", data)
    assert resp.status_code == 302
    c = Customer.objects.get(pk=org.c1.pk)
    assert c.phone == "13855556666" and c.order_cycle == "W1"
    assert ChangeRequest.objects.get(customer=c).new_value == "W2"


def test_edit_page_bad_value_shows_error_and_writes_nothing(org, login):
    client = login(org.cm1)
    resp = client.post(f"/customers/{org.c1.pk}/edit/", {"phone": "123", "order_cycle": "W2", "reason": "x"})
    assert resp.status_code == 200 and "bad phone" in resp.content.decode()
    assert not ChangeRequest.objects.exists() and not AuditLog.objects.exists()


def test_approve_from_the_inbox_and_history_shows_both(org, login, client):
    cm = login(org.cm1)
    cm.post(f"/customers/{org.c1.pk}/edit/", {"order_cycle": "W2", "reason": "客户要求"})
    req = ChangeRequest.objects.get()
    mm = login(org.mm1)
    assert f'id="request-{req.pk}"' in mm.get("/customers/approvals/").content.decode()
    mm.post(f"/customers/approvals/{req.pk}/decide/", {"decision": "approve", "comment": "同意"})
    page = mm.get(f"/customers/{org.c1.pk}/").content.decode()
    history = page.split('id="history"')[1]
    assert "cm1" in history and "mm1" in history
    assert "每周一次 → 两周一次" in history  # values shown by their labels, not their codes


def test_visit_pages(org, login):
    import datetime as dt

    today = dt.date.today()
    client = login(org.cm1)
    old = client.post(
        f"/visits/log/{org.c1.pk}/", {"visited_on": (today - dt.timedelta(days=90)).isoformat(), "findings": "缺货"}
    )
    assert old.status_code == 200 and "more than a month ago" in old.content.decode()
    resp = client.post(
        f"/visits/log/{org.c1.pk}/",
        {
            "visited_on": (today - dt.timedelta(days=2)).isoformat(),
            "findings": "缺货",
            "guidance": "增加订量",
            "purpose": "routine",
        },
    )
    assert resp.status_code == 302
    client.post(f"/visits/plan/{org.c1.pk}/", {"planned_for": today.isoformat(), "purpose": "forecast"})
    planned = Visit.objects.get(status="planned")
    form = client.get(f"/visits/{planned.pk}/record/").content.decode()
    assert 'id="previous-guidance"' in form and "增加订量" in form
    resp = client.post(f"/visits/{planned.pk}/record/", {"visited_on": today.isoformat(), "findings": "好"})
    assert resp.status_code == 200 and "previous guidance" in resp.content.decode()


def test_intake_page(org, login):
    client = login(org.mm1)
    assert "T-D2-01" not in client.get("/customers/new/").content.decode()  # another department's unit
    resp = client.post(
        "/customers/new/?unit=T-D1-01",
        {
            "unit": "T-D1-01",
            "cm": "CM1",
            "code": "N5",
            "name": "街角便利店",
            "licence_no": "140700000555",
            "business_format": "convenience",
            "tier": "3",
        },
    )
    assert resp.status_code == 302
    assert Task.objects.filter(customer__code="N5", staff=org.cm1, kind="first_visit").exists()


def test_import_page_dry_run_then_import(org, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(org.mm1)
    text = (
        "客户编码,客户名称,区域单元编码,客户经理工号,许可证号\n"
        "N1,一号店,T-D1-01,CM1,140700000901\nN2,二号店,T-D1-02,CM2,140700000902\n"
    ).encode("gbk")
    upload = io.BytesIO(text)
    upload.name = "shops.csv"
    resp = client.post("/customers/import/", {"file": upload, "mode": "dry_run"})
    assert resp.status_code == 302
    job = Job.objects.get()
    page = client.get(resp.url).content.decode()
    assert job.result["ok"] and 'id="import-now"' in page and not Customer.objects.filter(code="N1").exists()
    assert len(list((tmp_path / "imports").iterdir())) == 1  # kept for "import now"
    resp = client.post("/customers/import/", {"from_job": job.pk})
    page = client.get(resp.url).content.decode()
    assert 'id="import-done"' in page and Customer.objects.filter(code__in=["N1", "N2"]).count() == 2
    # the file is gone with the import, and the dry run's page says it was imported
    assert not list((tmp_path / "imports").iterdir())
    page = client.get(f"/customers/import/?job={job.pk}").content.decode()
    assert 'id="import-imported"' in page and 'id="import-now"' not in page
    again = client.post("/customers/import/", {"from_job": job.pk})  # a second press: the same import
    assert again.url == resp.url and Job.objects.count() == 2


def test_import_page_lists_bad_rows(org, login):
    client = login(org.mm1)
    upload = io.BytesIO("客户编码,客户名称,区域单元编码,客户经理工号\nN1,一号店,T-D2-01,CM3\n".encode())
    upload.name = "shops.csv"
    resp = client.post("/customers/import/", {"file": upload})
    page = client.get(resp.url).content.decode()
    assert 'id="import-errors"' in page and "T-D2-01" in page


def test_reassign_page(org, login):
    client = login(org.mm1)
    page = client.get("/team/reassign/?cm=CM1").content.decode()
    assert "中国移动营业厅便利店" in page
    resp = client.post("/team/reassign/", {"customer": [org.c1.pk], "target": org.cm2.pk, "note": "片区调整"})
    assert resp.status_code == 302
    assert Customer.objects.get(pk=org.c1.pk).cm == org.cm2


def test_export_is_an_xlsx(org, login):
    resp = login(org.mm1).get("/customers/export/")
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws["A1"].value == "客户编码" and ws.max_row == 3  # header + C1 + C2


def test_visit_and_team_exports_are_scoped(org, login):
    from kejing.service.services import log_visit_now

    log_visit_now(org.cm1.user, org.c1, findings="库存正常")
    log_visit_now(org.cm2.user, org.c2, findings="华联缺货")
    text = login(org.cm1).get("/visits/?show=done&export=csv").content.decode("utf-8-sig")
    assert "库存正常" in text and "华联缺货" not in text
    resp = login(org.mm1).get("/team/?export=xlsx")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert [r[0] for r in rows[1:]] == ["CM1", "CM2"]  # cm3 is in another department


def test_menu_shows_modules_of_ones_industry(org, login):
    from kejing.org.models import OrgUnit

    page = login(org.mm1).get("/").content.decode()
    assert "/forecasting/" in page and "/catalog/" not in page and "/groups/" not in page
    m = OrgUnit.objects.create(code="M", name="移动", kind="company", industry="telecom")
    from conftest import make_staff

    tmm = make_staff("tmm", m, "market_manager")
    page = login(tmm).get("/").content.decode()
    assert "/catalog/" in page and "/groups/" in page and "/forecasting/" not in page
