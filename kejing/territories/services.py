"""Territory work in the application: re-balance runs and their moves, monthly visit plans, day routes.

Reads are scoped like everything else (``org.scoping``, ``customers.selectors``); writes run in one transaction
and leave audit records — customer moves go through ``customers.services.reassign`` so that the customer's
history shows them like any other reassignment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Avg, Q, QuerySet
from django.utils import timezone

from kejing.core import audit
from kejing.core.models import AuditLog, Job
from kejing.core.policies import get_policy
from kejing.customers.models import Customer
from kejing.customers.services import CustomerError, reassign
from kejing.org.models import MANAGER_ROLES, OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin, staff_scope, unit_scope

from .engine.geo import centroids, compactness_km, project
from .engine.plan import PlanCustomer, month_plan, working_days
from .engine.policy import TerritoryPolicy
from .engine.route import Stop, plan_route
from .engine.run import solve
from .engine.tables import Problem
from .models import CmBase, MonthPlan, Move, Rebalance


def policy_for(industry: str) -> tuple[TerritoryPolicy, str]:
    """The territory policy in force for an industry and its version label."""
    data = get_policy(industry, "territories")
    return TerritoryPolicy.from_data(data), str(data.get("meta", {}).get("version", ""))


def is_manager(user) -> bool:
    staff = get_staff(user)
    return is_admin(user) or bool(staff and staff.active and staff.role in MANAGER_ROLES)


def visible_rebalances(user) -> QuerySet[Rebalance]:
    """Runs over units in the user's scope; CMs see none (they are not the ones who redraw territories)."""
    qs = Rebalance.objects.select_related("unit", "created_by")
    if is_admin(user):
        return qs
    if not is_manager(user):
        return qs.none()
    return qs.filter(unit__path__startswith=get_staff(user).unit.path)


def rebalance_units(user) -> QuerySet[OrgUnit]:
    """Units a manager may re-balance: departments and markets (a region unit has a single CM)."""
    if not is_manager(user):
        return OrgUnit.objects.none()
    return unit_scope(user).filter(kind__in=[OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.MARKET]).order_by("path")


def start_rebalance(user, unit: OrgUnit, move_penalty_km: float | None = None) -> Rebalance:
    """Create the run and its job; the caller enqueues ``tasks.run_rebalance`` (kept out of the transaction)."""
    if not is_manager(user):
        raise CustomerError("只有管理人员可以调整区域 / only managers re-balance territories")
    if not rebalance_units(user).filter(pk=unit.pk).exists():
        raise CustomerError({"unit": "请选择管辖范围内的营销部或市场部 / choose a department or market in your scope"})
    policy, version = policy_for(unit.industry)
    penalty = policy.move_penalty_km if move_penalty_km is None else float(move_penalty_km)
    if not 0 <= penalty <= 100:
        raise CustomerError({"move_penalty_km": "调整阈值应在 0 到 100 公里之间 / must be between 0 and 100 km"})
    with transaction.atomic():
        job = Job.objects.create(kind="territory_rebalance", created_by=user, params={"unit": unit.code})
        rb = Rebalance.objects.create(
            unit=unit, created_by=user, job=job, policy_version=version, move_penalty_km=penalty
        )
        job.params["rebalance"] = rb.pk
        job.save(update_fields=["params"])
    return rb


