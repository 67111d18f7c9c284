"""Catalog API: products (list / detail), a quote computation that saves nothing, and saved quotes (scoped to
the customers the caller may see; another CM's quote is a 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from . import selectors, services
from .engine.catalog import CatalogError
from .engine.quote import QuoteError
from .models import Quote

router = Router(tags=["catalog"])


class Problem(Schema):
    detail: str
    field: str = ""


class ProductFilters(Schema):
    q: str = ""
    category: str = ""


class PackageOut(Schema):
    code: str
    name: str
    group: str
    fees: list[dict[str, Any]]
    allowances: list[dict[str, Any]]
    rates: dict[str, Any]
    rate_units: dict[str, str]
    meter_caps: dict[str, Any]
    cap: dict[str, Any]
    limits: dict[str, Any]
    features: list[str]
    zone: str
    note: str


class ProductOut(Schema):
    code: str
    name: str
    name_en: str
    category: str
    status: str
    sla: dict[str, int]
    sla_note: str
    packages: int


class FAQOut(Schema):
    question: str
    answer: str
    source: str


class ProductDetail(ProductOut):
    description: str
    selling_tip: str
    targets: list[str]
    customer_provides: list[str]
    tariff_note: str
    one_time_fees: list[dict[str, Any]]
    project_days: dict[str, Any]
    notes: list[str]
    source: str
    package_list: list[PackageOut]
    faq: list[FAQOut]


class QuoteIn(Schema):
    product: str
    usage: dict[str, Any] = {}
    zone: str = ""
    needs: list[str] = []
    level: str = "standard"
    start: dt.date | None = None


class SavedLineIn(QuoteIn):
    package: str = ""


class SavedQuoteIn(Schema):
    customer_id: int
    title: str = ""
    level: str = "standard"
    start_date: dt.date | None = None
    note: str = ""
    lines: list[SavedLineIn] = []


class LineOut(Schema):
    id: int
    product: str
    product_name: str
    packages: list[str]
    package_names: str
    usage: dict[str, Any]
    monthly: str
    one_time: str
    opening_date: dt.date | None
    opening_estimated: bool = False
    opening_note: str = ""
    explanation: list[dict[str, Any]]


class SavedQuoteOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    title: str
    level: str
    start_date: dt.date
    monthly_total: str
    one_time_total: str
    created_by: str | None
    created_at: dt.datetime
    lines: list[LineOut] = []


def _product(p, detail: bool = False) -> dict[str, Any]:
    pkgs = list(p.packages.all())
    out = {
        "code": p.code,
        "name": p.name,
        "name_en": p.name_en,
        "category": p.category,
        "status": p.status,
        "sla": p.sla(),
        "sla_note": p.sla_note,
        "packages": len(pkgs),
    }
    if detail:
        out.update(
            {
                f: getattr(p, f)
                for f in (
                    "description",
                    "selling_tip",
                    "targets",
                    "customer_provides",
                    "tariff_note",
                    "one_time_fees",
                    "project_days",
                    "notes",
                    "source",
                )
            }
        )
        out["package_list"] = [{**k.as_policy(), "cap": k.cap or {}} for k in pkgs]
        out["faq"] = [{"question": f.question, "answer": f.answer, "source": f.source} for f in p.faqs.all()]
    return out


def _quote(q: Quote, lines: bool = True) -> dict[str, Any]:
    out = {
        "id": q.pk,
        "customer_id": q.customer_id,
        "customer_name": q.customer.name,
        "title": q.title,
        "level": q.level,
        "start_date": q.start_date,
        "monthly_total": str(q.monthly_total),
        "one_time_total": str(q.one_time_total),
        "created_by": q.created_by.get_username() if q.created_by else None,
        "created_at": q.created_at,
        "lines": [],
    }
    if lines:
        out["lines"] = [
            {
                "id": x.pk,
                "product": x.product.code,
                "product_name": x.product_name,
                "packages": x.package_codes,
                "package_names": x.package_names,
                "usage": x.usage,
                "monthly": str(x.monthly),
                "one_time": str(x.one_time),
                "opening_date": x.opening_date,
                "opening_estimated": x.opening_estimated,
                "opening_note": x.opening_note,
                "explanation": x.explanation,
            }
            for x in q.lines.select_related("product")
        ]
    return out


@router.get("/products", response=list[ProductOut], summary="List and search group products")
def list_products(request, filters: Query[ProductFilters]):
    return [_product(p) for p in selectors.search_products(filters.q, filters.category)]


@router.get("/products/{code}", response=ProductDetail, summary="One product with its packages and FAQ")
def get_product(request, code: str):
    p = selectors.product_detail(code)
    if p is None:
        from kejing.api import not_found

        raise not_found()
    return _product(p, detail=True)


@router.post("/quote", response={200: dict[str, Any], 400: Problem, 404: Problem}, summary="Price every package")
def compute_quote(request, body: QuoteIn):
    """Monthly cost under every package, eligibility with reasons, the cheapest, and the opening date. Saves
    nothing."""
    p = selectors.find_product(body.product)
    if p is None:
        return Status(404, {"detail": f"没有产品 / no product '{body.product}'", "field": "product"})
    try:
        result = services.price(
            p, body.usage, zone=body.zone, needs=tuple(body.needs), level=body.level, start=body.start
        )
    except QuoteError as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    except CatalogError as exc:
        return Status(400, {"detail": str(exc), "field": "catalog"})
    return Status(200, result.as_dict())


@router.get("/quotes", response=list[SavedQuoteOut], summary="Saved quotes of the customers I may see")
def list_quotes(request, customer_id: int | None = None):
    qs = selectors.visible_quotes(request.user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return [_quote(q, lines=False) for q in qs[:500]]


@router.get("/quotes/{quote_id}", response=SavedQuoteOut, summary="One saved quote with its lines")
def get_quote(request, quote_id: int):
    return _quote(get_object_or_404(selectors.visible_quotes(request.user), pk=quote_id))


@router.post("/quotes", response={201: SavedQuoteOut, 400: Problem}, summary="Save a quote for a customer")
def create_quote(request, body: SavedQuoteIn):
    from django.db import transaction

    customer = get_object_or_404(selectors.quote_customers(request.user), pk=body.customer_id)
    try:
        with transaction.atomic():  # all lines or none
            quote = services.create_quote(
                request.user, customer, title=body.title, level=body.level, start_date=body.start_date, note=body.note
            )
            for i, line in enumerate(body.lines):
                p = selectors.find_product(line.product)
                if p is None:
                    raise QuoteError(f"lines[{i}].product", f"没有产品 / no product '{line.product}'")
                try:
                    services.add_line(
                        request.user,
                        quote,
                        p,
                        line.usage,
                        package_code=line.package,
                        zone=line.zone,
                        needs=tuple(line.needs),
                    )
                except QuoteError as exc:
                    raise QuoteError(f"lines[{i}].{exc.field}", exc.message) from exc
    except (QuoteError, CatalogError) as exc:
        return Status(400, {"detail": getattr(exc, "message", str(exc)), "field": getattr(exc, "field", "")})
    return Status(201, _quote(selectors.visible_quotes(request.user).get(pk=quote.pk)))


@router.delete("/quotes/{quote_id}", response={204: None}, summary="Delete a saved quote")
def delete_quote(request, quote_id: int):
    services.delete_quote(request.user, get_object_or_404(selectors.visible_quotes(request.user), pk=quote_id))
    return Status(204, None)
