"""Syncing the catalog rows from the policy documents, and quotes written through the services (audited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kejing.catalog import selectors, services
from kejing.catalog.engine import QuoteError, load_catalog
from kejing.catalog.engine import quote as engine_quote
from kejing.catalog.models import FAQ, CatalogLoad, Package, Product, Quote
from kejing.core.models import AuditLog, PolicyDocument
from kejing.core.policies import clear_cache


def test_sync_is_idempotent_and_keeps_admin_edits(tel):
    files = load_catalog()
    assert Product.objects.count() == len(files.products)
    assert Package.objects.count() == sum(len(p.packages) for p in files.products.values())
    assert FAQ.objects.filter(product__code="JTVW").count() == 5
    loads = CatalogLoad.objects.count()
    Package.objects.filter(code="QXT-100").update(name="改过的名字")
    result = services.sync_catalog()
    assert not result.changed and CatalogLoad.objects.count() == loads
    assert Package.objects.get(code="QXT-100").name == "改过的名字"  # an unchanged document writes nothing
    assert services.sync_catalog(force=True).changed
    assert Package.objects.get(code="QXT-100").name == "企信通100套餐"
    assert Product.objects.count() == len(files.products)  # no duplicates


def test_a_new_policy_version_changes_the_tariff(tel):
    doc = PolicyDocument.objects.get(industry="telecom", name="catalog_messaging")
    data = doc.data
    data["products"][0]["packages"][0]["fees"][0]["amount"] = "120"
    data["meta"]["version"] = "2026.2"
    PolicyDocument.objects.create(
        industry="telecom", name="catalog_messaging", version="2026.2", effective_from=dt.date(2026, 1, 2),
        title=doc.title, data=data,
    )  # fmt: skip
    clear_cache()
    assert services.sync_catalog().changed
    q = services.price(selectors.product_detail("QXT"), {"sms": "500"})
    assert q.package("QXT-100").monthly == Decimal("120.00")
    assert Product.objects.get(code="QXT").policy_version == "2026.2"


def test_rows_and_files_give_the_same_quote(tel):
    usage = {"stores": "250", "sms": "2000", "mb": "20000"}
    from_db = services.price(selectors.product_detail("MDT"), usage).as_dict()
    from_files = engine_quote(load_catalog(), "MDT", usage).as_dict()
    assert from_db["packages"] == from_files["packages"] and from_db["monthly"] == "20460.00"


def test_quote_lines_totals_and_audit(tel, quote1):
    assert quote1.monthly_total == Decimal("480.00")
    line = quote1.lines.get()
    assert line.package_codes == ["QXT-400"] and line.opening_date == dt.date(2026, 2, 26)  # 5 working days
    services.add_line(tel.tcm1.user, quote1, Product.objects.get(code="GDKD"), {})
    quote1.refresh_from_db()
    assert quote1.monthly_total == Decimal("480.00")  # no priced package: nothing added to the monthly total
    actions = list(AuditLog.objects.filter(customer=tel.e1).values_list("action", flat=True))
    assert {"create", "quote_line_add"} <= set(actions)
    services.remove_line(tel.tcm1.user, line)
    quote1.refresh_from_db()
    assert quote1.monthly_total == Decimal("0.00")
    assert AuditLog.objects.filter(customer=tel.e1, action="quote_line_remove").exists()


def test_refused_package_writes_nothing(tel, quote1):
    before = quote1.lines.count()
    with pytest.raises(QuoteError) as err:
        services.add_line(tel.tcm1.user, quote1, Product.objects.get(code="CWT"), {"interval_s": "60"},
                          package_code="CWT-A")  # fmt: skip
    assert err.value.field == "package" and "60" in err.value.message
    assert quote1.lines.count() == before


def test_quotes_are_for_telecom_customers_only(tel, org):
    with pytest.raises(QuoteError):
        services.create_quote(org.cm1.user, org.c1)
    assert Quote.objects.count() == 0
