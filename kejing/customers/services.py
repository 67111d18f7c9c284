"""Writes to the customer master. Each public function runs in one transaction and leaves audit records.

Errors are raised as :class:`CustomerError` carrying a ``{field: message}`` dict, so pages and the API can show
them next to the right field; nothing is written when one is raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from kejing.core import audit
from kejing.org.models import MANAGER_ROLES, OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin, unit_scope

from .models import ChangeRequest, ComplianceRecord, Contact, Customer, Decision
from .rules import rules_for
from .selectors import visible_customers

FIRST_VISIT_DAYS = 3  # the CM is expected to visit a new customer within three days


class CustomerError(Exception):
    def __init__(self, errors: dict[str, str] | str):
        self.errors = errors if isinstance(errors, dict) else {"__all__": errors}
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def authority(user, customer: Customer, field: str) -> str:
    """What ``user`` may do with ``field`` of ``customer``: ``direct``, ``request`` or ``readonly``."""
    if is_admin(user):
        return "direct"
    staff = get_staff(user)
    rule = rules_for(customer.industry).rule(field)
    if staff is None or rule is None:
        return "readonly"
    if rule.mode == "direct":
        return "direct" if (staff.role == Role.CM or staff.role in MANAGER_ROLES) else "readonly"
    if rule.mode in ("approval", "route"):
        return "request" if (staff.role == Role.CM or staff.role in MANAGER_ROLES) else "readonly"
    if rule.mode == "owner":
        return "direct" if staff.role == rule.owner else "readonly"
    return "readonly"


def _check_visible(user, customer: Customer) -> None:
    if not visible_customers(user).filter(pk=customer.pk).exists():
        raise CustomerError("无权操作该客户 / this customer is outside your scope")


def _display(value: Any) -> str:
    return "" if value is None else str(value)


@transaction.atomic
def apply_changes(user, customer: Customer, changes: dict[str, Any]) -> list[str]:
    """Apply fields the user may change at once; refuse the whole call if any field is invalid or not direct."""
    _check_visible(user, customer)
    rules = rules_for(customer.industry)
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, raw in changes.items():
        try:
            value = rules.clean(name, raw)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        if value == getattr(customer, name):
            continue
        mode = authority(user, customer, name)
        if mode == "request":
            errors[name] = "该字段需提交变更申请审批 / this field needs a change request"
        elif mode != "direct":
            errors[name] = "无权修改该字段 / you may not change this field"
        else:
            cleaned[name] = value
    if errors:
        raise CustomerError(errors)
    if not cleaned:
        return []
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit.snapshot(locked, cleaned)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    locked.save()
    audit.record(
        actor=user,
        action="update",
        obj=locked,
        customer=locked,
        changes=audit.diff(before, audit.snapshot(locked, cleaned)),
    )
    for name in cleaned:
        setattr(customer, name, getattr(locked, name))
    return list(cleaned)


@transaction.atomic
def request_change(user, customer: Customer, field: str, new_value: Any, reason: str = "") -> ChangeRequest:
    """Open a change request for a field that needs approval or belongs to another department."""
    _check_visible(user, customer)
    staff = get_staff(user)
    if staff is None:
        raise CustomerError("只有员工可以提交申请 / only staff can request changes")
    rules = rules_for(customer.industry)
    rule = rules.rule(field)
    if rule is None or rule.mode not in ("approval", "route"):
        raise CustomerError({field: "该字段无需或不能通过申请修改 / this field is not changed by request"})
    try:
        value = rules.clean(field, new_value)
    except ValueError as exc:
        raise CustomerError({field: str(exc)}) from None
    if value == getattr(customer, field):
        raise CustomerError({field: "新值与当前值相同 / the new value equals the current one"})
    if ChangeRequest.objects.filter(customer=customer, field=field, status=ChangeRequest.Status.PENDING).exists():
        raise CustomerError({field: "该字段已有待审批的申请 / a request for this field is already pending"})
    req = ChangeRequest.objects.create(
        customer=customer,
        field=field,
        old_value=_display(getattr(customer, field)),
        new_value=_display(value),
        reason=reason[:300],
        mode=rule.mode,
        steps=list(rule.steps),
        step_index=0,
        current_role=rule.steps[0] if rule.steps else "",
        requested_by=staff,
    )
    audit.record(
        actor=user,
        action="request",
        obj=req,
        customer=customer,
        changes={field: [req.old_value, req.new_value]},
        note=reason,
    )
    return req


@transaction.atomic
def decide(user, request: ChangeRequest, approve: bool, comment: str = "") -> ChangeRequest:
    """Approve or reject the current step. The last approval writes the value (audited, approver recorded)."""
    from kejing.service.models import Task

    req = ChangeRequest.objects.select_for_update().select_related("customer").get(pk=request.pk)
    staff = get_staff(user)
    if req.status != ChangeRequest.Status.PENDING:
        raise CustomerError("该申请已处理 / this request is already closed")
    if staff is None or (staff.role != req.current_role and not user.is_superuser):
        raise CustomerError("该申请不在您的审批环节 / this request is not waiting for your role")
    _check_visible(user, req.customer)
    if not approve and not comment.strip():
        raise CustomerError({"comment": "驳回时请填写理由 / give a reason when rejecting"})
    Decision.objects.create(
        request=req, step=req.step_index, role=req.current_role, staff=staff, approved=approve, comment=comment[:300]
    )
    customer = req.customer
    if not approve:
        req.status = ChangeRequest.Status.REJECTED
        req.closed_at = timezone.now()
        req.save()
        audit.record(actor=user, action="reject", obj=req, customer=customer, note=comment)
        return req
    audit.record(
        actor=user,
        action="approve",
        obj=req,
        customer=customer,
        note=comment,
        changes={req.field: [req.old_value, req.new_value]},
    )
    if req.step_index + 1 < len(req.steps):
        req.step_index += 1
        req.current_role = req.steps[req.step_index]
        req.save()
        return req
    rules = rules_for(customer.industry)
    value = rules.clean(req.field, req.new_value)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit.snapshot(locked, [req.field])
    setattr(locked, req.field, value)
    locked.save()
    audit.record(
        actor=req.requested_by.user,
        action="update",
        obj=locked,
        customer=locked,
        approved_by=user,
        changes=audit.diff(before, audit.snapshot(locked, [req.field])),
        note=f"变更申请 #{req.pk}",
    )
    req.status = ChangeRequest.Status.APPLIED
    req.current_role = ""
    req.closed_at = timezone.now()
    req.save()
    rule = rules.rule(req.field)
    if rule and rule.inform_customer and locked.cm_id:
        Task.objects.create(
            staff_id=locked.cm_id,
            customer=locked,
            kind=Task.Kind.INFORM_CUSTOMER,
            title=f"告知客户:{rules.label(req.field, req.new_value) or req.new_value}",
            due=timezone.localdate() + dt.timedelta(days=3),
        )
    return req


@transaction.atomic
def withdraw(user, request: ChangeRequest) -> None:
    staff = get_staff(user)
    if request.status != ChangeRequest.Status.PENDING or staff is None or request.requested_by_id != staff.pk:
        raise CustomerError("只能撤回自己待审批的申请 / only your own pending request can be withdrawn")
    request.status = ChangeRequest.Status.WITHDRAWN
    request.closed_at = timezone.now()
    request.current_role = ""
    request.save()
    audit.record(actor=user, action="withdraw", obj=request, customer=request.customer)


def _check_cm_for_unit(user, unit: OrgUnit, cm: Staff | None) -> None:
    errors = {}
    if not unit_scope(user).filter(pk=unit.pk).exists():
        errors["unit"] = "该区域不在您的管辖范围 / this unit is outside your scope"
    elif unit.kind != OrgUnit.Kind.UNIT:
        errors["unit"] = "请选择区域单元(最底层) / choose a region unit"
    if cm is not None and (cm.role != Role.CM or not cm.active):
        errors["cm"] = "所选员工不是在岗客户经理 / the chosen person is not an active CM"
    elif cm is not None and not cm.unit.path.startswith(unit.path) and not unit.path.startswith(cm.unit.path):
        errors["cm"] = "客户经理不属于该区域 / the CM does not work in this unit"
    if errors:
        raise CustomerError(errors)


@transaction.atomic
def intake(user, *, unit: OrgUnit, cm: Staff | None, data: dict[str, Any]) -> Customer:
    """A new customer: the department assigns the region unit and CM; a first-visit task goes to the CM."""
    from kejing.service.models import Task

    staff = get_staff(user)
    if not is_admin(user) and (staff is None or staff.role not in MANAGER_ROLES):
        raise CustomerError("只有营销部门可以登记新客户 / only the department registers new customers")
    _check_cm_for_unit(user, unit, cm)
    rules = rules_for(unit.industry)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    code = str(data.get("code", "")).strip()
    if not code:
        errors["code"] = "客户编码不能为空 / customer code is required"
    elif Customer.objects.filter(code=code).exists():
        errors["code"] = "客户编码已存在 / this code already exists"
    for name in rules.fields():
        if name in data:
            try:
                values[name] = rules.clean(name, data[name])
            except ValueError as exc:
                errors[name] = str(exc)
    for uniq in ("licence_no", "ec_code", "credit_code"):
        if values.get(uniq) and Customer.objects.filter(**{uniq: values[uniq]}).exists():
            errors[uniq] = "该号码已被其他客户使用 / already used by another customer"
    if "name" not in values and "name" not in errors:
        errors["name"] = "名称不能为空 / name is required"
    if errors:
        raise CustomerError(errors)
    customer = Customer.objects.create(industry=unit.industry, code=code, unit=unit, cm=cm, **values)
    audit.record(
        actor=user,
        action="create",
        obj=customer,
        customer=customer,
        changes={k: [None, v] for k, v in audit.snapshot(customer, ["code", "name", "unit", "cm", *values]).items()},
    )
    if cm is not None:
        Task.objects.create(
            staff=cm,
            customer=customer,
            kind=Task.Kind.FIRST_VISIT,
            title=f"首次拜访:{customer.name}",
            due=timezone.localdate() + dt.timedelta(days=FIRST_VISIT_DAYS),
        )
    return customer


@transaction.atomic
def reassign(user, customers: Iterable[Customer], new_cm: Staff, note: str = "") -> int:
    """Move customers to another CM (and his region unit); open visits and tasks follow the customer."""
    from kejing.service.models import Task, Visit

    staff = get_staff(user)
    if not is_admin(user) and (staff is None or staff.role not in MANAGER_ROLES):
        raise CustomerError("只有管理人员可以调整客户归属 / only managers reassign customers")
    _check_cm_for_unit(user, new_cm.unit, new_cm)
    ids = [c.pk for c in customers]
    visible = set(visible_customers(user).filter(pk__in=ids).values_list("pk", flat=True))
    if len(visible) != len(set(ids)):
        raise CustomerError("部分客户不在您的管辖范围 / some customers are outside your scope")
    moved = 0
    for customer in Customer.objects.select_for_update().filter(pk__in=ids):
        if customer.industry != new_cm.unit.industry:
            raise CustomerError(f"{customer.code}: 行业不一致 / industry differs")
        if customer.cm_id == new_cm.pk:
            continue
        before = audit.snapshot(customer, ["cm", "unit"])
        customer.cm = new_cm
        customer.unit = new_cm.unit
        customer.save(update_fields=["cm", "unit", "updated_at"])
        audit.record(
            actor=user,
            action="reassign",
            obj=customer,
            customer=customer,
            changes=audit.diff(before, audit.snapshot(customer, ["cm", "unit"])),
            note=note,
        )
        moved += 1
    Visit.objects.filter(customer_id__in=ids, status=Visit.Status.PLANNED).update(cm=new_cm)
    Task.objects.filter(customer_id__in=ids, done_at__isnull=True).update(staff=new_cm)
    return moved


@transaction.atomic
def add_contact(
    user, customer: Customer, *, name: str, title: str = "", phone: str = "", is_primary: bool = False
) -> Contact:
    _check_visible(user, customer)
    from kejing.core.validators import normalize_phone, phone_error

    errors = {}
    if not name.strip():
        errors["name"] = "联系人姓名不能为空 / contact name is required"
    phone = normalize_phone(phone)
    if phone_error(phone):
        errors["phone"] = phone_error(phone)
    if errors:
        raise CustomerError(errors)
    if is_primary:
        customer.contacts.update(is_primary=False)
    contact = Contact.objects.create(
        customer=customer, name=name.strip(), title=title.strip(), phone=phone, is_primary=is_primary
    )
    audit.record(
        actor=user,
        action="create",
        obj=contact,
        customer=customer,
        changes={"contact": [None, f"{contact.name} {contact.phone}"]},
    )
    return contact


@transaction.atomic
def add_compliance_record(
    user, customer: Customer, *, date: dt.date, kind: str, description: str = ""
) -> ComplianceRecord:
    """Only the compliance owner (the monopoly department by default) writes these."""
    _check_visible(user, customer)
    staff = get_staff(user)
    rules = rules_for(customer.industry)
    owner = rules.data.get("compliance", {}).get("owner")
    if not owner:
        raise CustomerError("本行业没有守法记录 / this industry keeps no compliance record")
    if not is_admin(user) and (staff is None or staff.role != owner):
        raise CustomerError("守法记录由专卖部门维护 / compliance records are kept by the monopoly department")
    if kind not in dict(rules.compliance_kinds()):
        raise CustomerError({"kind": "未知的记录类型 / unknown kind"})
    rec = ComplianceRecord.objects.create(
        customer=customer, date=date, kind=kind, description=description[:300], recorded_by=staff
    )
    audit.record(
        actor=user,
        action="create",
        obj=rec,
        customer=customer,
        changes={"compliance": [None, f"{date} {kind} {description}"]},
    )
    return rec
