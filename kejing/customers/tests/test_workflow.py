"""The maintenance workflow of DOMAIN.md §4: direct fields, approvals, routed requests, read-only fields."""

from __future__ import annotations

import pytest

from kejing.core.models import AuditLog
from kejing.customers import services
from kejing.customers.models import ChangeRequest, Customer
from kejing.customers.rules import rules_for
from kejing.customers.selectors import approvals_for
from kejing.service.models import Task


def test_rules_validate_values(org):
    rules = rules_for("tobacco")
    assert rules.clean("tier", "30") == 30
    with pytest.raises(ValueError, match="1 and 30"):
        rules.clean("tier", 31)
    assert rules.clean("order_cycle", "两周一次") == "W2"  # a label is accepted and stored as its code
    with pytest.raises(ValueError, match="不在允许范围"):
        rules.clean("business_format", "飞机场")
    with pytest.raises(ValueError, match="12 位"):
        rules.clean("licence_no", "12345")
    with pytest.raises(ValueError, match="does not apply"):
        rules.clean("ec_code", "1234567890")


def test_authority_follows_policy(org):
    c = org.c1
    user = org.cm1.user
    assert services.authority(user, c, "phone") == "direct"
    assert services.authority(user, c, "order_cycle") == "request"
    assert services.authority(user, c, "name") == "request"  # routed to the monopoly department
    assert services.authority(user, c, "status") == "readonly"  # owned by the monopoly department
    assert services.authority(org.monopoly.user, c, "status") == "direct"
    assert services.authority(org.admin.user, c, "tier") == "direct"


def test_direct_change_is_applied_and_audited(org):
    services.apply_changes(org.cm1.user, org.c1, {"phone": "138 1234 5678"})
    org.c1.refresh_from_db()
    assert org.c1.phone == "13812345678"
    entry = AuditLog.objects.get(customer=org.c1, action="update")
    assert entry.actor == org.cm1.user
    assert entry.changes == {"phone": ["13900000000", "13812345678"]}


def test_invalid_or_forbidden_change_writes_nothing(org):
    with pytest.raises(services.CustomerError) as err:
        services.apply_changes(org.cm1.user, org.c1, {"phone": "13812345678", "tier": 12, "order_cycle": "W2"})
    assert set(err.value.errors) == {"tier", "order_cycle"}
    org.c1.refresh_from_db()
    assert org.c1.phone == "13900000000"  # the valid field was not written either
    assert not AuditLog.objects.filter(customer=org.c1).exists()


def test_cm_cannot_touch_another_cms_customer(org):
    with pytest.raises(services.CustomerError, match="scope"):
        services.apply_changes(org.cm1.user, org.c2, {"phone": "13812345678"})
    with pytest.raises(services.CustomerError, match="scope"):
        services.request_change(org.cm1.user, org.c2, "order_cycle", "W2")


def test_order_cycle_goes_through_market_manager_center_and_admin(org):
    req = services.request_change(org.cm1.user, org.c1, "order_cycle", "W2", "经营量增加")
    assert req.current_role == "market_manager" and req.old_value == "W1"
    # the other market manager (other department) does not see it; mm1 does
    assert not approvals_for(org.mm2.user).filter(pk=req.pk).exists()
    assert approvals_for(org.mm1.user).filter(pk=req.pk).exists()
    # the CM cannot approve his own request
    with pytest.raises(services.CustomerError):
        services.decide(org.cm1.user, req, True)
    services.decide(org.mm1.user, req, True, "同意")
    req.refresh_from_db()
    assert req.current_role == "center" and req.status == "pending"
    org.c1.refresh_from_db()
    assert org.c1.order_cycle == "W1"  # not yet applied
    services.decide(org.center.user, req, True)
    services.decide(org.admin.user, req, True)
    req.refresh_from_db()
    org.c1.refresh_from_db()
    assert req.status == "applied" and org.c1.order_cycle == "W2"
    applied = AuditLog.objects.get(customer=org.c1, action="update")
    assert applied.actor == org.cm1.user and applied.approved_by == org.admin.user
    assert applied.changes == {"order_cycle": ["W1", "W2"]}
    assert [d.role for d in req.decisions.all()] == ["market_manager", "center", "admin"]
    # the CM is asked to tell the customer
    assert Task.objects.filter(staff=org.cm1, customer=org.c1, kind="inform_customer").count() == 1


def test_rejection_needs_a_reason_and_changes_nothing(org):
    req = services.request_change(org.cm1.user, org.c1, "business_format", "convenience", "改做便利店")
    with pytest.raises(services.CustomerError, match="reason"):
        services.decide(org.mm1.user, req, False, "")
    services.decide(org.mm1.user, req, False, "现场核实仍为食杂店")
    req.refresh_from_db()
    org.c1.refresh_from_db()
    assert req.status == "rejected" and org.c1.business_format == "grocery"
    with pytest.raises(services.CustomerError, match="closed"):
        services.decide(org.mm1.user, req, True)


