"""Paging for list pages, keeping the other query parameters (filters, sort) in the page links."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator


def paginate(request, qs, per_page: int | None = None):
    paginator = Paginator(qs, per_page or settings.KEJING_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
