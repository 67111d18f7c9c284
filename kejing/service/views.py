"""The CM's workbench: dashboard, visit list, planning and recording visits (built for a phone screen)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejing.core.exports import table_response
from kejing.core.models import AuditLog
from kejing.core.pagination import paginate
from kejing.customers.models import ChangeRequest
from kejing.customers.rules import rules_for
from kejing.customers.selectors import approvals_for, visible_customers
from kejing.customers.services import CustomerError
from kejing.org.scoping import get_staff

from . import services
from .models import Task, Visit
from .selectors import due_visits, my_tasks, visible_visits


@login_required
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    customers = visible_customers(user)
    by_tier = customers.values("value_tier").annotate(n=Count("id")).order_by("value_tier")
    due = due_visits(user)
    staff = get_staff(user)
    recent = AuditLog.objects.filter(customer__in=customers.values("pk")).select_related("actor", "customer")
    return render(
        request,
        "service/dashboard.html",
        {
            "total": customers.count(),
            "by_tier": by_tier,
            "overdue": due.filter(planned_for__lt=today).count(),
            "due_today": due.filter(planned_for=today).count(),
            "upcoming": visible_visits(user)
            .filter(status=Visit.Status.PLANNED, planned_for__gte=today)
            .order_by("planned_for")[:8],
            "due_list": due[:8],
            "tasks": my_tasks(user)[:10],
            "approvals_waiting": approvals_for(user).count(),
            "my_pending": ChangeRequest.objects.filter(requested_by=staff, status=ChangeRequest.Status.PENDING).count()
            if staff
            else 0,
            "recent": recent.order_by("-at")[:10],
            "today": today,
            "tier_labels": dict(rules_for(staff.industry).choices("value_tier")) if staff else {},
        },
    )


@login_required
def visit_list(request):
    qs = visible_visits(request.user)
    show = request.GET.get("show", "due")
    today = timezone.localdate()
    if show == "due":
        qs = qs.filter(status=Visit.Status.PLANNED, planned_for__lte=today).order_by("planned_for")
    elif show == "planned":
        qs = qs.filter(status=Visit.Status.PLANNED).order_by("planned_for")
    elif show == "done":
        qs = qs.filter(status=Visit.Status.DONE).order_by("-visited_on")
    if request.GET.get("export"):
        return table_response(
            "visits",
            [
                _("Planned for"),
                _("Visited on"),
                _("Customer code"),
                _("Customer"),
                _("Customer manager"),
                _("Status"),
                _("Purpose"),
                _("Findings"),
                _("Guidance given"),
                _("Follow-up"),
                _("Next step"),
            ],
            (
                [
                    v.planned_for,
                    v.visited_on,
                    v.customer.code,
                    v.customer.name,
                    v.cm.name,
                    v.get_status_display(),
                    v.get_purpose_display(),
                    v.findings,
                    v.guidance,
                    v.followup,
                    v.next_step,
                ]
                for v in qs.iterator(chunk_size=2000)
            ),
            fmt=request.GET["export"],
        )
    page, query = paginate(request, qs)
    return render(request, "service/visit_list.html", {"page": page, "query": query, "show": show, "today": today})


@login_required
def visit_plan(request, customer_id: int):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            day = dt.date.fromisoformat(request.POST.get("planned_for", ""))
        except ValueError:
            errors["planned_for"] = _("Enter a valid date.")
        else:
            try:
                services.plan_visit(request.user, c, day, request.POST.get("purpose", Visit.Purpose.ROUTINE))
            except CustomerError as exc:
                errors = exc.errors
            else:
                messages.success(request, _("Visit planned."))
                return redirect("customer_detail", pk=c.pk)
    return render(
        request,
        "service/visit_plan.html",
        {
            "c": c,
            "errors": errors,
            "form_error": errors.get("__all__", ""),
            "purposes": Visit.Purpose.choices,
            "value": request.POST.get("planned_for", (timezone.localdate() + dt.timedelta(days=1)).isoformat()),
        },
    )


def _record_form(request, c, visit: Visit | None):
    prev = services.previous_visit(c, before=visit)
    errors: dict[str, str] = {}
    if request.method == "POST":
        fields = {k: request.POST.get(k, "") for k in ("findings", "guidance", "followup", "next_step")}
        try:
            day = dt.date.fromisoformat(request.POST.get("visited_on", ""))
        except ValueError:
            errors["visited_on"] = _("Enter a valid date.")
        else:
            try:
                if visit is None:
                    services.log_visit_now(
                        request.user, c, visited_on=day, purpose=request.POST.get("purpose"), **fields
                    )
                else:
                    services.record_visit(
                        request.user, visit, visited_on=day, purpose=request.POST.get("purpose") or None, **fields
                    )
            except CustomerError as exc:
                errors = dict(exc.errors)
                if "planned_for" in errors:  # logging a visit now plans it for its own date first
                    errors["visited_on"] = errors.pop("planned_for")
            else:
                messages.success(request, _("Visit recorded."))
                return redirect("customer_detail", pk=c.pk)
    return render(
        request,
        "service/visit_record.html",
        {
            "c": c,
            "visit": visit,
            "previous": prev,
            "errors": errors,
            "form_error": errors.get("__all__", ""),
            "purposes": Visit.Purpose.choices,
            "post": request.POST,
            "today": timezone.localdate().isoformat(),
        },
    )


@login_required
def visit_record(request, pk: int):
    visit = get_object_or_404(visible_visits(request.user), pk=pk)
    return _record_form(request, visit.customer, visit)


@login_required
def visit_log(request, customer_id: int):
    c = get_object_or_404(visible_customers(request.user), pk=customer_id)
    return _record_form(request, c, None)


@login_required
@require_POST
def visit_cancel(request, pk: int):
    visit = get_object_or_404(visible_visits(request.user), pk=pk)
    try:
        services.cancel_visit(request.user, visit)
        messages.success(request, _("Visit cancelled."))
    except CustomerError as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    return redirect("customer_detail", pk=visit.customer_id)


@login_required
@require_POST
def task_done(request, pk: int):
    task = get_object_or_404(Task, pk=pk, staff=get_staff(request.user))
    services.complete_task(request.user, task)
    return redirect(request.POST.get("next") or "dashboard")