def compute_rebalance(rb: Rebalance) -> Rebalance:
    """Run the engine over the unit's CMs and counted customers; store metrics, pictures' data and moves."""
    unit = rb.unit
    policy, _version = policy_for(unit.industry)
    cms = list(
        Staff.objects.filter(role=Role.CM, active=True, unit__path__startswith=unit.path)
        .select_related("unit")
        .order_by("employee_no")
    )
    index = {s.pk: j for j, s in enumerate(cms)}
    scope = Customer.objects.filter(unit__path__startswith=unit.path, status__in=policy.counted_statuses)
    rows = list(
        scope.filter(latitude__isnull=False, longitude__isnull=False)
        .order_by("pk")
        .values_list("pk", "latitude", "longitude", "cm_id")
    )
    without_coords = scope.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True)).count()
    if not cms:
        raise CustomerError("该范围内没有在岗客户经理 / no active CMs in this unit")
    bounds = [policy.bounds_for(s.unit.area) for s in cms]
    bases = {b.staff_id: b for b in CmBase.objects.filter(staff__in=cms)}
    problem = Problem(
        customer_ids=[str(r[0]) for r in rows],
        lat=np.array([float(r[1]) for r in rows]),
        lon=np.array([float(r[2]) for r in rows]),
        current=np.array([index.get(r[3], -1) for r in rows], dtype=np.int64),
        cm_ids=[s.employee_no for s in cms],
        cm_area=[s.unit.area for s in cms],
        lo=np.array([b[0] for b in bounds]),
        hi=np.array([b[1] for b in bounds]),
        cm_lat=np.array([float(bases[s.pk].latitude) if s.pk in bases else np.nan for s in cms]),
        cm_lon=np.array([float(bases[s.pk].longitude) if s.pk in bases else np.nan for s in cms]),
    )
    job = rb.job
    if job is not None:
        job.progress(0, policy.max_iterations, "计算中 / computing")
    started = timezone.now()
    result, points = solve(
        problem,
        policy,
        move_penalty_km=rb.move_penalty_km,
        progress=(lambda it, total: job.progress(it, total)) if job is not None else None,
    )
    k = len(cms)
    cur = problem.current
    has = cur >= 0
    before_centres = centroids(points[has], cur[has], k, fallback=result.centers) if has.any() else result.centers
    before_loads = np.bincount(cur[has], minlength=k)
    dist_before = np.where(has, np.hypot(*(points - before_centres[np.maximum(cur, 0)]).T), np.nan)
    dist_after = np.hypot(*(points - result.centers[result.labels]).T)
    moves = [
        Move(
            rebalance=rb,
            customer_id=rows[i][0],
            from_cm_id=cms[cur[i]].pk if cur[i] >= 0 else None,
            to_cm_id=cms[result.labels[i]].pk,
            km_before=round(float(dist_before[i]), 3) if cur[i] >= 0 else round(float(dist_after[i]), 3),
            km_after=round(float(dist_after[i]), 3),
        )
        for i in np.flatnonzero(cur != result.labels)
    ]
    rb.metrics = {
        "customers": len(rows),
        "cms": k,
        "without_coordinates": without_coords,
        "seconds": round((timezone.now() - started).total_seconds(), 2),
        "bounds_ok": result.bounds_ok,
        "bounds_feasible": result.feasible,
        "bounds_ok_before": bool(has.all() and ((before_loads >= problem.lo) & (before_loads <= problem.hi)).all()),
        "compactness_before": round(compactness_km(points[has], cur[has], k), 3) if has.any() else None,
        "compactness_after": round(result.compactness, 3),
        "moved": len(moves),
        "iterations": result.iterations,
    }
    rb.snapshot = {
        "cms": [
            {
                "id": s.pk,
                "no": s.employee_no,
                "name": s.name,
                "area": s.unit.area,
                "min": int(problem.lo[j]),
                "max": int(problem.hi[j]),
                "before": int(before_loads[j]),
                "after": int(result.loads[j]),
            }
            for j, s in enumerate(cms)
        ],
        "points": [
            [round(float(points[i, 0]), 2), round(float(points[i, 1]), 2), int(cur[i]), int(result.labels[i])]
            for i in range(len(rows))
        ],
        "centres_after": [[round(float(x), 2), round(float(y), 2)] for x, y in result.centers],
        "centres_before": [[round(float(x), 2), round(float(y), 2)] for x, y in before_centres],
    }
    with transaction.atomic():
        Move.objects.filter(rebalance=rb).delete()
        Move.objects.bulk_create(moves, batch_size=2000)
        rb.status = Rebalance.Status.READY
        rb.save(update_fields=["metrics", "snapshot", "status"])
    return rb


def _check_rebalance(user, rb: Rebalance) -> None:
    if not visible_rebalances(user).filter(pk=rb.pk).exists():
        raise CustomerError("该调整方案不在您的管辖范围 / this proposal is outside your scope")
    if rb.status != Rebalance.Status.READY:
        raise CustomerError("方案尚未计算完成 / the proposal is not ready")


@transaction.atomic
def apply_moves(user, rb: Rebalance, move_ids: list[int] | None = None) -> dict[str, int]:
    """Apply the chosen proposed moves (all when ``move_ids`` is None). A customer whose CM changed since the run
    is not moved: his move is marked outdated."""
    _check_rebalance(user, rb)
    qs = rb.moves.filter(status=Move.Status.PROPOSED).select_related("customer", "to_cm", "to_cm__unit")
    if move_ids is not None:
        qs = qs.filter(pk__in=move_ids)
    moves = list(qs)
    now = timezone.now()
    stale = [m for m in moves if m.customer.cm_id != m.from_cm_id]
    fresh = [m for m in moves if m.customer.cm_id == m.from_cm_id]
    groups: dict[int, list[Move]] = defaultdict(list)
    for m in fresh:
        groups[m.to_cm_id].append(m)
    for group in groups.values():
        reassign(user, [m.customer for m in group], group[0].to_cm, note=f"区域调整方案 #{rb.pk} / re-balance #{rb.pk}")
    Move.objects.filter(pk__in=[m.pk for m in fresh]).update(
        status=Move.Status.APPLIED, decided_by=user, decided_at=now
    )
    Move.objects.filter(pk__in=[m.pk for m in stale]).update(status=Move.Status.STALE, decided_by=user, decided_at=now)
    audit.record(
        actor=user,
        action="apply_rebalance",
        obj=rb,
        changes={"applied": [0, len(fresh)], "outdated": [0, len(stale)]},
    )
    return {"applied": len(fresh), "outdated": len(stale)}


