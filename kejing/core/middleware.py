"""Accounts created with a default password must change it before doing anything else."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse

ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/")


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(ALLOWED_PREFIXES):
            from kejing.org.scoping import get_staff

            staff = get_staff(user)
            if staff is not None and staff.must_change_password:
                return redirect(reverse("password_change"))
        return self.get_response(request)
