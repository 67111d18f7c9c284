"""Manager pages: the team overview and moving customers between CMs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kejing.core.exports import table_response
from kejing.customers import services
from kejing.customers.models import Customer
from kejing.customers.selectors import filter_customers, visible_customers
from kejing.service.models import Visit

from .models import MANAGER_ROLES, Role
from .scoping import get_staff, is_admin, staff_scope


def _require_manager(user) -> None:
    staff = get_staff(user)
    if not is_admin(user) and (staff is None or staff.role not in MANAGER_ROLES):
        raise Http404


@login_required
def team(request):
    """Each CM in scope: customers, visits done this month, overdue visits (three aggregate queries)."""
    _require_manager(request.user)
    today = timezone.localdate()
    month_start = today.replace(day=1)
    cms = (
        staff_scope(request.user)
        .filter(role=Role.CM)
        .annotate(
            n_customers=Count("customers", distinct=True),
        )
    )
    visits = (
        Visit.objects.filter(cm__in=cms.values("pk"))
        .values("cm_id")
        .annotate(
            done=Count("id", filter=Q(status=Visit.Status.DONE, visited_on__gte=month_start)),
            overdue=Count("id", filter=Q(status=Visit.Status.PLANNED, planned_for__lt=today)),
            planned=Count("id", filter=Q(status=Visit.Status.PLANNED, planned_for__gte=today)),
        )
    )
    by_cm = {v["cm_id"]: v for v in visits}
    rows = [(cm, by_cm.get(cm.pk, {})) for cm in cms]
    if request.GET.get("export"):
        return table_response(
            "team",
            [
                _("Employee no."),
                _("Customer manager"),
                _("Region unit"),
                _("Customers"),
                _("Visits this month"),
                _("Planned"),
                _("Overdue"),
            ],
            (
                [
                    cm.employee_no,
                    cm.name,
                    cm.unit.name,
                    cm.n_customers,
                    v.get("done", 0),
                    v.get("planned", 0),
                    v.get("overdue", 0),
                ]
                for cm, v in rows
            ),
            fmt=request.GET["export"],
        )
    return render(request, "org/team.html", {"rows": rows, "month_start": month_start})


@login_required
def reassign(request):
    """Pick customers (by search within scope) and a target CM; every move is audited."""
    _require_manager(request.user)
    cms = staff_scope(request.user).filter(role=Role.CM, active=True)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("customer") if i.isdigit()]
        target = cms.filter(pk=request.POST.get("target") or 0).first()
        if not ids or target is None:
            messages.error(request, _("Choose at least one customer and the CM to move them to."))
        else:
            try:
                n = services.reassign(
                    request.user, Customer.objects.filter(pk__in=ids), target, note=request.POST.get("note", "")
                )
            except services.CustomerError as exc:
                messages.error(request, "; ".join(exc.errors.values()))
            else:
                messages.success(
                    request,
                    ngettext("%(n)d customer moved to %(cm)s.", "%(n)d customers moved to %(cm)s.", n)
                    % {"n": n, "cm": target.name},
                )
                return redirect("team")
    qs = filter_customers(visible_customers(request.user), request.GET)
    shown = list(qs[:100]) if (request.GET.get("q") or request.GET.get("cm")) else []
    return render(
        request,
        "org/reassign.html",
        {"cms": cms, "customers": shown, "q": request.GET.get("q", ""), "cm": request.GET.get("cm", "")},
    )
