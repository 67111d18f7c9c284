"""Shared fixtures: a small tobacco company with every role, and a client logged in as anyone.

T (company) ── T-D1 (department) ── T-D1-M1 (market) ── T-D1-01 (unit, cm1), T-D1-02 (unit, cm2)
            └─ T-D2 (department) ── T-D2-M1 (market) ── T-D2-01 (unit, cm3, rural)
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

PASSWORD = "Kejing-test-2026"


def make_staff(username: str, unit, role: str, **extra):
    from kejing.org.models import Staff

    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username,
        is_superuser=role == "admin",
        is_staff=role == "admin",
    )
    extra.setdefault("must_change_password", False)
    return Staff.objects.create(user=user, employee_no=username.upper(), name=username, unit=unit, role=role, **extra)


@pytest.fixture
def policies(db):
    from kejing.core.policies import load_policy_files

    load_policy_files()


@pytest.fixture
def org(db, policies):
    """Units, staff of every role and three customers (one per CM). Returned as a simple namespace."""
    from types import SimpleNamespace

    from kejing.customers.models import Customer
    from kejing.org.models import OrgUnit

    t = OrgUnit.objects.create(code="T", name="测试烟草公司", kind="company", industry="tobacco")
    d1 = OrgUnit.objects.create(code="T-D1", name="一部", kind="department", parent=t)
    m1 = OrgUnit.objects.create(code="T-D1-M1", name="一部市场一", kind="market", parent=d1)
    u1 = OrgUnit.objects.create(code="T-D1-01", name="一区", kind="unit", parent=m1)
    u2 = OrgUnit.objects.create(code="T-D1-02", name="二区", kind="unit", parent=m1)
    d2 = OrgUnit.objects.create(code="T-D2", name="二部", kind="department", parent=t, area="rural")
    m2 = OrgUnit.objects.create(code="T-D2-M1", name="二部市场一", kind="market", parent=d2, area="rural")
    u3 = OrgUnit.objects.create(code="T-D2-01", name="三区", kind="unit", parent=m2, area="rural")
    ns = SimpleNamespace(company=t, d1=d1, m1=m1, u1=u1, u2=u2, d2=d2, m2=m2, u3=u3)
    ns.cm1 = make_staff("cm1", u1, "cm")
    ns.cm2 = make_staff("cm2", u2, "cm")
    ns.cm3 = make_staff("cm3", u3, "cm")
    ns.mm1 = make_staff("mm1", m1, "market_manager")
    ns.mm2 = make_staff("mm2", m2, "market_manager")
    ns.head1 = make_staff("head1", d1, "dept_head")
    ns.center = make_staff("center", t, "center")
    ns.monopoly = make_staff("monopoly", t, "monopoly")
    ns.admin = make_staff("admin", t, "admin")

    def shop(code, name, unit, cm, licence, **kw):
        defaults = dict(
            industry="tobacco",
            phone="13900000000",
            address="测试路1号",
            status="active",
            value_tier="B",
            customer_type="standard",
            business_format="grocery",
            market_type="city",
            market_scale="medium",
            tier=10,
            order_cycle="W1",
            ordering_method="online",
        )
        defaults.update(kw)
        return Customer.objects.create(code=code, name=name, unit=unit, cm=cm, licence_no=licence, **defaults)

    ns.c1 = shop("C1", "中国移动营业厅便利店", u1, ns.cm1, "140700000001")
    ns.c2 = shop("C2", "华联超市", u2, ns.cm2, "140700000002", business_format="supermarket")
    ns.c3 = shop("C3", "老王烟酒店", u3, ns.cm3, "140700000003", business_format="liquor")
    return ns


@pytest.fixture
def login(client):
    """``login(staff)`` logs the test client in as that staff member and returns the client."""

    def _login(staff):
        client.force_login(staff.user)
        return client

    return _login


@pytest.fixture
def token_for(client):
    """``token_for(staff)`` returns Authorization headers with a fresh bearer token for that staff member."""
    from kejing.core.models import ApiToken

    def _token(staff):
        _, raw = ApiToken.objects.issue(staff.user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return _token


@pytest.fixture
def official_to_2026(monkeypatch):
    """The installed official holiday calendar ends with 2026, whatever release is installed: tests of the
    estimated years (kejing.core.workdays) must not change when a chinese_calendar with 2027 comes out."""
    from kejing.core import workdays

    monkeypatch.setattr(workdays, "is_official", lambda year: 2004 <= year <= 2026)
