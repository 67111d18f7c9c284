"""A small telecom company for the catalog tests: two CMs (one unit each), a market manager over both, a CM in
another market, and one enterprise customer per CM. The catalog rows are synced from the policy files."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import make_staff


@pytest.fixture
def tel(db, policies):
    from kejing.catalog.services import sync_catalog
    from kejing.customers.models import Customer
    from kejing.org.models import OrgUnit

    sync_catalog()
    m = OrgUnit.objects.create(code="M", name="测试移动", kind="company", industry="telecom")
    d = OrgUnit.objects.create(code="M-D1", name="大客户部", kind="department", parent=m)
    mk1 = OrgUnit.objects.create(code="M-D1-M1", name="一组", kind="market", parent=d)
    mk2 = OrgUnit.objects.create(code="M-D1-M2", name="二组", kind="market", parent=d)
    u1 = OrgUnit.objects.create(code="M-D1-01", name="客户组1", kind="unit", parent=mk1)
    u2 = OrgUnit.objects.create(code="M-D1-02", name="客户组2", kind="unit", parent=mk1)
    u3 = OrgUnit.objects.create(code="M-D1-03", name="客户组3", kind="unit", parent=mk2)
    ns = SimpleNamespace(u1=u1, u2=u2, u3=u3)
    ns.tcm1 = make_staff("tcm1", u1, "cm")
    ns.tcm2 = make_staff("tcm2", u2, "cm")
    ns.tcm3 = make_staff("tcm3", u3, "cm")
    ns.tmm1 = make_staff("tmm1", mk1, "market_manager")
    ns.tadmin = make_staff("tadmin", m, "admin")

    def ec(code, name, unit, cm):
        return Customer.objects.create(
            industry="telecom", code=code, name=name, unit=unit, cm=cm, phone="13900000000", address="测试路",
            status="active", value_tier="A", customer_type="enterprise", ec_code=f"35{code[1:]:0>8}", size="medium",
        )  # fmt: skip

    ns.e1 = ec("E1", "华为示范公司", u1, ns.tcm1)
    ns.e2 = ec("E2", "长江物流公司", u2, ns.tcm2)
    ns.e3 = ec("E3", "汉江医院", u3, ns.tcm3)
    return ns


@pytest.fixture
def quote1(tel):
    """A saved quote of tcm1 for e1 with one 企信通 line (6000 SMS → 400 套餐, 480.00)."""
    import datetime as dt

    from kejing.catalog import services
    from kejing.catalog.models import Product

    q = services.create_quote(tel.tcm1.user, tel.e1, title="年度方案", start_date=dt.date(2026, 2, 12))
    services.add_line(tel.tcm1.user, q, Product.objects.get(code="QXT"), {"sms": "6000"})
    return q
