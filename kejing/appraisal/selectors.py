"""Reads of appraisal data, scoped like everything else in Kejing (an object outside the scope is a 404).

- A CM sees his own round entries, payslips and scorecard, and the published totals of his company's rounds.
- The evaluation committee and administrators see the rounds, competitions and pay of their company (admins: all).
- Managers see the entries, payslips and scorecards of the CMs under their unit (``org.scoping.staff_scope``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from kejing.org.models import MANAGER_ROLES, OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin, staff_scope

from .models import GradingRound, PaySlip, Posting, RoundEntry
from .services import company_of, is_committee


def my_company(user) -> OrgUnit | None:
    staff = get_staff(user)
    return company_of(staff.unit) if staff else None


def _company_filter(user, qs: QuerySet, field: str = "company") -> QuerySet:
    if is_admin(user):
        return qs
    company = my_company(user)
    return qs.filter(**{field: company}) if company else qs.none()


def visible_rounds(user) -> QuerySet[GradingRound]:
    """Rounds of the user's company (every staff member may see a round's published totals)."""
    return _company_filter(user, GradingRound.objects.select_related("company", "policy"))


def manageable_rounds(user) -> QuerySet[GradingRound]:
    """Rounds the user may run (committee, admin)."""
    return visible_rounds(user) if is_committee(user) else GradingRound.objects.none()


def visible_postings(user) -> QuerySet[Posting]:
    if not is_committee(user):
        return Posting.objects.none()
    return _company_filter(user, Posting.objects.select_related("company", "policy"))


def sees_all_scores(user) -> bool:
    """Committee and administrators see every entry of their company's rounds."""
    return is_committee(user)


def visible_entries(user) -> QuerySet[RoundEntry]:
    qs = RoundEntry.objects.select_related("round", "round__policy", "staff", "staff__unit")
    if is_committee(user):
        return qs.filter(round__in=visible_rounds(user))
    staff = get_staff(user)
    if staff is None:
        return qs.none()
    if staff.role == Role.CM:
        return qs.filter(staff=staff)
    if staff.role in MANAGER_ROLES:
        return qs.filter(staff__in=staff_scope(user).values("pk"))
    return qs.none()


def visible_payslips(user) -> QuerySet[PaySlip]:
    qs = PaySlip.objects.select_related("run", "staff", "unit")
    if is_admin(user):
        return qs
    staff = get_staff(user)
    if staff is None:
        return qs.none()
    if staff.role == Role.CM:
        return qs.filter(staff=staff)
    if staff.role == Role.COMMITTEE:
        return qs.filter(run__company=my_company(user))
    if staff.role in MANAGER_ROLES:
        return qs.filter(unit__path__startswith=staff.unit.path)
    return qs.none()


def kpi_staff(user) -> QuerySet[Staff]:
    """CMs whose scorecards the user may see: a CM himself, a manager or the committee the CMs under them."""
    qs = staff_scope(user).filter(role=Role.CM)
    staff = get_staff(user)
    if is_admin(user) or (
        staff and (staff.role in MANAGER_ROLES or staff.role == Role.COMMITTEE or staff.role == Role.CM)
    ):
        return qs.order_by("unit__path", "employee_no")
    return qs.none()
