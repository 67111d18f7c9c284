"""Writes of the catalog module, each in one transaction: syncing the catalog rows from the policy documents,
and creating / pricing / changing customers' quotes (audited against the customer)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from kejing.core import audit
from kejing.core.pinyin import pinyin_keys
from kejing.core.policies import load_policy_files

from . import selectors
from .engine.catalog import build_catalog
from .engine.quote import QuoteError, QuoteRequest, parse_usage, quote_product
from .models import FAQ, CatalogLoad, Package, Product, Quote, QuoteLine

PRODUCT_FIELDS = (
    "name",
    "name_en",
    "category",
    "status",
    "description",
    "selling_tip",
    "targets",
    "customer_provides",
    "tariff_note",
    "sla_note",
    "project_days",
    "one_time_fees",
    "notes",
    "groups",
    "components",
    "price_table",
    "required_inputs",
    "source",
    "faq_source",
)
PACKAGE_FIELDS = (
    "fees",
    "allowances",
    "rates",
    "rate_units",
    "meter_caps",
    "cap",
    "limits",
    "features",
    "zone",
    "note",
)
DEFAULTS = {"targets": [], "customer_provides": [], "project_days": {}, "one_time_fees": [], "notes": []}


@dataclass
class SyncResult:
    changed: bool
    products: int
    packages: int
    faqs: int
    versions: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _signature(docs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(docs, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@transaction.atomic
def sync_catalog(actor=None, force: bool = False) -> SyncResult:
    """Bring the product, package and FAQ rows in line with the catalog policy documents in force.

    Idempotent: the documents' signature is kept, and loading the same documents again writes nothing (so an
    administrator's edit of a row survives until a new policy version arrives, or ``force``). Products and
    packages no longer in the documents are deactivated, never deleted: saved quotes refer to them.
    """
    if not selectors.catalog_policy_names():
        load_policy_files()
    docs = selectors.catalog_documents()
    catalog = build_catalog(docs)  # validates everything before anything is written
    sig = _signature(docs)
    last = CatalogLoad.objects.first()
    if last and last.signature == sig and not force:
        return SyncResult(False, last.counts["products"], last.counts["packages"], last.counts["faqs"], last.versions)
    existing = {p.code: p for p in Product.objects.all()}
    pkgs = {k.code: k for k in Package.objects.all()}
    seen_products, seen_packages, n_faq, position = set(), set(), 0, 0
    for name in sorted(docs):
        version = str(docs[name].get("meta", {}).get("version", ""))
        for raw in docs[name].get("products", []):
            position += 1
            code = raw["code"].upper()
            seen_products.add(code)
            values = {
                f: raw.get(f, DEFAULTS.get(f, [] if f in ("groups", "components", "required_inputs") else ""))
                for f in PRODUCT_FIELDS
            }
            sla = raw.get("sla") or {}
            initials, full = pinyin_keys(raw["name"])
            values.update(
                sla_standard=sla.get("standard"),
                sla_urgent=sla.get("urgent"),
                sla_extra_urgent=sla.get("extra_urgent"),
                name_initials=initials,
                name_pinyin=full,
                position=position,
                active=True,
                policy_name=name,
                policy_version=version,
            )
            product = existing.get(code) or Product(code=code)
            for k, v in values.items():
                setattr(product, k, v)
            product.save()
            for i, rp in enumerate(raw.get("packages", [])):
                seen_packages.add(rp["code"])
                pkg = pkgs.get(rp["code"]) or Package(code=rp["code"])
                pkg.product = product
                pkg.name = rp["name"]
                pkg.group = rp.get("group", "main")
                pkg.position = i
                pkg.active = True
                for f in PACKAGE_FIELDS:
                    setattr(
                        pkg,
                        f,
                        rp.get(
                            f, "" if f in ("zone", "note") else ([] if f in ("fees", "allowances", "features") else {})
                        ),
                    )
                pkg.save()
            FAQ.objects.filter(product=product).delete()
            faqs = [
                FAQ(product=product, position=i, question=f["q"], answer=f["a"], source=f.get("source", ""))
                for i, f in enumerate(raw.get("faq", []))
            ]
            FAQ.objects.bulk_create(faqs)
            n_faq += len(faqs)
    Product.objects.exclude(code__in=seen_products).update(active=False)
    Package.objects.exclude(code__in=seen_packages).update(active=False)
    counts = {"products": len(seen_products), "packages": len(seen_packages), "faqs": n_faq}
    load = CatalogLoad.objects.create(signature=sig, versions=catalog.versions, counts=counts)
    audit.record(actor=actor, action="load", obj=load, note=f"catalog {json.dumps(catalog.versions)}")
    return SyncResult(True, counts["products"], counts["packages"], n_faq, catalog.versions)


# ---- quotes -------------------------------------------------------------------------------------------------


def price(
    product: Product,
    usage: dict[str, Any],
    *,
    zone: str = "",
    needs: tuple[str, ...] = (),
    level: str = "standard",
    start: dt.date | None = None,
):
    """Run the quote engine on a product row (no write)."""
    catalog = selectors.engine_catalog([product])
    req = QuoteRequest(parse_usage(catalog, usage), zone=zone, needs=tuple(needs), level=level, start=start)
    return quote_product(catalog, catalog.products[product.code], req)


def _refresh_totals(quote: Quote) -> None:
    lines = list(quote.lines.all())
    quote.monthly_total = sum((x.monthly for x in lines), Decimal("0"))
    quote.one_time_total = sum((x.one_time for x in lines), Decimal("0"))
    quote.save(update_fields=["monthly_total", "one_time_total"])


@transaction.atomic
def create_quote(user, customer, *, title: str = "", level: str = "standard", start_date=None, note: str = "") -> Quote:
    """A new, empty quote for a telecom customer in the user's scope (the caller has looked it up scoped)."""
    if customer.industry != "telecom":
        raise QuoteError("customer", "只能为电信集团客户报价 / quotes are for telecom customers only")
    if level not in Quote.Level.values:
        raise QuoteError("level", "应为 standard / urgent / extra_urgent / must be standard, urgent or extra_urgent")
    quote = Quote.objects.create(
        customer=customer,
        title=title[:200],
        level=level,
        start_date=start_date or dt.date.today(),
        note=note,
        created_by=user,
    )
    audit.record(
        actor=user,
        action="create",
        obj=quote,
        customer=customer,
        changes={"title": [None, quote.title], "level": [None, level], "start_date": [None, quote.start_date]},
    )
    return quote


