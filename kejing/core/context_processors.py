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
        "module_nav": _module_nav(staff, admin),
        "me": staff,
        "is_cm": bool(staff and staff.role == Role.CM),
        "is_manager": admin or bool(staff and staff.role in MANAGER_ROLES),
        "is_admin_user": admin,
    }


def _module_nav(staff, admin: bool) -> list[tuple[str, str]]:
    """Header links contributed by the modules' AppConfig ``nav_items``, filtered by who is looking."""
    from django.apps import apps
    from django.urls import NoReverseMatch, reverse

    out = []
    for config in apps.get_app_configs():
        industries = getattr(config, "industries", None)
        if industries and not admin and (staff is None or staff.industry not in industries):
            continue  # e.g. the telecom catalog is not shown to tobacco staff
        for url_name, label, who in getattr(config, "nav_items", []):
            role = staff.role if staff else None
            allowed = (
                who == "all"
                or admin
                or (who == "cm" and role == Role.CM)
                or (who == "manager" and role in MANAGER_ROLES)
                or who == role
            )
            if allowed:
                try:
                    out.append((reverse(url_name), label))
                except NoReverseMatch:
                    continue
    return out
