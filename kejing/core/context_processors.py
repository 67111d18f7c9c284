from __future__ import annotations

from django.http import HttpRequest

from kejing.org.models import MANAGER_ROLES, Role


def kejing(request: HttpRequest) -> dict:
    """Who is logged in, as the templates need it (role flags drive the menu)."""
    from kejing.org.scoping import get_staff, is_admin

    user = getattr(request, "user", None)
    staff = get_staff(user) if user is not None else None
    admin = is_admin(user) if user is not None else False
    return {
        "me": staff,
        "is_cm": bool(staff and staff.role == Role.CM),
        "is_manager": admin or bool(staff and staff.role in MANAGER_ROLES),
        "is_admin_user": admin,
    }
