"""Territories (customer-to-CM assignment) and visit routes (issue #5), mounted at ``/api/territories/``.

Scoping is that of the pages: proposals belong to managers of the unit (CMs see none); plans and routes to the
CM himself and the managers above him. Anything outside the caller's scope answers 404.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from kejing.core import workdays
from kejing.customers.services import CustomerError
from kejing.org.models import OrgUnit
from kejing.org.scoping import get_staff

from . import services
from .models import MonthPlan, Rebalance
from .tasks import run_rebalance

router = Router(tags=["territories"])


def _404() -> HttpError:
    return HttpError(404, "Not Found")


class RebalanceIn(Schema):
    unit: str = ""  # org unit code of a department or market
    move_penalty_km: float | None = None


class RebalanceOut(Schema):
    id: int
    unit: str
    status: str
    created_at: dt.datetime
    policy_version: str
    move_penalty_km: float
    metrics: dict
    message: str


class MoveOut(Schema):
    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    from_cm: str | None
    to_cm: str
    km_before: float
    km_after: float
    km_change: float
    status: str


class RebalanceDetail(RebalanceOut):
    loads: list[dict]
    moves: list[MoveOut]


class DecideIn(Schema):
    move_ids: list[int] | None = None  # none or empty: every proposed move


class DecideOut(Schema):
    applied: int = 0
    outdated: int = 0
    rejected: int = 0


class PlanDay(Schema):
    date: dt.date
    customer_ids: list[int]


class PlanOut(Schema):
    cm: str
    month: str
    planned: bool
    visits: int
    days: list[PlanDay]
    days_estimated: bool = False


class PlanIn(Schema):
    month: str = ""  # YYYY-MM, default the current month


class StopOut(Schema):
    order: int
    visit_id: int
    customer_id: int
    customer_name: str
    arrive: str
    leave: str
    travel_km: float
    opening_hours: str
    status: str


class RouteOut(Schema):
    cm: str
    date: dt.date
    depart: str | None
    back: str | None
    distance_km: float
    stops: list[StopOut]
    dropped_visit_ids: list[int]
    unlocated_visit_ids: list[int]


def _rb(rb: Rebalance) -> dict:
    return {
        "id": rb.pk,
        "unit": rb.unit.code,
        "status": rb.status,
        "created_at": rb.created_at,
        "policy_version": rb.policy_version,
        "move_penalty_km": rb.move_penalty_km,
        "metrics": rb.metrics,
        "message": rb.message,
    }


def _get_rb(request, rebalance_id: int) -> Rebalance:
    rb = services.visible_rebalances(request.user).filter(pk=rebalance_id).first()
    if rb is None:
        raise _404()
    return rb


@router.get("/rebalances", response=list[RebalanceOut], summary="Re-balance proposals in my scope")
def list_rebalances(request):
    return [_rb(rb) for rb in services.visible_rebalances(request.user)[:200]]


@router.post("/rebalances", response={201: RebalanceOut}, summary="Compute a re-balance for a department or market")
def create_rebalance(request, body: RebalanceIn):
    unit = services.rebalance_units(request.user).filter(code=body.unit).first()
    if unit is None:
        if not OrgUnit.objects.filter(code=body.unit).exists() or not services.is_manager(request.user):
            raise _404()
        raise CustomerError({"unit": "请选择管辖范围内的营销部或市场部 / choose a department or market in your scope"})
    rb = services.start_rebalance(request.user, unit, body.move_penalty_km)
    run_rebalance.enqueue(rb.pk)
    rb.refresh_from_db()
    return Status(201, _rb(rb))


@router.get("/rebalances/{rebalance_id}", response=RebalanceDetail, summary="A proposal with its loads and moves")
def get_rebalance(request, rebalance_id: int):
    rb = _get_rb(request, rebalance_id)
    moves = rb.moves.select_related("customer", "from_cm", "to_cm").order_by("pk")
    return {
        **_rb(rb),
        "loads": rb.snapshot.get("cms", []),
        "moves": [
            {
                "id": m.pk,
                "customer_id": m.customer_id,
                "customer_code": m.customer.code,
                "customer_name": m.customer.name,
                "from_cm": m.from_cm.employee_no if m.from_cm else None,
                "to_cm": m.to_cm.employee_no,
                "km_before": m.km_before,
                "km_after": m.km_after,
                "km_change": m.km_change,
                "status": m.status,
            }
            for m in moves
        ],
    }


@router.post("/rebalances/{rebalance_id}/apply", response=DecideOut, summary="Approve moves (all, or the ids given)")
def apply_rebalance(request, rebalance_id: int, body: DecideIn):
    rb = _get_rb(request, rebalance_id)
    return services.apply_moves(request.user, rb, body.move_ids or None)


@router.post("/rebalances/{rebalance_id}/reject", response=DecideOut, summary="Reject moves (all, or the ids given)")
def reject_rebalance(request, rebalance_id: int, body: DecideIn):
    rb = _get_rb(request, rebalance_id)
    return {"rejected": services.reject_moves(request.user, rb, body.move_ids or None)}


def _cm(request, staff_id: int):
    cm = services.visible_cm(request.user, staff_id)
    if cm is None:
        raise _404()
    return cm


def _plan(cm, month: dt.date) -> dict:
    preview = services.preview_plan(cm, month)
    existing = MonthPlan.objects.filter(cm=cm, month=month).first()
    days: dict[dt.date, list[int]] = {d: [] for d in preview["days"]}
    for pk, ds in sorted(preview["visits"].items()):
        for d in ds:
            days[d].append(pk)
    return {
        "cm": cm.employee_no,
        "month": f"{month:%Y-%m}",
        "planned": existing is not None,
        "visits": existing.visits if existing else preview["total"],
        "days": [{"date": d, "customer_ids": ids} for d, ids in sorted(days.items())],
        "days_estimated": not workdays.is_official(month.year),
    }


@router.get("/plan/{staff_id}", response=PlanOut, summary="A CM's monthly visit plan (preview until created)")
def get_plan(request, staff_id: int, month: str = ""):
    cm = _cm(request, staff_id)
    return _plan(cm, services.parse_month(month, timezone.localdate()))


@router.post("/plan/{staff_id}", response={201: PlanOut}, summary="Create a CM's planned visits for a month")
def create_plan(request, staff_id: int, body: PlanIn):
    cm = _cm(request, staff_id)
    month = services.parse_month(body.month, timezone.localdate())
    services.make_month_plan(request.user, cm, month)
    return Status(201, _plan(cm, month))


class RouteQuery(Schema):
    date: dt.date | None = None


def _route(cm, day: dt.date) -> dict:
    data = services.day_route(cm, day)
    return {
        "cm": cm.employee_no,
        "date": day,
        "depart": data.get("depart"),
        "back": data.get("back"),
        "distance_km": data.get("distance_km", 0.0),
        "stops": [
            {
                "order": r["n"],
                "visit_id": r["visit"].pk,
                "customer_id": r["customer"].pk,
                "customer_name": r["customer"].name,
                "arrive": r["arrive"],
                "leave": r["leave"],
                "travel_km": r["km"],
                "opening_hours": r["hours"],
                "status": r["visit"].status,
            }
            for r in data["rows"]
        ],
        "dropped_visit_ids": [v.pk for v in data["dropped"]],
        "unlocated_visit_ids": [v.pk for v in data["unlocated"]],
    }


@router.get("/route", response=RouteOut, summary="My route for a day (customer managers)")
def my_route(request, q: Query[RouteQuery]):
    staff = get_staff(request.user)
    if staff is None or services.visible_cm(request.user, staff.pk) is None:
        raise _404()
    return _route(staff, q.date or timezone.localdate())


@router.get("/route/{staff_id}", response=RouteOut, summary="A CM's ordered route for a day")
def cm_route(request, staff_id: int, q: Query[RouteQuery]):
    return _route(_cm(request, staff_id), q.date or timezone.localdate())
