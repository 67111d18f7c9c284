from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def tel(org):
    """Two ECs: E1 looked after by cm1, E2 by cm2 (both in market M1). E1 has a total account, a V-net and a data
    group user on a sub-account; E2 has one member, 13900000002."""
    from kejing.customers.models import Customer
    from kejing.groupbiz import services

    def ec(code, name, unit, cm, ec_code):
        return Customer.objects.create(
            industry="telecom", code=code, name=name, unit=unit, cm=cm, ec_code=ec_code, status="active"
        )

    ns = SimpleNamespace(org=org)
    ns.e1 = ec("M1", "示范物流有限公司", org.u1, org.cm1, "3500000001")
    ns.e2 = ec("M2", "示范制造集团", org.u2, org.cm2, "3500000002")
    u = org.cm1.user
    ns.total = services.create_account(u, ns.e1, {"name": "总账户", "invoice_type": "vat_general"})
    ns.vnet = services.open_group_user(u, ns.e1, product_code="VPMN", package_code="VPMN-10", account=ns.total)
    ns.sub = services.create_account(
        u, ns.e1, {"name": "流量子账户", "kind": "sub", "parent": ns.total.pk, "product_codes": ["MOBDATA"]}
    )
    ns.data = services.open_group_user(u, ns.e1, product_code="MOBDATA", package_code="DATA-30", account=ns.sub)
    t2 = services.create_account(org.cm2.user, ns.e2, {"name": "总账户"})
    ns.vnet2 = services.open_group_user(org.cm2.user, ns.e2, product_code="VPMN", package_code="VPMN-5", account=t2)
    ns.m2 = services.add_member(org.cm2.user, ns.e2, "13900000002", "张三", ns.vnet2, "6102")
    return ns
