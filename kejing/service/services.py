"""Planning and recording visits; closing tasks. One transaction per call, audited like customer changes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kejing.core import audit
from kejing.customers.models import Customer
from kejing.customers.selectors import visible_customers
from kejing.customers.services import CustomerError
from kejing.org.models import MANAGER_ROLES, Role
from kejing.org.scoping import get_staff

from .models import Task, Visit

MAX_PLAN_AHEAD_DAYS = 366


def _cm_of(user, customer: Customer):
    """The CM a visit belongs to. Visits are the work of CMs (and managers on joint visits), not of the
    committee, trainers or the monopoly department, who only read customers."""
    if not visible_customers(user).filter(pk=customer.pk).exists():
        raise CustomerError("无权操作该客户 / this customer is outside your scope")
    staff = get_staff(user)
    if staff is not None and staff.role not in (Role.CM, *MANAGER_ROLES):
        raise CustomerError("拜访由客户经理或管理人员登记 / visits are recorded by CMs and managers")
    if staff is not None and staff.role == Role.CM:
        return staff
    if customer.cm_id is None:
        raise CustomerError("该客户尚未分配客户经理 / this customer has no CM yet")
    return customer.cm


def previous_visit(customer: Customer, before: Visit | None = None) -> Visit | None:
    """The last recorded visit (the one whose guidance the next visit follows up)."""
    qs = Visit.objects.filter(customer=customer, status=Visit.Status.DONE)
    if before is not None and before.pk:
        qs = qs.exclude(pk=before.pk)
    return qs.order_by("-visited_on", "-id").first()


@transaction.atomic
def plan_visit(user, customer: Customer, planned_for: dt.date, purpose: str = Visit.Purpose.ROUTINE) -> Visit:
    cm = _cm_of(user, customer)
    today = timezone.localdate()
    errors = {}
    if planned_for < today - dt.timedelta(days=31):
        errors["planned_for"] = "计划日期不能早于一个月前 / the date is more than a month ago"
    elif planned_for > today + dt.timedelta(days=MAX_PLAN_AHEAD_DAYS):
        errors["planned_for"] = "计划日期太远 / the date is more than a year ahead"
    if purpose not in Visit.Purpose.values:
        errors["purpose"] = "未知的拜访目的 / unknown purpose"
    if errors:
        raise CustomerError(errors)
    visit = Visit.objects.create(customer=customer, cm=cm, planned_for=planned_for, purpose=purpose)
    audit.record(
        actor=user, action="plan_visit", obj=visit, customer=customer, changes={"planned_for": [None, planned_for]}
    )
    return visit


@transaction.atomic
def record_visit(
    user,
    visit: Visit,
    *,
    visited_on: dt.date,
    findings: str,
    guidance: str = "",
    followup: str = "",
    next_step: str = "",
    purpose: str | None = None,
) -> Visit:
    """Record what happened. Following up the previous guidance is required when there was guidance."""
    customer = visit.customer
    _cm_of(user, customer)
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    errors = {}
    if visit.status == Visit.Status.CANCELLED:
        errors["__all__"] = "该拜访已取消 / this visit was cancelled"
    if visited_on > timezone.localdate():
        errors["visited_on"] = "拜访日期不能晚于今天 / the visit date cannot be in the future"
    if not findings.strip():
        errors["findings"] = "请填写拜访发现 / findings are required"
    prev = previous_visit(customer, before=visit)
    if prev is not None and prev.guidance.strip() and not followup.strip():
        errors["followup"] = "请填写上次指导意见的执行情况 / say how the previous guidance was followed"
    if purpose and purpose not in Visit.Purpose.values:
        errors["purpose"] = "未知的拜访目的 / unknown purpose"
    if errors:
        raise CustomerError(errors)
    before = audit.snapshot(visit, ["status", "visited_on", "findings", "guidance", "followup", "next_step"])
    visit.status = Visit.Status.DONE
    visit.visited_on = visited_on
    visit.findings, visit.guidance = findings.strip(), guidance.strip()
    visit.followup, visit.next_step = followup.strip(), next_step.strip()[:300]
    if purpose:
        visit.purpose = purpose
    visit.previous = prev
    visit.save()
    audit.record(
        actor=user,
        action="record_visit",
        obj=visit,
        customer=customer,
        changes=audit.diff(before, audit.snapshot(visit, list(before))),
    )
    Task.objects.filter(customer=customer, kind=Task.Kind.FIRST_VISIT, done_at__isnull=True).update(
        done_at=timezone.now()
    )
    return visit


@transaction.atomic
def log_visit_now(user, customer: Customer, **fields) -> Visit:
    """Record an unplanned visit in one step (the CM is standing at the shop counter)."""
    visited_on = fields.pop("visited_on", None) or timezone.localdate()
    purpose = fields.pop("purpose", None) or Visit.Purpose.ROUTINE
    visit = plan_visit(user, customer, visited_on, purpose)
    return record_visit(user, visit, visited_on=visited_on, **fields)


@transaction.atomic
def cancel_visit(user, visit: Visit) -> None:
    _cm_of(user, visit.customer)
    if visit.status != Visit.Status.PLANNED:
        raise CustomerError("只能取消计划中的拜访 / only planned visits can be cancelled")
    visit.status = Visit.Status.CANCELLED
    visit.save(update_fields=["status"])
    audit.record(actor=user, action="cancel_visit", obj=visit, customer=visit.customer)


@transaction.atomic
def complete_task(user, task: Task) -> None:
    staff = get_staff(user)
    if staff is None or task.staff_id != staff.pk:
        raise CustomerError("只能完成分配给自己的任务 / only your own tasks")
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])


def quarter_end(day: dt.date) -> dt.date:
    """The last day of the quarter containing ``day``."""
    month = ((day.month - 1) // 3 + 1) * 3
    nxt = dt.date(day.year + (month == 12), 1 if month == 12 else month + 1, 1)
    return nxt - dt.timedelta(days=1)


@transaction.atomic
def open_type_review(quarter_end: dt.date) -> int:
    """Give every active CM a quarterly customer-type review task (idempotent per quarter).

    Run by ``kejing review-types`` (e.g. from cron on the first day of a quarter's last month)."""
    from kejing.org.models import Staff

    made = 0
    for cm in Staff.objects.filter(role=Role.CM, active=True):
        title = f"{quarter_end:%Y}Q{(quarter_end.month - 1) // 3 + 1} 客户类型季度复核"
        _, created = Task.objects.get_or_create(
            staff=cm, kind=Task.Kind.TYPE_REVIEW, title=title, defaults={"due": quarter_end}
        )
        made += created
    return made
