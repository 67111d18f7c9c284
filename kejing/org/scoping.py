"""Who may see what. Every page, API call, export and search asks these functions, never its own rule.

- a customer manager: the customers assigned to him (``customers.selectors.visible_customers``) and himself;
- any other role: everything under his own org unit (a market manager his market area, a department head his
  department, a marketing-center or monopoly officer placed at the company the whole company);
- an administrator (role ``admin`` or a Django superuser): everything.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import OrgUnit, Role, Staff


def get_staff(user) -> Staff | None:
    """The staff record of a logged-in user, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_kejing_staff", False)
    if cached is not False:
        return cached
    staff = Staff.objects.select_related("unit").filter(user=user).first()
    user._kejing_staff = staff
    return staff


def is_admin(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    staff = get_staff(user)
    return bool(staff and staff.role == Role.ADMIN)


def unit_scope(user) -> QuerySet[OrgUnit]:
    """Org units the user may see."""
    if is_admin(user):
        return OrgUnit.objects.all()
    staff = get_staff(user)
    if staff is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=staff.unit.path)


def staff_scope(user) -> QuerySet[Staff]:
    """Staff the user may see: a CM sees only himself, others their subtree."""
    qs = Staff.objects.select_related("unit", "user")
    if is_admin(user):
        return qs
    staff = get_staff(user)
    if staff is None:
        return qs.none()
    if staff.role == Role.CM:
        return qs.filter(pk=staff.pk)
    return qs.filter(unit__path__startswith=staff.unit.path)
