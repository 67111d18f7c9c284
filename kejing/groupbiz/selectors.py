"""Reads of group business, always through the caller's customer scope: an EC another CM looks after is a 404."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from kejing.customers.models import Customer
from kejing.customers.selectors import visible_customers

from .models import BillRun, GroupAccount, Member


def visible_ecs(user) -> QuerySet[Customer]:
    """Telecom customers the user may see (the ECs)."""
    return visible_customers(user).filter(industry="telecom")


def ec_list(user, q: str = "") -> QuerySet[Customer]:
    qs = visible_ecs(user)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(ec_code__contains=q) | Q(code__icontains=q))
    return qs.annotate(
        n_users=Count("group_users", distinct=True), n_members=Count("group_members", distinct=True)
    ).order_by("code")


def ec_by_code(user, code: str) -> Customer | None:
    return visible_ecs(user).filter(Q(ec_code=code) | Q(code=code)).first()


def members_of(ec: Customer, q: str = "") -> QuerySet[Member]:
    qs = Member.objects.filter(ec=ec)
    if q:
        qs = qs.filter(Q(msisdn__contains=q) | Q(name__icontains=q) | Q(memberships__short_number=q)).distinct()
    return qs.prefetch_related("memberships__group_user").order_by("msisdn")


def visible_accounts(user) -> QuerySet[GroupAccount]:
    return GroupAccount.objects.filter(ec__in=visible_ecs(user).values("pk")).select_related("ec", "parent")


def visible_runs(user) -> QuerySet[BillRun]:
    return BillRun.objects.filter(ec__in=visible_ecs(user).values("pk")).select_related("ec")
