"""Territory pages: re-balance runs (start, progress, before/after pictures, moves to approve, Excel), the
monthly visit plan and the day route on the CM's phone. Lookups go through the scoped selectors of
``services`` so that anything outside the user's scope is a 404."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejing.core import workdays
from kejing.core.exports import table_response
from kejing.core.pagination import paginate
from kejing.customers.services import CustomerError
from kejing.org.models import Role
from kejing.org.scoping import get_staff, staff_scope

from . import services
from .models import MonthPlan, Move, Rebalance
from .tasks import run_rebalance


def _error_text(exc: CustomerError) -> str:
    return "; ".join(exc.errors.values())


@login_required
def index(request):
    """Managers: start a re-balance and see past runs. A CM goes to his route."""
    if not services.is_manager(request.user):
        return redirect("territory_route_mine")
    units = services.rebalance_units(request.user)
    if request.method == "POST":
        unit = units.filter(pk=request.POST.get("unit") or 0).first()
        try:
            if unit is None:
                raise CustomerError({"unit": _("Choose a department or market.")})
            penalty = request.POST.get("move_penalty_km") or None
            rb = services.start_rebalance(request.user, unit, float(penalty) if penalty else None)
        except (CustomerError, ValueError) as exc:
            messages.error(request, _error_text(exc) if isinstance(exc, CustomerError) else str(exc))
            return redirect("territory_index")
        run_rebalance.enqueue(rb.pk)
        return redirect("territory_rebalance", pk=rb.pk)
    page, query = paginate(request, services.visible_rebalances(request.user))
    cms = staff_scope(request.user).filter(role=Role.CM, active=True).order_by("employee_no")[:500]
    return render(request, "territories/index.html", {"page": page, "query": query, "units": units, "cms": cms})


@login_required
def rebalance_detail(request, pk: int):
    rb = get_object_or_404(services.visible_rebalances(request.user), pk=pk)
    ctx = {"rb": rb, "m": rb.metrics}
    if rb.status == Rebalance.Status.READY:
        ctx["before_svg"], ctx["after_svg"] = services.rebalance_pictures(rb)
        ctx["loads"] = rb.snapshot.get("cms", [])
        moves = rb.moves.select_related("customer", "from_cm", "to_cm").order_by("status", "to_cm__employee_no", "pk")
        if request.GET.get("status"):
            moves = moves.filter(status=request.GET["status"])
        ctx["page"], ctx["query"] = paginate(request, moves, per_page=100)
        ctx["proposed"] = rb.moves.filter(status=Move.Status.PROPOSED).count()
        ctx["statuses"] = Move.Status.choices
    return render(request, "territories/rebalance.html", ctx)


@login_required
@require_POST
def rebalance_decide(request, pk: int):
    rb = get_object_or_404(services.visible_rebalances(request.user), pk=pk)
    action = request.POST.get("action", "")
    ids = None if action.endswith("_all") else [int(x) for x in request.POST.getlist("move") if x.isdigit()]
    try:
        if action.startswith("apply"):
            res = services.apply_moves(request.user, rb, ids)
            messages.success(
                request,
                _("%(applied)d customers moved; %(outdated)d moves were outdated and skipped.") % res,
            )
        elif action.startswith("reject"):
            n = services.reject_moves(request.user, rb, ids)
            messages.success(request, _("%(n)d moves rejected.") % {"n": n})
    except CustomerError as exc:
        messages.error(request, _error_text(exc))
    return redirect("territory_rebalance", pk=rb.pk)


@login_required
def rebalance_export(request, pk: int):
    rb = get_object_or_404(services.visible_rebalances(request.user), pk=pk)
    moves = rb.moves.select_related("customer", "from_cm", "to_cm").order_by("to_cm__employee_no", "pk")
    statuses = dict(Move.Status.choices)
    headers = [
        _("Customer code"),
        _("Customer"),
        _("From CM"),
        _("To CM"),
        _("km to centre before"),
        _("km to centre after"),
        _("Change (km)"),
        _("Status"),
    ]
    rows = (
        [
            m.customer.code,
            m.customer.name,
            m.from_cm.name if m.from_cm else "",
            m.to_cm.name,
            m.km_before,
            m.km_after,
            m.km_change,
            str(statuses.get(m.status, m.status)),
        ]
        for m in moves.iterator(chunk_size=2000)
    )
    return table_response(f"territory-moves-{rb.pk}", headers, rows, request.GET.get("format", "xlsx"))


def _month(request) -> dt.date:
    try:
        return services.parse_month(request.GET.get("month") or request.POST.get("month", ""), timezone.localdate())
    except CustomerError:
        return timezone.localdate().replace(day=1)


@login_required
def plan_mine(request):
    staff = get_staff(request.user)
    if staff is not None and staff.role == Role.CM:
        return redirect("territory_plan", staff_id=staff.pk)
    return redirect("territory_index")


@login_required
def plan(request, staff_id: int):
    cm = services.visible_cm(request.user, staff_id)
    if cm is None:
        raise Http404
    month = _month(request)
    if request.method == "POST":
        try:
            made = services.make_month_plan(request.user, cm, month)
            messages.success(request, _("%(n)d visits planned.") % {"n": made.visits})
        except CustomerError as exc:
            messages.error(request, _error_text(exc))
        return redirect(reverse("territory_plan", args=[cm.pk]) + f"?month={month:%Y-%m}")
    preview = services.preview_plan(cm, month)
    by_day: dict[dt.date, list] = {d: [] for d in preview["days"]}
    for c in preview["customers"]:
        for d in preview["visits"].get(c.pk, []):
            by_day[d].append(c)
    existing = MonthPlan.objects.filter(cm=cm, month=month).first()
    today = timezone.localdate()
    return render(
        request,
        "territories/plan.html",
        {
            "cm": cm,
            "month": month,
            "prev_month": (month - dt.timedelta(days=1)).replace(day=1),
            "next_month": (month + dt.timedelta(days=32)).replace(day=1),
            "by_day": sorted(by_day.items()),
            "total": preview["total"],
            "existing": existing,
            "can_plan": existing is None and month >= today.replace(day=1) and bool(preview["days"]),
            "days_estimated": not workdays.is_official(month.year),
        },
    )


@login_required
def route_mine(request):
    staff = get_staff(request.user)
    if staff is None or staff.role != Role.CM:
        return redirect("territory_index")
    return route(request, staff.pk)


@login_required
def route(request, staff_id: int):
    cm = services.visible_cm(request.user, staff_id)
    if cm is None:
        raise Http404
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    data = services.day_route(cm, day)
    data["prev_day"] = day - dt.timedelta(days=1)
    data["next_day"] = day + dt.timedelta(days=1)
    return render(request, "territories/route.html", data)
