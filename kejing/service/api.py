from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from kejing.customers.selectors import visible_customers

from . import services
from .models import Visit
from .selectors import due_visits, my_tasks, visible_visits

router = Router(tags=["visits"])


class VisitOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    cm: str
    planned_for: dt.date
    status: str
    purpose: str
    visited_on: dt.date | None
    findings: str
    guidance: str
    followup: str
    next_step: str
    overdue: bool
    previous_guidance: str | None = None


class PlanIn(Schema):
    customer_id: int
    planned_for: dt.date
    purpose: str = "routine"


class RecordIn(Schema):
    visited_on: dt.date
    findings: str
    guidance: str = ""
    followup: str = ""
    next_step: str = ""
    purpose: str | None = None


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    due: dt.date
    customer_id: int | None
    done: bool
    overdue: bool


def _visit(v: Visit, with_previous: bool = False) -> dict:
    out = {
        "id": v.pk,
        "customer_id": v.customer_id,
        "customer_name": v.customer.name,
        "cm": v.cm.name,
        "planned_for": v.planned_for,
        "status": v.status,
        "purpose": v.purpose,
        "visited_on": v.visited_on,
        "findings": v.findings,
        "guidance": v.guidance,
        "followup": v.followup,
        "next_step": v.next_step,
        "overdue": v.is_overdue,
    }
    if with_previous:
        prev = services.previous_visit(v.customer, before=v)
        out["previous_guidance"] = prev.guidance if prev else None
    return out


@router.get("/visits", response=list[VisitOut], summary="Visits in my scope")
def list_visits(request, status: str = "", due: bool = False, customer_id: int | None = None, limit: int = 200):
    qs = due_visits(request.user) if due else visible_visits(request.user)
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return [_visit(v) for v in qs[: max(1, min(limit, 1000))]]


@router.post("/visits", response={201: VisitOut}, summary="Plan a visit")
def plan(request, body: PlanIn):
    c = get_object_or_404(visible_customers(request.user), pk=body.customer_id)
    v = services.plan_visit(request.user, c, body.planned_for, body.purpose)
    return Status(201, _visit(v))


@router.get("/visits/{visit_id}", response=VisitOut, summary="One visit, with the previous visit's guidance")
def get_visit(request, visit_id: int):
    return _visit(get_object_or_404(visible_visits(request.user), pk=visit_id), with_previous=True)


@router.post("/visits/{visit_id}/record", response=VisitOut, summary="Record what happened on a visit")
def record(request, visit_id: int, body: RecordIn):
    v = get_object_or_404(visible_visits(request.user), pk=visit_id)
    v = services.record_visit(request.user, v, **body.dict())
    return _visit(v)


@router.get("/tasks", response=list[TaskOut], summary="My open tasks")
def tasks(request):
    return [
        {
            "id": t.pk,
            "kind": t.kind,
            "title": t.title,
            "due": t.due,
            "customer_id": t.customer_id,
            "done": t.done_at is not None,
            "overdue": t.is_overdue,
        }
        for t in my_tasks(request.user)
    ]
