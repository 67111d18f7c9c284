"""Reads of customers, always through the user's scope (see ``kejing.org.scoping``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kejing.org.models import Role
from kejing.org.scoping import get_staff, is_admin

from .models import ChangeRequest, Customer

SORTS = {
    "code": "code",
    "-code": "-code",
    "name": "name_pinyin",
    "-name": "-name_pinyin",
    "tier": "tier",
    "-tier": "-tier",
    "value": "value_tier",
    "-value": "-value_tier",
    "updated": "updated_at",
    "-updated": "-updated_at",
}


def visible_customers(user) -> QuerySet[Customer]:
    """The only way to list customers: a CM gets his own, other roles their subtree, admins everything."""
    qs = Customer.objects.select_related("unit", "cm")
    if is_admin(user):
        return qs
    staff = get_staff(user)
    if staff is None or not staff.active:
        return qs.none()
    if staff.role == Role.CM:
        return qs.filter(cm=staff)
    return qs.filter(unit__path__startswith=staff.unit.path)


def search(qs: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Match name, pinyin initials (zgyd → 中国移动), full pinyin, code, phone, licence, EC and credit codes."""
    text = (text or "").strip()
    if not text:
        return qs
    q = (
        Q(name__icontains=text)
        | Q(code__icontains=text)
        | Q(phone__contains=text)
        | Q(licence_no__contains=text)
        | Q(ec_code__contains=text)
        | Q(credit_code__icontains=text)
    )
    if text.isascii() and text.isalpha():
        low = text.lower()
        q |= Q(name_initials__contains=low) | Q(name_pinyin__contains=low)
    return qs.filter(q)


def filter_customers(qs: QuerySet[Customer], params) -> QuerySet[Customer]:
    """Apply list filters from a query dict (pages and API share it)."""
    qs = search(qs, params.get("q", ""))
    for key in ("status", "value_tier", "customer_type", "industry", "business_format", "order_cycle"):
        val = params.get(key)
        if val:
            qs = qs.filter(**{key: val})
    if params.get("tier"):
        try:
            qs = qs.filter(tier=int(params["tier"]))
        except ValueError:
            pass
    if params.get("unit"):
        qs = qs.filter(unit__code=params["unit"])
    if params.get("cm"):
        qs = qs.filter(cm__employee_no=params["cm"])
    return qs.order_by(SORTS.get(params.get("sort", ""), "code"), "id")


def approvals_for(user) -> QuerySet[ChangeRequest]:
    """Pending requests waiting for the user's role, on customers within the user's scope."""
    staff = get_staff(user)
    qs = ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).select_related(
        "customer", "customer__unit", "requested_by"
    )
    if user.is_superuser and staff is None:
        return qs
    if staff is None:
        return qs.none()
    visible = visible_customers(user)
    return qs.filter(current_role=staff.role, customer__in=visible.values("pk"))