@transaction.atomic
def add_line(
    user,
    quote: Quote,
    product: Product,
    usage: dict[str, Any],
    *,
    package_code: str = "",
    zone: str = "",
    needs: tuple[str, ...] = (),
) -> QuoteLine:
    """Price ``product`` for ``usage`` and add it to the quote with the chosen package (default: the cheapest
    eligible combination). A package that is not eligible or has no price is refused with the reason."""
    result = price(product, usage, zone=zone, needs=needs, level=quote.level, start=quote.start_date)
    if package_code:
        try:
            chosen = [result.package(package_code)]
        except KeyError:
            raise QuoteError("package", f"{product.name}没有套餐 {package_code} / no such package") from None
        if not chosen[0].eligible or chosen[0].monthly is None:
            raise QuoteError("package", "; ".join(chosen[0].reasons) or "不可用 / not eligible")
    else:
        if result.product.packages and result.monthly is None:
            raise QuoteError("package", "; ".join(result.notes[-1:]) or "没有可用套餐 / no eligible package")
        chosen = [result.package(c) for c in result.recommended]
    monthly = sum((c.monthly for c in chosen), Decimal("0.00"))
    explanation = [
        {"package": c.code, "name": c.name, "lines": [x.as_dict() for x in c.lines], "monthly": str(c.monthly)}
        for c in chosen
    ]
    opening = result.opening
    line = QuoteLine.objects.create(
        quote=quote,
        position=quote.lines.count(),
        product=product,
        product_name=product.name,
        package_codes=[c.code for c in chosen],
        package_names=" + ".join(c.name for c in chosen) or "—",
        usage={k: str(v) for k, v in result.usage.items()},
        monthly=monthly,
        one_time=result.one_time_total,
        explanation=explanation,
        sla_days=opening.get("days"),
        opening_date=dt.date.fromisoformat(opening["date"]) if opening.get("date") else None,
        opening_note=(opening.get("calendar_note") or opening.get("note") or "")[:300],
        opening_estimated=bool(opening.get("estimated")),
    )
    before = str(quote.monthly_total)
    _refresh_totals(quote)
    audit.record(
        actor=user,
        action="quote_line_add",
        obj=quote,
        customer=quote.customer,
        changes={"monthly_total": [before, str(quote.monthly_total)]},
        note=f"{product.code} {line.package_names} {monthly}",
    )
    return line


@transaction.atomic
def remove_line(user, line: QuoteLine) -> None:
    quote = line.quote
    before = str(quote.monthly_total)
    note = f"{line.product.code} {line.package_names} {line.monthly}"
    line.delete()
    _refresh_totals(quote)
    audit.record(
        actor=user,
        action="quote_line_remove",
        obj=quote,
        customer=quote.customer,
        changes={"monthly_total": [before, str(quote.monthly_total)]},
        note=note,
    )


@transaction.atomic
def delete_quote(user, quote: Quote) -> None:
    audit.record(
        actor=user,
        action="delete",
        obj=quote,
        customer=quote.customer,
        changes={"monthly_total": [str(quote.monthly_total), None]},
        note=quote.title,
    )
    quote.delete()
