from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from .models import OrgUnit
from .scoping import get_staff, staff_scope, unit_scope

router = Router(tags=["org"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    industry: str
    area: str
    parent_code: str | None


class StaffOut(Schema):
    id: int
    employee_no: str
    name: str
    role: str
    unit_code: str
    unit_name: str
    employment_type: str
    hire_date: dt.date | None
    cm_start_date: dt.date | None
    education: str
    major: str
    certificates: list


def _unit(u: OrgUnit) -> dict:
    return {
        "id": u.pk,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "industry": u.industry,
        "area": u.area,
        "parent_code": u.parent.code if u.parent_id else None,
    }


def _staff(s) -> dict:
    return {
        "id": s.pk,
        "employee_no": s.employee_no,
        "name": s.name,
        "role": s.role,
        "unit_code": s.unit.code,
        "unit_name": s.unit.name,
        "employment_type": s.employment_type,
        "hire_date": s.hire_date,
        "cm_start_date": s.cm_start_date,
        "education": s.education,
        "major": s.major,
        "certificates": s.certificates,
    }


@router.get("/units", response=list[UnitOut], summary="Org units in my scope")
def units(request):
    return [_unit(u) for u in unit_scope(request.user).select_related("parent")]


@router.get("/staff", response=list[StaffOut], summary="Staff in my scope")
def staff_list(request, role: str | None = None):
    qs = staff_scope(request.user)
    if role:
        qs = qs.filter(role=role)
    return [_staff(s) for s in qs]


@router.get("/staff/{staff_id}", response=StaffOut, summary="One staff member")
def staff_get(request, staff_id: int):
    return _staff(get_object_or_404(staff_scope(request.user), pk=staff_id))


@router.get("/me", response=StaffOut | None, summary="My own staff record")
def me(request):
    s = get_staff(request.user)
    return _staff(s) if s else None
