"""Customer pages: list (search, filters, sort, export), the 360° page, edits and requests, intake, import,
approvals. Every lookup goes through ``visible_customers`` so another CM's customer is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kejing.core import uploads
from kejing.core.exports import file_response
from kejing.core.models import Job
from kejing.core.pagination import paginate
from kejing.org.models import MANAGER_ROLES, OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin, staff_scope, unit_scope

from . import display, services
from .exports import export_customers
from .models import ChangeRequest, Customer
from .rules import LIST_OF_FIELD, rules_for
from .selectors import approvals_for, filter_customers, visible_customers
from .tasks import run_customer_import

FILTER_KEYS = ("q", "status", "value_tier", "tier", "unit", "cm", "sort", "industry")


def _industries(user) -> list[str]:
    return sorted(set(unit_scope(user).values_list("industry", flat=True)))


def _manager_required(user) -> None:
    staff = get_staff(user)
    if not is_admin(user) and (staff is None or staff.role not in MANAGER_ROLES):
        raise Http404


@login_required
def customer_list(request):
    qs = filter_customers(visible_customers(request.user), request.GET)
    page, query = paginate(request, qs)
    industries = _industries(request.user)
    rules = rules_for(industries[0]) if len(industries) == 1 else None
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "query": query,
            "filters": {k: request.GET.get(k, "") for k in FILTER_KEYS},
            "value_tiers": rules.choices("value_tier") if rules else [],
            "statuses": Customer.Status.choices,
            "industries": industries,
            "units": unit_scope(request.user).filter(kind=OrgUnit.Kind.UNIT)
            if get_staff(request.user) and not get_staff(request.user).is_cm
            else [],
        },
    )


@login_required
def customer_export(request):
    qs = filter_customers(visible_customers(request.user), request.GET)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    data, _count = export_customers(qs, fmt=fmt)
    return file_response(data, "customers", fmt)


def _attributes(c: Customer) -> list[tuple[str, str]]:
    rules = rules_for(c.industry)
    out = []
    for name in ["code", *rules.fields()]:
        label = Customer._meta.get_field(name).verbose_name
        value = getattr(c, name)
        text = c.get_status_display() if name == "status" else rules.display(name, value)
        out.append((str(label), text))
    return out


@login_required
def customer_detail(request, pk: int):
    c = get_object_or_404(visible_customers(request.user), pk=pk)
    from kejing.service.models import Task, Visit

    rules = rules_for(c.industry)
    return render(
        request,
        "customers/detail.html",
        {
            "c": c,
            "attributes": _attributes(c),
            "contacts": c.contacts.all(),
            "compliance": c.compliance_records.select_related("recorded_by")[:50],
            "compliance_kinds": dict(rules.compliance_kinds()),
            "has_compliance": bool(rules.compliance_kinds()),
            "can_add_compliance": services.authority(request.user, c, "licence_no") == "direct"
            or (
                get_staff(request.user) is not None
                and get_staff(request.user).role == rules.data.get("compliance", {}).get("owner")
            ),
            "history": display.history(c),
            "visits": Visit.objects.filter(customer=c).select_related("cm")[:30],
            "requests": display.label_requests(
                ChangeRequest.objects.filter(customer=c)
                .select_related("customer", "requested_by")
                .prefetch_related("decisions__staff")[:30]
            ),
            "tasks": Task.objects.filter(customer=c, done_at__isnull=True),
            "today": timezone.localdate(),
        },
    )


def _edit_fields(user, c: Customer, posted=None, errors=None) -> list[dict[str, Any]]:
    rules = rules_for(c.industry)
    out = []
    for name in rules.fields():
        mode = services.authority(user, c, name)
        value = getattr(c, name)
        shown = (
            posted.get(name, "" if value is None else str(value))
            if posted is not None
            else ("" if value is None else str(value))
        )
        choices = (
            rules.choices(name) if name in LIST_OF_FIELD else (Customer.Status.choices if name == "status" else None)
        )
        rule = rules.rule(name)
        out.append(
            {
                "name": name,
                "label": Customer._meta.get_field(name).verbose_name,
                "mode": mode,
                "value": shown,
                "display": c.get_status_display() if name == "status" else rules.display(name, value),
                "choices": choices,
                "error": (errors or {}).get(name, ""),
                "steps": [str(dict(Role.choices).get(s, s)) for s in (rule.steps if rule else ())],
                "route": bool(rule and rule.mode == "route"),
            }
        )
    return out


@login_required
def customer_edit(request, pk: int):
    c = get_object_or_404(visible_customers(request.user), pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        direct: dict[str, Any] = {}
        requested: dict[str, Any] = {}
        for name in rules_for(c.industry).fields():
            if name not in request.POST:
                continue
            new = request.POST.get(name, "").strip()
            old = getattr(c, name)
            if new == ("" if old is None else str(old)):
                continue
            mode = services.authority(request.user, c, name)
            if mode == "direct":
                direct[name] = new
            elif mode == "request":
                requested[name] = new
        reason = request.POST.get("reason", "").strip()
        if requested and not reason:
            errors["reason"] = _("Give a reason for the changes that need approval.")
        if not errors:
            try:
                with transaction.atomic():
                    done = services.apply_changes(request.user, c, direct) if direct else []
                    reqs = [services.request_change(request.user, c, f, v, reason) for f, v in requested.items()]
            except services.CustomerError as exc:
                errors = exc.errors
            else:
                if done:
                    messages.success(
                        request,
                        _("Saved: %(fields)s")
                        % {"fields": ", ".join(str(Customer._meta.get_field(f).verbose_name) for f in done)},
                    )
                for r in reqs:
                    messages.info(
                        request,
                        _("Change request for “%(field)s” sent for approval.")
                        % {"field": Customer._meta.get_field(r.field).verbose_name},
                    )
                if not done and not reqs:
                    messages.info(request, _("Nothing was changed."))
                return redirect("customer_detail", pk=c.pk)
        fields = _edit_fields(request.user, c, request.POST, errors)
    else:
        fields = _edit_fields(request.user, c)
    return render(
        request,
        "customers/edit.html",
        {
            "c": c,
            "fields": fields,
            "errors": errors,
            "form_error": errors.get("__all__", ""),
            "reason": request.POST.get("reason", ""),
        },
    )


@login_required
@require_POST
def contact_add(request, pk: int):
    c = get_object_or_404(visible_customers(request.user), pk=pk)
    try:
        services.add_contact(
            request.user,
            c,
            name=request.POST.get("name", ""),
            title=request.POST.get("title", ""),
            phone=request.POST.get("phone", ""),
            is_primary=bool(request.POST.get("is_primary")),
        )
        messages.success(request, _("Contact added."))
    except services.CustomerError as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    return redirect("customer_detail", pk=c.pk)


@login_required
@require_POST
def compliance_add(request, pk: int):
    c = get_object_or_404(visible_customers(request.user), pk=pk)
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        messages.error(request, _("Enter a valid date."))
        return redirect("customer_detail", pk=c.pk)
    try:
        services.add_compliance_record(
            request.user,
            c,
            date=day,
            kind=request.POST.get("kind", ""),
            description=request.POST.get("description", ""),
        )
        messages.success(request, _("Compliance record added."))
    except services.CustomerError as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    return redirect("customer_detail", pk=c.pk)


@login_required
def customer_new(request):
    """Intake of a new customer by the department: region unit and CM are chosen here."""
    _manager_required(request.user)
    units = unit_scope(request.user).filter(kind=OrgUnit.Kind.UNIT)
    cms = staff_scope(request.user).filter(role=Role.CM, active=True)
    errors: dict[str, str] = {}
    unit = None
    if request.GET.get("unit") or request.POST.get("unit"):
        unit = units.filter(code=request.GET.get("unit") or request.POST.get("unit")).first()
    rules = rules_for(unit.industry) if unit else None
    if request.method == "POST" and unit is not None:
        cm = cms.filter(employee_no=request.POST.get("cm", "")).first()
        data = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "unit", "cm")}
        try:
            c = services.intake(request.user, unit=unit, cm=cm, data=data)
        except services.CustomerError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Customer created; a first-visit task was given to the CM."))
            return redirect("customer_detail", pk=c.pk)
    fields = []
    if rules:
        for name in ["code", *rules.fields()]:
            if name == "status":
                continue
            fields.append(
                {
                    "name": name,
                    "label": Customer._meta.get_field(name).verbose_name,
                    "choices": rules.choices(name) if name in LIST_OF_FIELD else None,
                    "value": request.POST.get(name, ""),
                    "error": errors.get(name, ""),
                }
            )
    return render(
        request,
        "customers/new.html",
        {
            "units": units,
            "unit": unit,
            "cms": cms.filter(unit__path__startswith=unit.path) if unit else [],
            "fields": fields,
            "errors": errors,
            "form_error": errors.get("__all__", ""),
            "cm_value": request.POST.get("cm", ""),
        },
    )


@login_required
def customer_import(request):
    """Upload → dry run (every bad row listed) → import. Large files run in the background with progress."""
    _manager_required(request.user)
    report = None
    if request.method == "POST" and request.POST.get("from_job"):
        # "Import now" after a clean dry run: reuse the stored file, this time writing.
        try:
            job = uploads.import_from_page(
                request.user, "import_customers", request.POST["from_job"], run_customer_import
            )
        except uploads.FileGone as exc:
            messages.error(request, str(exc))
            return redirect(reverse("customer_import") + f"?job={request.POST['from_job']}")
        return redirect(reverse("customer_import") + f"?job={job.pk}")
    if request.method == "POST" and request.FILES.get("file"):
        job = uploads.start(
            request.user,
            "import_customers",
            request.FILES["file"],
            run_customer_import,
            dry_run=request.POST.get("mode") != "import",
        )
        return redirect(reverse("customer_import") + f"?job={job.pk}")
    job = None
    if request.GET.get("job", "").isdigit():
        job = Job.objects.filter(pk=request.GET["job"], created_by=request.user, kind="import_customers").first()
        report = job.result if job and job.status in (Job.Status.DONE, Job.Status.FAILED) else None
    return render(request, "customers/import.html", {"job": job, "report": report})


@login_required
def approvals(request):
    pending = approvals_for(request.user).prefetch_related("decisions__staff")
    page, query = paginate(request, pending)
    display.label_requests(page.object_list)
    staff = get_staff(request.user)
    mine = (
        display.label_requests(ChangeRequest.objects.filter(requested_by=staff).select_related("customer")[:20])
        if staff
        else []
    )
    return render(
        request,
        "customers/approvals.html",
        {
            "page": page,
            "query": query,
            "mine": mine,
        },
    )


@login_required
@require_POST
def decide(request, pk: int):
    req = get_object_or_404(approvals_for(request.user), pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide(request.user, req, approve, request.POST.get("comment", ""))
    except services.CustomerError as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    else:
        messages.success(request, _("Approved.") if approve else _("Rejected."))
    return redirect(request.POST.get("next") or "approvals")


@login_required
@require_POST
def withdraw(request, pk: int):
    staff = get_staff(request.user)
    req = get_object_or_404(ChangeRequest, pk=pk, requested_by=staff)
    try:
        services.withdraw(request.user, req)
        messages.success(request, _("Request withdrawn."))
    except services.CustomerError as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    return redirect("customer_detail", pk=req.customer_id)


__all__ = ["Staff"]


@login_required
def type_review(request):
    """The quarterly customer-type review: the CM checks each customer's classification on one page; every
    change becomes a change request for the market manager, and finishing closes the review task."""
    from kejing.service.models import Task

    staff = get_staff(request.user)
    if staff is None or not staff.is_cm:
        raise Http404
    rules = rules_for(staff.industry)
    fields = [f for f in rules.review_fields() if f in LIST_OF_FIELD]
    qs = visible_customers(request.user).filter(status=Customer.Status.ACTIVE).order_by("code")
    task = Task.objects.filter(staff=staff, kind=Task.Kind.TYPE_REVIEW, done_at__isnull=True).order_by("due").first()
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("customer") if i.isdigit()]
        made, errors = 0, []
        with transaction.atomic():
            for c in qs.filter(pk__in=ids):
                for f in fields:
                    new = request.POST.get(f"{f}-{c.pk}", "")
                    if new and new != getattr(c, f):
                        try:
                            services.request_change(request.user, c, f, new, "季度客户类型复核")
                            made += 1
                        except services.CustomerError as exc:
                            errors.append(f"{c.code}: {'; '.join(exc.errors.values())}")
        for e in errors:
            messages.error(request, e)
        messages.success(
            request,
            ngettext(
                "%(n)d change request sent to the market manager.",
                "%(n)d change requests sent to the market manager.",
                made,
            )
            % {"n": made},
        )
        if request.POST.get("finish") and task is not None:
            Task.objects.filter(pk=task.pk).update(done_at=timezone.now())
            messages.success(request, _("Review marked as done."))
            return redirect("dashboard")
        return redirect(request.get_full_path())
    page, query = paginate(request, qs, per_page=30)
    pending = set(
        ChangeRequest.objects.filter(
            customer__in=[c.pk for c in page], status=ChangeRequest.Status.PENDING, field__in=fields
        ).values_list("customer_id", "field")
    )
    rows = [(c, [(f, getattr(c, f), (c.pk, f) in pending) for f in fields]) for c in page]
    return render(
        request,
        "customers/type_review.html",
        {
            "page": page,
            "query": query,
            "rows": rows,
            "task": task,
            "columns": [(f, Customer._meta.get_field(f).verbose_name, rules.choices(f)) for f in fields],
        },
    )
