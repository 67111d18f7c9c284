"""Catalog pages: browse and search products, a product page with its packages compared and its FAQ (and a
quick price check), and a customer's quotes: create, add products, remove lines, export PDF / Excel.

Quotes are reached only through ``selectors.visible_quotes`` (scoped by customer), so another CM's quote is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejing.core.exports import file_response, table_response
from kejing.core.pagination import paginate

from . import display, selectors, services
from .engine.catalog import CatalogError
from .engine.quote import QuoteError
from .exports import quote_pdf_bytes, quote_table, quote_xlsx_bytes
from .models import Product, Quote


def _usage_from(params, keys: list[str]) -> dict[str, str]:
    return {k: params.get(k, "").strip() for k in keys if params.get(k, "").strip()}


def _product_context(product: Product, params=None) -> dict[str, Any]:
    params = params or {}
    shared = selectors.shared_definitions()
    meters, features = shared["meters"], shared["features"]
    packages = [{"pkg": p, **display.package_rows(p, meters)} for p in product.packages.all()]
    for row in packages:
        row["features"] = [features.get(f, f) for f in row["features"]]
    zones = []
    if product.price_table:
        table = shared["price_tables"].get(product.price_table, {})
        zones = [(k, z.get("label", k)) for k, z in table.get("zones", {}).items()]
    return {
        "p": product,
        "packages": packages,
        "inputs": [
            (k, display.meter_label(meters, k), display.meter_unit(meters, k), params.get(k, ""))
            for k in display.relevant_meters(product)
        ],
        "zone": params.get("zone", ""),
        "needs": params.getlist("need") if hasattr(params, "getlist") else [],
        "feature_choices": [(f, features.get(f, f)) for f in display.features_of(product)],
        "zones": zones,
        "category": shared["categories"].get(product.category, product.category),
    }


@login_required
def product_list(request):
    q, category = request.GET.get("q", ""), request.GET.get("category", "")
    shared = selectors.shared_definitions()
    rows = []
    for p in selectors.search_products(q, category):
        pkgs = list(p.packages.all())
        rows.append({"p": p, "packages": len(pkgs), "category": shared["categories"].get(p.category, p.category)})
    return render(
        request,
        "catalog/product_list.html",
        {"rows": rows, "q": q, "category": category, "categories": list(shared["categories"].items())},
    )


@login_required
def product_detail(request, code: str):
    product = selectors.product_detail(code)
    if product is None:
        raise Http404
    ctx = _product_context(product, request.GET)
    ctx["faqs"] = list(product.faqs.all())
    ctx["level"] = request.GET.get("level", "standard")
    ctx["levels"] = Quote.Level.choices
    if request.GET.get("calc"):
        try:
            ctx["result"] = services.price(
                product,
                _usage_from(request.GET, [row[0] for row in ctx["inputs"]]),
                zone=ctx["zone"],
                needs=tuple(ctx["needs"]),
                level=ctx["level"],
            )
        except (QuoteError, CatalogError) as exc:
            ctx["error"] = str(exc)
    return render(request, "catalog/product_detail.html", ctx)


@login_required
def quote_list(request):
    qs = selectors.visible_quotes(request.user)
    page, query = paginate(request, qs)
    return render(request, "catalog/quote_list.html", {"page": page, "query": query})


@login_required
def quote_export(request):
    qs = selectors.visible_quotes(request.user)
    headers = [
        _("Quote"),
        _("Customer"),
        _("Title"),
        _("Monthly total"),
        _("One-time total"),
        _("Created by"),
        _("Created at"),
    ]
    rows = (
        [
            q.pk,
            q.customer.name,
            q.title,
            q.monthly_total,
            q.one_time_total,
            q.created_by.get_username() if q.created_by else "",
            q.created_at.strftime("%Y-%m-%d %H:%M"),
        ]
        for q in qs.iterator()
    )
    return table_response("quotes", headers, rows, request.GET.get("format", "xlsx"))


@login_required
def quote_new(request):
    customers = selectors.quote_customers(request.user)
    chosen = None
    cid = request.POST.get("customer") or request.GET.get("customer")
    if cid:
        try:
            chosen = get_object_or_404(customers, pk=int(cid))
        except ValueError:
            raise Http404 from None
    if request.method == "POST":
        if chosen is None:
            messages.error(request, _("Choose a customer."))
        else:
            try:
                start = dt.date.fromisoformat(request.POST.get("start_date") or dt.date.today().isoformat())
                quote = services.create_quote(
                    request.user,
                    chosen,
                    title=request.POST.get("title", ""),
                    level=request.POST.get("level", "standard"),
                    start_date=start,
                    note=request.POST.get("note", ""),
                )
            except (QuoteError, ValueError) as exc:
                messages.error(request, str(exc))
            else:
                messages.info(request, _("Quote created; now add products."))
                return redirect("catalog_quote", quote.pk)
    return render(
        request,
        "catalog/quote_new.html",
        {
            "chosen": chosen,
            "customers": [] if chosen else customers.order_by("name_pinyin")[:200],
            "levels": Quote.Level.choices,
            "today": dt.date.today().isoformat(),
        },
    )


@login_required
def quote_detail(request, pk: int):
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    ctx: dict[str, Any] = {"quote": quote, "lines": list(quote.lines.select_related("product"))}
    ctx["products"] = list(selectors.products().only("code", "name", "position"))
    code = request.GET.get("product", "")
    if code:
        product = selectors.product_detail(code)
        if product is None:
            raise Http404
        ctx["form"] = _product_context(product, request.GET)
    return render(request, "catalog/quote_detail.html", ctx)


@login_required
@require_POST
def quote_add_line(request, pk: int):
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    product = selectors.product_detail(request.POST.get("product", ""))
    if product is None:
        messages.error(request, _("Choose a product."))
        return redirect("catalog_quote", quote.pk)
    keys = display.relevant_meters(product)
    try:
        line = services.add_line(
            request.user,
            quote,
            product,
            _usage_from(request.POST, keys),
            package_code=request.POST.get("package", ""),
            zone=request.POST.get("zone", ""),
            needs=tuple(request.POST.getlist("need")),
        )
    except (QuoteError, CatalogError) as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('catalog_quote', args=[quote.pk])}?product={product.code}")
    messages.info(
        request,
        _("Added %(product)s: %(amount)s yuan per month.") % {"product": line.product_name, "amount": line.monthly},
    )
    return redirect("catalog_quote", quote.pk)


@login_required
@require_POST
def quote_remove_line(request, pk: int, line_pk: int):
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    line = get_object_or_404(quote.lines.all(), pk=line_pk)
    services.remove_line(request.user, line)
    return redirect("catalog_quote", quote.pk)


@login_required
@require_POST
def quote_delete(request, pk: int):
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    services.delete_quote(request.user, quote)
    messages.info(request, _("Quote deleted."))
    return redirect("catalog_quotes")


@login_required
def quote_pdf(request, pk: int) -> HttpResponse:
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    resp = HttpResponse(quote_pdf_bytes(quote), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="quote-{quote.pk}.pdf"'
    return resp


@login_required
def quote_xlsx(request, pk: int) -> HttpResponse:
    quote = get_object_or_404(selectors.visible_quotes(request.user), pk=pk)
    if request.GET.get("format") == "csv":
        headers, rows = quote_table(quote)
        return table_response(f"quote-{quote.pk}", headers, rows, "csv")
    return file_response(quote_xlsx_bytes(quote), f"quote-{quote.pk}", "xlsx")