@transaction.atomic
def reject_moves(user, rb: Rebalance, move_ids: list[int] | None = None) -> int:
    _check_rebalance(user, rb)
    qs = rb.moves.filter(status=Move.Status.PROPOSED)
    if move_ids is not None:
        qs = qs.filter(pk__in=move_ids)
    n = qs.update(status=Move.Status.REJECTED, decided_by=user, decided_at=timezone.now())
    audit.record(actor=user, action="reject_rebalance", obj=rb, changes={"rejected": [0, n]})
    return n


# -- monthly plans and routes -------------------------------------------------------------------------------


def visible_cm(user, staff_id: int) -> Staff | None:
    """A CM the user may plan or route for: himself, or a CM in a manager's scope."""
    return staff_scope(user).filter(pk=staff_id, role=Role.CM).first()


def parse_month(text: str, today: dt.date) -> dt.date:
    if not text:
        return today.replace(day=1)
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise CustomerError({"month": "月份格式应为 YYYY-MM / month must be YYYY-MM"}) from exc


def _counted(cm: Staff, policy: TerritoryPolicy) -> QuerySet[Customer]:
    return Customer.objects.filter(cm=cm, status__in=policy.counted_statuses).order_by("pk")


def plan_days(month: dt.date, today: dt.date) -> list[dt.date]:
    """The month's working days from today on (a plan is never made for days gone by)."""
    return [d for d in working_days(month.year, month.month) if d >= today]


def _truncate(dates: dict, today: dt.date) -> dict:
    """A month planned part-way through keeps the whole month's plan from today on, rather than squeezing
    every visit into the days that are left."""
    return {k: [d for d in ds if d >= today] for k, ds in dates.items()}


def preview_plan(cm: Staff, month: dt.date, today: dt.date | None = None) -> dict[str, Any]:
    """The visit dates the plan would create: ``{"days": [...], "visits": {customer: [dates]}, "per_day": ...}``."""
    today = today or timezone.localdate()
    policy, version = policy_for(cm.unit.industry)
    customers = list(_counted(cm, policy))
    days = plan_days(month, today)
    coords = [
        (float(c.latitude), float(c.longitude)) for c in customers if c.latitude is not None and c.longitude is not None
    ]
    if coords:
        lat0, lon0 = float(np.mean([a for a, _ in coords])), float(np.mean([b for _, b in coords]))
    else:
        lat0 = lon0 = 0.0
    pcs = []
    for c in customers:
        if c.latitude is not None and c.longitude is not None:
            x, y = project(np.array([float(c.latitude)]), np.array([float(c.longitude)]), lat0, lon0)[0]
        else:
            x = y = 0.0
        pcs.append(PlanCustomer(c.pk, float(x), float(y), policy.frequency(c.value_tier)))
    dates = _truncate(month_plan(pcs, working_days(month.year, month.month)), today)
    per_day = {d: 0 for d in days}
    for ds in dates.values():
        for d in ds:
            per_day[d] += 1
    return {
        "customers": customers,
        "days": days,
        "visits": dates,
        "per_day": per_day,
        "total": sum(per_day.values()),
        "policy_version": version,
    }


