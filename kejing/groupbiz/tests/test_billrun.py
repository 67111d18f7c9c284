"""The bill run inside the application: the hand-worked month of test_billing.py built through the services,
stored, re-run without double charges, and shown on scoped pages and API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kejing.groupbiz import services
from kejing.groupbiz.billrun import run_month
from kejing.groupbiz.models import BillLine, BillRun, OtherCharge, UsageRecord


@pytest.fixture
def month(tel, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    u = tel.org.cm1.user
    mas = services.open_group_user(u, tel.e1, product_code="MAS", package_code="MAS-300", account=tel.total)
    m1 = services.add_member(u, tel.e1, "13900000701", "", tel.vnet, "61701")
    m2 = services.add_member(u, tel.e1, "13900000702", "", tel.vnet, "61702")
    m3 = services.add_member(u, tel.e1, "13900000703", "", tel.vnet, "61703")
    for m in (m1, m2):
        services.join_group_user(u, m, tel.data)

    def use(member, gu, kind, qty):
        UsageRecord.objects.create(ec=tel.e1, group_user=gu, member=member, month="2026-03", kind=kind, quantity=qty)

    use(m1, tel.vnet, "minutes", 250)
    use(m1, tel.vnet, "minutes", 120)
    use(m2, tel.vnet, "minutes", 300)
    use(m3, tel.vnet, "minutes", 301)
    use(None, mas, "messages", 12345)
    use(m1, tel.data, "mb", 4000)
    use(m2, tel.data, "mb", 3100)
    use(m1, tel.vnet, "minutes", 999)  # another month: ignored
    UsageRecord.objects.filter(quantity=999).update(month="2026-02")
    OtherCharge.objects.create(ec=tel.e1, group_user=mas, month="2026-03", item="I", amount=Decimal("500.00"))
    OtherCharge.objects.create(
        ec=tel.e1, group_user=tel.vnet, member=m2, month="2026-03", item="J", amount=Decimal("12.34")
    )
    services.add_payment_plan(u, tel.e1, item="C", account=tel.total, product_code="VPMN")
    services.add_payment_plan(u, tel.e1, item="B", account=tel.total, cap="3.00")
    services.add_payment_plan(u, tel.e1, item="A", account=tel.sub, member=m1, product_code="MOBDATA", cap="20.00")
    return tel


def account_total(run, account):
    return sum((ln.amount for ln in BillLine.objects.filter(run=run, account=account, msisdn="")), Decimal("0"))


def test_hand_worked_month_is_stored_and_rerun_is_idempotent(month):
    tel = month
    (run,) = run_month([tel.e1], "2026-03")
    # same arithmetic as test_billing.test_hand_worked_month:
    # all fees 967.25 (group's own) + 108.66 (members') = 1,075.91; group accounts 1,020.38; members 55.53
    assert run.totals["total"] == "1075.91"
    assert run.totals["group"] == "1020.38"
    assert run.totals["members"] == "55.53"
    # total account: A 300 + B 120.38 + C 30 + D 50 + I 500 = 1,000.38; sub-account: 20.00 of member 1's package
    assert account_total(run, tel.total) == Decimal("1000.38")
    assert account_total(run, tel.sub) == Decimal("20.00")
    line = BillLine.objects.get(run=run, msisdn="13900000701", item="A")
    assert (line.amount, line.moved, line.account) == (Decimal("30.00"), Decimal("20.00"), tel.sub)
    why = BillLine.objects.get(run=run, account=tel.total, source="usage").note
    assert "12345" in why and "2345 × 0.05" in why and "117.25" in why
    n_lines = BillLine.objects.filter(run=run).count()
    (again,) = run_month([tel.e1], "2026-03")
    assert again.pk == run.pk and again.run_key == run.run_key
    assert BillRun.objects.filter(ec=tel.e1, month="2026-03").count() == 1
    assert BillLine.objects.filter(run=run).count() == n_lines  # replaced, not added
    assert again.totals == run.totals


def test_bill_pages_api_and_scoping(month, login, client, token_for):
    tel = month
    c = login(tel.org.cm1)
    r = c.post(f"/groups/ec/{tel.e1.pk}/bills/", {"month": "2026-03"})
    assert r.status_code == 302
    run = BillRun.objects.get(ec=tel.e1, month="2026-03")
    assert "1075.91" in c.get(f"/groups/ec/{tel.e1.pk}/bills/").content.decode()
    page = c.get(f"/groups/bills/{run.pk}/").content.decode()
    assert "13900000701" in page and "1020.38" in page
    page = c.get(f"/groups/bills/{run.pk}/accounts/{tel.total.pk}/").content.decode()
    assert "117.25" in page and "1000.38" in page
    xlsx = c.get(f"/groups/bills/{run.pk}/accounts/{tel.total.pk}/?export=1")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert c.get(f"/groups/bills/{run.pk}/?export=1").status_code == 200
    other = login(tel.org.cm2)
    assert other.get(f"/groups/bills/{run.pk}/").status_code == 404
    assert other.get(f"/groups/bills/{run.pk}/accounts/{tel.total.pk}/").status_code == 404
    h = token_for(tel.org.cm1)
    body = client.get(f"/api/groupbiz/bills/{run.pk}", **h).json()
    assert body["totals"]["total"] == "1075.91"
    lines = client.get(f"/api/groupbiz/bills/{run.pk}/accounts/{tel.total.pk}", **h).json()
    assert sum(Decimal(x["amount"]) for x in lines) == Decimal("1000.38")
    h2 = token_for(tel.org.cm2)
    assert client.get(f"/api/groupbiz/bills/{run.pk}", **h2).status_code == 404
    assert client.get(f"/api/groupbiz/ecs/{tel.e1.pk}/bills", **h2).status_code == 404
    r = client.post(f"/api/groupbiz/ecs/{tel.e1.pk}/bills", {"month": "2026-03"}, content_type="application/json", **h2)
    assert r.status_code == 404
    r = client.post(f"/api/groupbiz/ecs/{tel.e1.pk}/bills", {"month": "2026-03"}, content_type="application/json", **h)
    assert r.status_code == 202
