"""Account model rules, members and scoping (services, pages, API)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from kejing.core.models import AuditLog
from kejing.groupbiz import services
from kejing.groupbiz.models import GroupAccount, GroupUser, Member, UserMember, Vsub
from kejing.groupbiz.services import GroupError


def test_structure_and_audit(tel):
    assert tel.vnet.is_vnet and tel.vnet.account == tel.total
    assert tel.data.account.parent == tel.total
    actions = set(AuditLog.objects.filter(customer=tel.e1).values_list("action", flat=True))
    assert {"account_open", "group_user_open"} <= actions


def test_invoice_type_is_fixed_once_set(tel):
    with pytest.raises(GroupError) as exc:
        services.update_account(tel.org.cm1.user, tel.total, {"invoice_type": "receipt"})
    assert "invoice_type" in exc.value.errors
    services.update_account(tel.org.cm1.user, tel.total, {"late_fee": False, "payment_type": "bank_collection"})
    tel.total.refresh_from_db()
    assert (tel.total.late_fee, tel.total.payment_type, tel.total.invoice_type) == (
        False,
        "bank_collection",
        "vat_general",
    )
    # an account without an invoice type may get one, once
    services.update_account(tel.org.cm1.user, tel.sub, {"invoice_type": "receipt"})
    with pytest.raises(GroupError):
        services.update_account(tel.org.cm1.user, tel.sub, {"invoice_type": "vat_special"})
    log = AuditLog.objects.filter(customer=tel.e1, action="account_change").first()
    assert log.changes["invoice_type"] == ["", "receipt"]


def test_sub_account_rules(tel):
    u = tel.org.cm1.user
    with pytest.raises(GroupError) as exc:
        services.create_account(u, tel.e1, {"name": "x", "kind": "sub", "product_codes": ["VPMN"]})
    assert "parent" in exc.value.errors
    with pytest.raises(GroupError) as exc:  # a sub-account pays only for its products
        services.open_group_user(u, tel.e1, product_code="MAS", package_code="MAS-300", account=tel.sub)
    assert "account" in exc.value.errors
    with pytest.raises(GroupError) as exc:  # and so does a payment plan on it
        services.add_payment_plan(u, tel.e1, item="B", account=tel.sub)
    assert "product_code" in exc.value.errors
    services.add_payment_plan(u, tel.e1, item="A", account=tel.sub, product_code="MOBDATA", cap="20")


def test_open_with_a_new_account_and_bundle_shares_the_account(tel):
    u = tel.org.cm1.user
    g1 = services.open_group_user(
        u, tel.e1, product_code="MAS", package_code="MAS-300", new_account={"name": "办公包账户"}, bundle_code="OFFICE"
    )
    g2 = services.open_group_user(u, tel.e1, product_code="GRBT", package_code="RBT-5", bundle_code="OFFICE")
    assert g1.account_id == g2.account_id and g1.vsub_id == g2.vsub_id
    assert Vsub.objects.filter(ec=tel.e1).count() == 1
    with pytest.raises(GroupError):  # another account in the same bundle is refused
        services.open_group_user(
            u, tel.e1, product_code="FLEET", package_code="FLEET-20", account=tel.total, bundle_code="OFFICE"
        )
    with pytest.raises(GroupError) as exc:  # a package of another product
        services.open_group_user(u, tel.e1, product_code="VPMN", package_code="MAS-300", account=tel.total)
    assert "package_code" in exc.value.errors


def test_a_number_belongs_to_one_ec(tel):
    with pytest.raises(GroupError) as exc:
        services.add_member(tel.org.cm1.user, tel.e1, "13900000002")
    assert "示范制造集团" in exc.value.errors["msisdn"] and "member of another EC" in exc.value.errors["msisdn"]
    # the database says so too
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(ec=tel.e1, msisdn="13900000002")


def test_user_level_membership_and_vnet_rules(tel):
    u = tel.org.cm1.user
    m = services.add_member(u, tel.e1, "13900000011", "李四", tel.vnet, "61011")
    services.join_group_user(u, m, tel.data)  # a number may join several group users of its EC
    assert m.memberships.count() == 2
    with pytest.raises(GroupError) as exc:
        services.add_member(u, tel.e1, "13900000012", "", tel.vnet, "61011")
    assert "61011" in exc.value.errors["short_number"]
    with pytest.raises(GroupError):
        services.add_member(u, tel.e1, "13900000013", "", tel.vnet, "601")
    with pytest.raises(GroupError):  # only V-net members have short numbers
        services.join_group_user(u, m, tel.data, "61012")
    with pytest.raises(GroupError) as exc:  # not a China Mobile number
        services.add_member(u, tel.e1, "18600000000")
    assert "China Unicom" in exc.value.errors["msisdn"]
    # a phone in one V-net only: a second V-net of the same EC refuses it
    vnet_b = services.open_group_user(u, tel.e1, product_code="VPMN", package_code="VPMN-5", account=tel.total)
    with pytest.raises(GroupError) as exc:
        services.join_group_user(u, m, vnet_b, "61011")
    assert tel.vnet.code in exc.value.errors["msisdn"]
    with pytest.raises(IntegrityError), transaction.atomic():
        UserMember.objects.create(group_user=vnet_b, member=m, short_number="61099", vnet_msisdn=m.msisdn)


def test_remove_member_and_outside_numbers(tel):
    u = tel.org.cm1.user
    m = services.add_member(u, tel.e1, "13900000021", "", tel.vnet, "61021")
    services.remove_member(u, m)
    assert not Member.objects.filter(msisdn="13900000021").exists()
    assert AuditLog.objects.filter(customer=tel.e1, action="member_remove").exists()
    assert services.add_outside_number(u, tel.vnet, "0351-7654321").number == "03517654321"
    with pytest.raises(GroupError):
        services.add_outside_number(u, tel.data, "0351-7654321")


def test_services_refuse_ecs_outside_scope(tel):
    with pytest.raises(GroupError):
        services.add_member(tel.org.cm1.user, tel.e2, "13900000031")
    with pytest.raises(GroupError):
        services.create_account(tel.org.cm1.user, tel.e2, {"name": "x"})
    assert not GroupAccount.objects.filter(ec=tel.e2, name="x").exists()


PAGES = (
    "/groups/ec/{e}/",
    "/groups/ec/{e}/members/",
    "/groups/ec/{e}/members/?export=1",
    "/groups/ec/{e}/members/import/",
    "/groups/ec/{e}/bills/",
)


def test_pages_for_own_ec_and_404_for_another(tel, login):
    c = login(tel.org.cm1)
    for url in PAGES:
        assert c.get(url.format(e=tel.e1.pk)).status_code == 200, url
        assert c.get(url.format(e=tel.e2.pk)).status_code == 404, url
    assert "示范物流有限公司" in c.get("/groups/").content.decode()
    assert "示范制造集团" not in c.get("/groups/").content.decode()
    assert c.post(f"/groups/members/{tel.m2.pk}/remove/").status_code == 404
    assert c.post(f"/groups/ec/{tel.e2.pk}/members/", {"msisdn": "13900000041"}).status_code == 404
    acc2 = GroupAccount.objects.get(ec=tel.e2)
    assert c.get(f"/groups/accounts/{acc2.pk}/").status_code == 404
    assert Member.objects.filter(pk=tel.m2.pk).exists()
    # the market manager of M1 sees both
    m = login(tel.org.mm1)
    assert m.get(f"/groups/ec/{tel.e2.pk}/").status_code == 200


def test_pages_write(tel, login):
    c = login(tel.org.cm1)
    r = c.post(
        f"/groups/ec/{tel.e1.pk}/members/",
        {"msisdn": "13900000051", "group_user": tel.vnet.pk, "short_number": "61051"},
    )
    assert r.status_code == 302 and Member.objects.filter(msisdn="13900000051", ec=tel.e1).exists()
    r = c.post(
        f"/groups/ec/{tel.e1.pk}/open/",
        {"product_code": "MAS", "package_code": "MAS-300", "account": "new", "name": "短信账户"},
    )
    assert GroupUser.objects.filter(ec=tel.e1, product_code="MAS").exists()
    page = c.get(f"/groups/ec/{tel.e1.pk}/").content.decode()
    assert "短信账户" in page and tel.vnet.code in page
    r = c.post(f"/groups/ec/{tel.e1.pk}/plans/", {"item": "C", "account": tel.total.pk, "product_code": "VPMN"})
    assert tel.e1.payment_plans.count() == 1


def test_api_scoping_and_use(tel, client, token_for):
    h = token_for(tel.org.cm1)
    assert [e["ec_code"] for e in client.get("/api/groupbiz/ecs", **h).json()] == ["3500000001"]
    assert client.get(f"/api/groupbiz/ecs/{tel.e2.pk}", **h).status_code == 404
    assert client.get(f"/api/groupbiz/ecs/{tel.e2.pk}/members", **h).status_code == 404
    r = client.post(
        f"/api/groupbiz/ecs/{tel.e2.pk}/members", {"msisdn": "13900000061"}, content_type="application/json", **h
    )
    assert r.status_code == 404
    assert client.delete(f"/api/groupbiz/members/{tel.m2.pk}", **h).status_code == 404
    body = client.get(f"/api/groupbiz/ecs/{tel.e1.pk}", **h).json()
    assert {g["code"] for g in body["group_users"]} == {tel.vnet.code, tel.data.code}
    r = client.post(
        f"/api/groupbiz/ecs/{tel.e1.pk}/members",
        {"msisdn": "13900000002"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 400 and "示范制造集团" in r.json()["detail"]
    r = client.post(
        f"/api/groupbiz/ecs/{tel.e1.pk}/members",
        {"msisdn": "13900000062", "group_user": tel.vnet.code, "short_number": "61062"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 201 and r.json()["memberships"][0]["short_number"] == "61062"
    r = client.get("/api/groupbiz/numbering?kind=smsc&value=027", **h).json()
    assert r["value"] == "13800270500"
    r = client.get("/api/groupbiz/numbering?kind=pbx-virtual&value=027-123-1002", **h).json()
    assert r["value"] == "900271231002"


def test_member_list_query_count_is_constant(tel, login, client, token_for, django_assert_max_num_queries):
    u = tel.org.cm1.user
    for i in range(5):
        services.add_member(u, tel.e1, f"1390000100{i}", "", tel.vnet, f"6100{i + 1}")
    c = login(tel.org.cm1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url, **kw):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url, **kw).status_code == 200
        return len(ctx.captured_queries)

    small_page = count(f"/groups/ec/{tel.e1.pk}/members/")
    small_api = count(f"/api/groupbiz/ecs/{tel.e1.pk}/members")
    for i in range(30):
        services.add_member(u, tel.e1, f"1390000200{i:02d}"[:11], "", tel.data)
    assert count(f"/groups/ec/{tel.e1.pk}/members/") == small_page
    assert count(f"/api/groupbiz/ecs/{tel.e1.pk}/members") == small_api
