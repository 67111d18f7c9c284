from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from kejing.core.models import AuditLog

from . import services
from .models import ChangeRequest
from .selectors import approvals_for, filter_customers, visible_customers

router = Router(tags=["customers"])


class Ref(Schema):
    code: str
    name: str


class CustomerOut(Schema):
    id: int
    industry: str
    code: str
    name: str
    phone: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    unit: Ref
    cm: Ref | None
    status: str
    value_tier: str
    customer_type: str
    licence_no: str | None
    business_format: str
    market_type: str
    market_scale: str
    tier: int | None
    order_cycle: str
    ordering_method: str
    ec_code: str | None
    credit_code: str | None
    sector: str
    size: str
    updated_at: dt.datetime


class CustomerPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CustomerOut]


class CustomerFilters(Schema):
    q: str = ""
    status: str = ""
    value_tier: str = ""
    customer_type: str = ""
    industry: str = ""
    tier: str = ""
    unit: str = ""
    cm: str = ""
    sort: str = "code"
    page: int = 1
    page_size: int = 50


class CustomerPatch(Schema):
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    status: str | None = None
    value_tier: str | None = None
    customer_type: str | None = None
    licence_no: str | None = None
    business_format: str | None = None
    market_type: str | None = None
    market_scale: str | None = None
    tier: int | None = None
    order_cycle: str | None = None
    ordering_method: str | None = None
    ec_code: str | None = None
    credit_code: str | None = None
    sector: str | None = None
    size: str | None = None


class ChangeIn(Schema):
    field: str
    new_value: str
    reason: str = ""


class DecisionOut(Schema):
    step: int
    role: str
    staff: str
    approved: bool
    comment: str
    at: dt.datetime


class ChangeOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    field: str
    old_value: str
    new_value: str
    reason: str
    mode: str
    status: str
    steps: list[str]
    current_role: str
    requested_by: str
    requested_at: dt.datetime
    decisions: list[DecisionOut]


class DecideIn(Schema):
    approve: bool
    comment: str = ""


class HistoryOut(Schema):
    at: dt.datetime
    actor: str | None
    action: str
    changes: dict[str, Any]
    approved_by: str | None
    note: str


def _customer(c) -> dict:
    data = {f: getattr(c, f) for f in CustomerOut.model_fields if f not in ("unit", "cm")}
    data["unit"] = {"code": c.unit.code, "name": c.unit.name}
    data["cm"] = {"code": c.cm.employee_no, "name": c.cm.name} if c.cm_id else None
    return data


def _change(r: ChangeRequest) -> dict:
    return {
        "id": r.pk,
        "customer_id": r.customer_id,
        "customer_name": r.customer.name,
        "field": r.field,
        "old_value": r.old_value,
        "new_value": r.new_value,
        "reason": r.reason,
        "mode": r.mode,
        "status": r.status,
        "steps": r.steps,
        "current_role": r.current_role,
        "requested_by": r.requested_by.name,
        "requested_at": r.requested_at,
        "decisions": [
            {
                "step": d.step,
                "role": d.role,
                "staff": d.staff.name,
                "approved": d.approved,
                "comment": d.comment,
                "at": d.at,
            }
            for d in r.decisions.all()
        ],
    }


def _changes_qs():
    return ChangeRequest.objects.select_related("customer", "requested_by").prefetch_related("decisions__staff")


@router.get("/customers", response=CustomerPage, summary="List and search my customers")
def list_customers(request, filters: Query[CustomerFilters]):
    params = filters.dict()
    qs = filter_customers(visible_customers(request.user), params)
    size = max(1, min(filters.page_size, 500))
    page = max(1, filters.page)
    count = qs.count()
    items = [_customer(c) for c in qs[(page - 1) * size : page * size]]
    return {"count": count, "page": page, "page_size": size, "items": items}


@router.get("/customers/{customer_id}", response=CustomerOut, summary="One customer")
def get_customer(request, customer_id: int):
    return _customer(get_object_or_404(visible_customers(request.user), pk=customer_id))


@router.patch(
    "/customers/{customer_id}",
    response=CustomerOut,
    summary="Change fields I may change at once (others need a change request)",
)
def patch_customer(request, customer_id: int, body: CustomerPatch):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    services.apply_changes(request.user, c, body.dict(exclude_unset=True))
    return _customer(get_object_or_404(visible_customers(request.user), pk=customer_id))


@router.get(
    "/customers/{customer_id}/change-requests", response=list[ChangeOut], summary="Change requests of a customer"
)
def customer_changes(request, customer_id: int):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    return [_change(r) for r in _changes_qs().filter(customer=c)]


@router.post(
    "/customers/{customer_id}/change-requests",
    response={201: ChangeOut},
    summary="Request a change that needs approval",
)
def create_change(request, customer_id: int, body: ChangeIn):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    req = services.request_change(request.user, c, body.field, body.new_value, body.reason)
    return Status(201, _change(_changes_qs().get(pk=req.pk)))


@router.get("/customers/{customer_id}/history", response=list[HistoryOut], summary="Change history (audit)")
def customer_history(request, customer_id: int):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    rows = AuditLog.objects.filter(customer=c).select_related("actor", "approved_by")[:500]
    return [
        {
            "at": a.at,
            "actor": a.actor.get_username() if a.actor else None,
            "action": a.action,
            "changes": a.changes,
            "approved_by": a.approved_by.get_username() if a.approved_by else None,
            "note": a.note,
        }
        for a in rows
    ]


@router.get("/approvals", response=list[ChangeOut], summary="Requests waiting for my decision")
def approvals(request):
    qs = approvals_for(request.user).prefetch_related("decisions__staff")[: settings.KEJING_PAGE_SIZE * 20]
    return [_change(r) for r in qs]


@router.post("/approvals/{request_id}/decide", response=ChangeOut, summary="Approve or reject a request")
def decide(request, request_id: int, body: DecideIn):
    req = get_object_or_404(approvals_for(request.user), pk=request_id)
    services.decide(request.user, req, body.approve, body.comment)
    return _change(_changes_qs().get(pk=req.pk))
