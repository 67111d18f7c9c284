"""Reads of the catalog and of saved quotes. Quotes are scoped through the customer: a CM sees the quotes of his
own customers, a manager those of his unit (``customers.selectors.visible_customers``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kejing.core.models import PolicyDocument
from kejing.core.policies import get_policy
from kejing.customers.selectors import visible_customers

from .engine.catalog import Catalog, build_catalog
from .models import FAQ, Package, Product, Quote

SHARED_KEYS = ("meters", "categories", "categories_en", "price_tables", "sla_levels", "features")


def catalog_policy_names() -> list[str]:
    return sorted(
        set(
            PolicyDocument.objects.filter(industry="telecom", name__startswith="catalog").values_list("name", flat=True)
        )
    )


def catalog_documents(on: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """The catalog policy documents in force (administrator's copy in the database), by name."""
    return {name: get_policy("telecom", name, on) for name in catalog_policy_names()}


def shared_definitions() -> dict[str, Any]:
    """Meters, categories and price tables merged from every catalog document."""
    out: dict[str, Any] = {k: {} for k in SHARED_KEYS}
    for doc in catalog_documents().values():
        for key in SHARED_KEYS:
            out[key].update(doc.get(key, {}))
    return out


def product_policy(p: Product) -> dict[str, Any]:
    """A product row (with its prefetched active packages) in the policy file's shape."""
    return {
        "code": p.code,
        "name": p.name,
        "name_en": p.name_en,
        "category": p.category,
        "status": p.status,
        "source": p.source,
        "sla": p.sla(),
        "sla_note": p.sla_note,
        "project_days": p.project_days,
        "one_time_fees": p.one_time_fees,
        "tariff_note": p.tariff_note,
        "notes": p.notes,
        "groups": p.groups,
        "price_table": p.price_table,
        "required_inputs": p.required_inputs,
        "packages": [k.as_policy() for k in p.packages.all() if k.active],
    }


def engine_catalog(products: list[Product] | QuerySet[Product]) -> Catalog:
    """The quote engine's catalog built from rows, so an administrator's edit is what the next quote uses."""
    doc = dict(shared_definitions())
    doc["products"] = [product_policy(p) for p in products]
    return build_catalog({"catalog": doc})


def products() -> QuerySet[Product]:
    return Product.objects.filter(active=True).prefetch_related(
        Prefetch("packages", queryset=Package.objects.filter(active=True).order_by("position"))
    )


def search_products(text: str = "", category: str = "") -> QuerySet[Product]:
    """Match code, name, English name, pinyin initials (qxt → 企信通) and full pinyin."""
    qs = products()
    if category:
        qs = qs.filter(category=category)
    text = (text or "").strip()
    if text:
        q = Q(name__icontains=text) | Q(code__iexact=text) | Q(name_en__icontains=text) | Q(description__icontains=text)
        if text.isascii() and text.replace(" ", "").isalnum():
            low = text.lower().replace(" ", "")
            q |= Q(name_initials__contains=low) | Q(name_pinyin__contains=low) | Q(code__icontains=text)
        qs = qs.filter(q)
    return qs.order_by("position", "code")


def product_detail(code: str) -> Product | None:
    return (
        products()
        .prefetch_related(Prefetch("faqs", queryset=FAQ.objects.order_by("position")))
        .filter(code=code.upper())
        .first()
    )


def visible_quotes(user) -> QuerySet[Quote]:
    """Saved quotes of the customers the user may see."""
    return Quote.objects.select_related("customer", "created_by").filter(
        customer__in=visible_customers(user).values("pk")
    )


def quote_customers(user) -> QuerySet:
    """Customers a quote may be made for: telecom customers in the user's scope."""
    return visible_customers(user).filter(industry="telecom")


def find_product(text: str) -> Product | None:
    """A product by code or by exact Chinese / English name (the API and CLI accept either)."""
    text = (text or "").strip()
    found = product_detail(text)
    if found is None and text:
        found = products().filter(Q(name=text) | Q(name_en__iexact=text)).first()
    return found