def test_name_change_is_routed_to_monopoly(org):
    req = services.request_change(org.cm1.user, org.c1, "name", "中国移动营业厅超市")
    assert req.mode == "route" and req.current_role == "monopoly"
    assert not approvals_for(org.mm1.user).filter(pk=req.pk).exists()
    services.decide(org.monopoly.user, req, True)
    org.c1.refresh_from_db()
    assert org.c1.name == "中国移动营业厅超市"
    assert org.c1.name_initials == "zgydyytcs"  # search keys follow the name


def test_one_pending_request_per_field_and_withdraw(org):
    req = services.request_change(org.cm1.user, org.c1, "customer_type", "informant")
    with pytest.raises(services.CustomerError, match="pending"):
        services.request_change(org.cm1.user, org.c1, "customer_type", "chain")
    with pytest.raises(services.CustomerError):
        services.withdraw(org.cm2.user, req)
    services.withdraw(org.cm1.user, req)
    assert ChangeRequest.objects.get(pk=req.pk).status == "withdrawn"
    services.request_change(org.cm1.user, org.c1, "customer_type", "chain")


def test_request_for_a_direct_field_is_refused(org):
    with pytest.raises(services.CustomerError, match="not changed by request"):
        services.request_change(org.cm1.user, org.c1, "phone", "13812345678")
    with pytest.raises(services.CustomerError, match="equals"):
        services.request_change(org.cm1.user, org.c1, "order_cycle", "W1")


def test_intake_assigns_unit_and_cm_and_creates_first_visit_task(org):
    c = services.intake(
        org.mm1.user,
        unit=org.u1,
        cm=org.cm1,
        data={
            "code": "C9",
            "name": "新开小超市",
            "phone": "13700000000",
            "licence_no": "140700000009",
            "business_format": "supermarket",
            "tier": "5",
        },
    )
    assert c.unit == org.u1 and c.cm == org.cm1 and c.tier == 5
    task = Task.objects.get(customer=c)
    assert task.staff == org.cm1 and task.kind == "first_visit"
    assert AuditLog.objects.filter(customer=c, action="create").exists()


def test_intake_errors_name_the_fields(org):
    with pytest.raises(services.CustomerError) as err:
        services.intake(
            org.mm1.user,
            unit=org.u1,
            cm=org.cm3,
            data={
                "code": "C1",
                "name": "",
                "licence_no": "140700000002",
                "tier": "40",
            },
        )
    assert {"cm"} <= set(err.value.errors)  # cm3 works in another unit
    with pytest.raises(services.CustomerError) as err:
        services.intake(
            org.mm1.user,
            unit=org.u1,
            cm=org.cm1,
            data={
                "code": "C1",
                "name": "",
                "licence_no": "140700000002",
                "tier": "40",
            },
        )
    assert set(err.value.errors) == {"code", "name", "licence_no", "tier"}
    with pytest.raises(services.CustomerError, match="department"):
        services.intake(org.cm1.user, unit=org.u1, cm=org.cm1, data={"code": "C8", "name": "x"})
    with pytest.raises(services.CustomerError):
        services.intake(org.mm2.user, unit=org.u1, cm=org.cm1, data={"code": "C8", "name": "x"})
    assert not Customer.objects.filter(code="C8").exists()


def test_reassign_moves_customer_visits_and_tasks_and_audits(org):
    import datetime as dt

    from kejing.service.services import plan_visit

    v = plan_visit(org.cm1.user, org.c1, dt.date.today() + dt.timedelta(days=2))
    moved = services.reassign(org.mm1.user, [org.c1], org.cm2, note="调整片区")
    assert moved == 1
    org.c1.refresh_from_db()
    v.refresh_from_db()
    assert org.c1.cm == org.cm2 and org.c1.unit == org.u2 and v.cm == org.cm2
    entry = AuditLog.objects.get(customer=org.c1, action="reassign")
    assert entry.changes["cm"] == [org.cm1.pk, org.cm2.pk] and entry.note == "调整片区"
    # mm1 cannot move a customer of another department, nor a CM manage it
    with pytest.raises(services.CustomerError):
        services.reassign(org.mm1.user, [org.c3], org.cm1)
    with pytest.raises(services.CustomerError):
        services.reassign(org.cm2.user, [org.c1], org.cm1)


def test_compliance_records_only_by_monopoly(org):
    import datetime as dt

    with pytest.raises(services.CustomerError, match="monopoly"):
        services.add_compliance_record(org.cm1.user, org.c1, date=dt.date(2026, 5, 1), kind="warning")
    rec = services.add_compliance_record(
        org.monopoly.user, org.c1, date=dt.date(2026, 5, 1), kind="warning", description="未明码标价"
    )
    assert rec.recorded_by == org.monopoly
    with pytest.raises(services.CustomerError):
        services.add_compliance_record(org.monopoly.user, org.c1, date=dt.date(2026, 5, 1), kind="nonsense")


def test_contacts(org):
    services.add_contact(org.cm1.user, org.c1, name="王店主", phone="13911112222", is_primary=True)
    services.add_contact(org.cm1.user, org.c1, name="李店员", phone="13911113333", is_primary=True)
    assert [c.name for c in org.c1.contacts.all()] == ["李店员", "王店主"]
    with pytest.raises(services.CustomerError):
        services.add_contact(org.cm1.user, org.c1, name="", phone="123")