@transaction.atomic
def make_month_plan(user, cm: Staff, month: dt.date) -> MonthPlan:
    """Create the month's planned visits for ``cm`` (once per month), each with its audit record."""
    if visible_cm(user, cm.pk) is None:
        raise CustomerError("该客户经理不在您的管辖范围 / this CM is outside your scope")
    today = timezone.localdate()
    if month < today.replace(day=1):
        raise CustomerError({"month": "不能为过去的月份制定计划 / a past month cannot be planned"})
    if month > today + dt.timedelta(days=366):
        raise CustomerError({"month": "计划月份太远 / the month is more than a year ahead"})
    if MonthPlan.objects.filter(cm=cm, month=month).exists():
        raise CustomerError({"month": "该月计划已生成 / this month has been planned already"})
    from kejing.service.models import Visit

    preview = preview_plan(cm, month, today)
    if not preview["days"]:
        raise CustomerError({"month": "该月已没有剩余工作日 / no working days left in this month"})
    by_pk = {c.pk: c for c in preview["customers"]}
    visits = [
        Visit(customer_id=pk, cm=cm, planned_for=d, purpose=Visit.Purpose.ROUTINE)
        for pk, ds in sorted(preview["visits"].items())
        for d in ds
    ]
    Visit.objects.bulk_create(visits, batch_size=2000)
    actor = user if getattr(user, "pk", None) else None
    audit.record_many(
        [
            AuditLog(
                actor=actor,
                action="plan_visit",
                model="service.visit",
                object_pk=str(v.pk),
                customer=by_pk[v.customer_id],
                changes={"planned_for": [None, v.planned_for.isoformat()]},
                note=f"月度拜访计划 {month:%Y-%m} / monthly plan",
            )
            for v in visits
        ]
    )
    return MonthPlan.objects.create(
        cm=cm, month=month, visits=len(visits), created_by=actor, policy_version=preview["policy_version"]
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_route(cm: Staff, day: dt.date) -> dict[str, Any]:
    """The ordered route of ``cm``'s visits on ``day`` (planned and done; cancelled ones are left out)."""
    from kejing.service.models import Visit

    from .svg import route_svg

    policy, _version = policy_for(cm.unit.industry)
    visits = list(
        Visit.objects.filter(cm=cm, planned_for=day)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("customer")
        .order_by("pk")
    )
    base_row = CmBase.objects.filter(staff=cm).first()
    if base_row is not None:
        base_ll = (float(base_row.latitude), float(base_row.longitude))
    else:
        agg = _counted(cm, policy).aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
        base_ll = (float(agg["lat"]), float(agg["lon"])) if agg["lat"] is not None else None
    located = [v for v in visits if v.customer.latitude is not None and v.customer.longitude is not None]
    unlocated = [v for v in visits if v not in located]
    if base_ll is None and located:
        base_ll = (float(located[0].customer.latitude), float(located[0].customer.longitude))
    out: dict[str, Any] = {"day": day, "cm": cm, "rows": [], "dropped": [], "unlocated": unlocated, "svg": ""}
    if not located:
        out.update(depart=None, back=None, distance_km=0.0)
        return out
    lat = np.array([float(v.customer.latitude) for v in located])
    lon = np.array([float(v.customer.longitude) for v in located])
    xy = project(lat, lon, base_ll[0], base_ll[1])
    stops = []
    for v, (x, y) in zip(located, xy, strict=True):
        opens, closes = policy.hours(v.customer.business_format)
        stops.append(Stop(v.pk, float(x), float(y), opens, closes, policy.service(v.customer.value_tier)))
    route = plan_route(
        (0.0, 0.0), stops, policy.day_start, policy.day_end, policy.speed(cm.unit.area), policy.road_factor
    )
    by_pk = {v.pk: (v, s) for v, s in zip(located, stops, strict=True)}
    for n, rs in enumerate(route.stops, start=1):
        v, s = by_pk[rs.key]
        out["rows"].append(
            {
                "n": n,
                "visit": v,
                "customer": v.customer,
                "arrive": _hhmm(rs.arrive),
                "leave": _hhmm(rs.leave),
                "km": rs.travel_km,
                "hours": f"{_hhmm(s.open)}–{_hhmm(s.close)}",
                "x": s.x,
                "y": s.y,
            }
        )
    out["dropped"] = [by_pk[k][0] for k in route.dropped]
    out["depart"], out["back"] = _hhmm(route.depart), _hhmm(route.back)
    out["distance_km"] = route.distance_km
    out["svg"] = route_svg(
        (0.0, 0.0), [(r["x"], r["y"], f"{r['n']}. {r['customer'].name} {r['arrive']}") for r in out["rows"]], str(day)
    )
    return out


def rebalance_pictures(rb: Rebalance, width: int = 480) -> tuple[str, str]:
    """Before and after SVGs of a run, in one frame."""
    from .svg import frame, territory_svg

    pts = rb.snapshot.get("points", [])
    box = frame([p[0] for p in pts], [p[1] for p in pts])
    before = territory_svg(
        [(p[0], p[1], p[2]) for p in pts if p[2] >= 0],
        box,
        "before",
        width,
        {j: tuple(c) for j, c in enumerate(rb.snapshot.get("centres_before", []))},
    )
    after = territory_svg(
        [(p[0], p[1], p[3]) for p in pts],
        box,
        "after",
        width,
        {j: tuple(c) for j, c in enumerate(rb.snapshot.get("centres_after", []))},
    )
    return before, after


def km(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"
