"""The org tree and the administrator's way of creating accounts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kejing.core.models import AuditLog
from kejing.org.models import OrgUnit, Staff


def test_paths_and_subtrees(org):
    assert org.u1.path == "/T/T-D1/T-D1-M1/T-D1-01/" and org.u1.depth == 3
    assert set(org.d1.subtree().values_list("code", flat=True)) == {"T-D1", "T-D1-M1", "T-D1-01", "T-D1-02"}
    assert org.u3.company() == org.company
    assert org.u3.industry == "tobacco"  # inherited from the company


def test_unit_code_is_fixed_and_top_must_be_a_company(org):
    org.u1.code = "X"
    with pytest.raises(ValidationError):
        org.u1.full_clean()
    orphan = OrgUnit(code="Z", name="z", kind="unit", industry="tobacco")
    with pytest.raises(ValidationError):
        orphan.full_clean()


def test_admin_creates_staff_with_initial_password_that_must_be_changed(org, client):
    client.force_login(org.admin.user)
    resp = client.post(
        "/admin/org/staff/add/",
        {
            "username": "newcm",
            "initial_password": "Start-2026-pw",
            "employee_no": "CM99",
            "name": "新客户经理",
            "unit": org.u1.pk,
            "role": "cm",
            "employment_type": "contract",
            "education": "college",
            "certificates": "[]",
            "active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    staff = Staff.objects.get(employee_no="CM99")
    assert staff.user.username == "newcm" and staff.must_change_password
    assert AuditLog.objects.filter(model="org.staff", object_pk=str(staff.pk), action="create").exists()
    client.logout()
    client.post("/accounts/login/", {"username": "newcm", "password": "Start-2026-pw"})
    assert client.get("/").url == "/accounts/password/"
