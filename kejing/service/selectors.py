"""Reads of visits and tasks, scoped like customers."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from kejing.customers.selectors import visible_customers
from kejing.org.scoping import get_staff

from .models import Task, Visit


def visible_visits(user) -> QuerySet[Visit]:
    return Visit.objects.select_related("customer", "cm").filter(customer__in=visible_customers(user).values("pk"))


def due_visits(user) -> QuerySet[Visit]:
    """Planned visits up to today (overdue ones first), for the user's scope."""
    today = timezone.localdate()
    return visible_visits(user).filter(status=Visit.Status.PLANNED, planned_for__lte=today).order_by("planned_for")


def my_tasks(user, open_only: bool = True) -> QuerySet[Task]:
    staff = get_staff(user)
    if staff is None:
        return Task.objects.none()
    qs = Task.objects.select_related("customer").filter(staff=staff)
    return qs.filter(done_at__isnull=True) if open_only else qs
