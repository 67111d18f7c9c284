"""The pages a user sees when something is not there, not his, or broken.

Django's own error pages are a line of English meant for developers; a CM at a shop counter who follows an old
link, or whose form sat open past its session, needs Chinese, the site's header and a way back. A view that knows
*why* a page is missing raises :class:`NotHere` with a message written for the user and a link to where the work
is; every other 404 keeps a neutral text, so that no technical message (model names, lookups) reaches a page.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


class NotHere(Http404):
    """A 404 whose message is meant for the user, with an optional link (url, label) to go on from."""

    def __init__(self, message: str, link: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.link = link


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: the site's page, with the view's own message where it wrote one."""
    ctx = {"message": None, "link": None}
    if isinstance(exception, NotHere):
        ctx.update(message=exception.message, link=exception.link)
    return render(request, "404.html", ctx, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``."""
    return render(request, "403.html", {"reason": None}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: most often a form left open past its session or across a login elsewhere; saying so
    (and to reload) helps, Django's explanation of the token does not."""
    why = _("The form was open too long or you logged in again elsewhere. Go back, reload the page and send it again.")
    return render(request, "403.html", {"reason": why}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: rendered without the request's context (no menu), since what failed may be that context."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)
