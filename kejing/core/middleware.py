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


class ChineseFirstMiddleware:
    """Chinese unless the user chose otherwise: the browser's Accept-Language is ignored.

    A CM's phone may well be set to English; the company's working language is Chinese, and the header's language
    switch (a cookie) is the way to change it. Set ``KEJING_BROWSER_LANGUAGE = True`` to honour the browser instead.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.honour_browser = getattr(settings, "KEJING_BROWSER_LANGUAGE", False)

    def __call__(self, request):
        if not self.honour_browser:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
