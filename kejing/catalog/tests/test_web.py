"""Pages and API of the catalog: search, product page, the quote page-flow, PDF / Excel, and scoping."""

from __future__ import annotations

import io

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejing.catalog import services
from kejing.catalog.models import Product, Quote


def test_product_search_by_pinyin_and_category(tel, login):
    client = login(tel.tcm1)
    page = client.get("/catalog/?q=qxt").content.decode()
    assert "企信通" in page and "车务通" not in page
    page = client.get("/catalog/?category=iot").content.decode()
    assert "车务通" in page and "企信通" not in page
    assert "效能快信" in client.get("/catalog/?q=xiaonengkuaixin").content.decode()


def test_product_page_compares_packages_and_prices(tel, login):
    client = login(tel.tcm1)
    page = client.get("/catalog/products/CWT/").content.decode()
    assert "GPS定位A套餐" in page and "CELL-ID定位G套餐" in page and 'id="package-table"' in page
    page = client.get("/catalog/products/CWT/?calc=1&users=10&positionings=200000&interval_s=120").content.decode()
    assert "380.00" in page and "120" in page
    page = client.get("/catalog/products/JTVW/").content.decode()
    assert "后四位" in page  # FAQ shown
    assert client.get("/catalog/products/NOPE/").status_code == 404
    bad = client.get("/catalog/products/QXT/?calc=1&sms=-5").content.decode()
    assert "sms" in bad


def test_quote_page_flow_pdf_and_excel(tel, login):
    client = login(tel.tcm1)
    assert "华为示范公司" in client.get(f"/catalog/quotes/new/?customer={tel.e1.pk}").content.decode()
    resp = client.post("/catalog/quotes/new/", {"customer": tel.e1.pk, "title": "方案", "level": "urgent",
                                                "start_date": "2026-09-29"})  # fmt: skip
    quote = Quote.objects.get()
    assert resp.status_code == 302 and resp.url.endswith(f"/catalog/quotes/{quote.pk}/")
    form = client.get(f"/catalog/quotes/{quote.pk}/?product=YDGJ").content.decode()
    assert 'name="minutes_long"' in form
    client.post(f"/catalog/quotes/{quote.pk}/lines/", {"product": "YDGJ", "users": "10", "minutes_local": "1000",
                                                       "minutes_long": "800"})  # fmt: skip
    client.post(f"/catalog/quotes/{quote.pk}/lines/", {"product": "WXKD", "bandwidth_mbps": "3", "zone": "local_in"})
    quote.refresh_from_db()
    # 移动管家 240.00 (see test_engine) + 无线宽带 3M in-area 2750.00
    assert quote.monthly_total == 2990
    line = quote.lines.get(product__code="YDGJ")
    # urgent = 3 working days from Tue 29 Sep 2026: Wed 30, Thu 8 Oct, Fri 9 Oct
    assert str(line.opening_date) == "2026-10-09"
    page = client.get(f"/catalog/quotes/{quote.pk}/").content.decode()
    assert "2990.00" in page and "移动管家" in page
    pdf = client.get(f"/catalog/quotes/{quote.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/catalog/quotes/{quote.pk}/xlsx/")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "华为示范公司" in values and 2990.0 in values and 240.0 in values
    # a refused package: a clear message, nothing written
    resp = client.post(f"/catalog/quotes/{quote.pk}/lines/", {"product": "CWT", "interval_s": "60",
                                                              "package": "CWT-A"}, follow=True)  # fmt: skip
    assert "60" in resp.content.decode() and quote.lines.count() == 2
    client.post(f"/catalog/quotes/{quote.pk}/lines/{line.pk}/delete/")
    quote.refresh_from_db()
    assert quote.monthly_total == 2750
    client.post(f"/catalog/quotes/{quote.pk}/delete/")
    assert not Quote.objects.exists()


def test_quote_pages_of_another_cm_are_404(tel, quote1, login):
    client = login(tel.tcm2)
    base = f"/catalog/quotes/{quote1.pk}/"
    line = quote1.lines.get()
    for url in (base, base + "pdf/", base + "xlsx/", f"{base}?product=QXT"):
        assert client.get(url).status_code == 404, url
    for url in (base + "lines/", f"{base}lines/{line.pk}/delete/", base + "delete/"):
        assert client.post(url, {"product": "QXT", "sms": "1"}).status_code == 404, url
    assert client.get(f"/catalog/quotes/new/?customer={tel.e1.pk}").status_code == 404
    assert "年度方案" not in client.get("/catalog/quotes/").content.decode()
    assert quote1.lines.count() == 1
    # the market manager of tcm1 and tcm2 sees it; tcm3's manager-less market does not
    assert login(tel.tmm1).get(base).status_code == 200
    assert login(tel.tcm3).get(base).status_code == 404


def test_api_products_and_quote(tel, client, token_for):
    h = token_for(tel.tcm1)
    items = client.get("/api/catalog/products?q=qxt", **h).json()
    assert [p["code"] for p in items] == ["QXT"]
    detail = client.get("/api/catalog/products/QYYX", **h).json()
    assert len(detail["package_list"]) == 8 and detail["sla"] == {"standard": 5, "urgent": 3, "extra_urgent": 1}
    assert client.get("/api/catalog/products/999999", **h).status_code == 404
    body = {"product": "车务通", "usage": {"users": 10, "positionings": 200000, "interval_s": 120}}
    resp = client.post("/api/catalog/quote", body, content_type="application/json", **h)
    data = resp.json()
    assert resp.status_code == 200 and data["cheapest"] == {"main": "CWT-B"} and data["monthly"] == "380.00"
    assert data["packages"][0]["eligible"] is False and data["packages"][0]["reasons"]
    bad = client.post("/api/catalog/quote", {"product": "QXT", "usage": {"smss": 1}}, content_type="application/json",
                      **h)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["field"] == "smss"


def test_a_quote_into_next_year_is_priced_saved_and_shown_as_estimated(tel, client, token_for, login, official_to_2026):
    """A 22-working-day product quoted on 15 December 2026 ends in 2027, whose holiday schedule was not installed:
    before, the API answered 500 and the page an error; now the date is estimated and says so (1 January off:
    Tue 15 Dec + 22 = Fri 15 Jan)."""
    h = token_for(tel.tcm1)
    body = {"product": "GDKD", "usage": {"bandwidth_mbps": 10}, "start": "2026-12-15"}
    data = client.post("/api/catalog/quote", body, content_type="application/json", **h).json()
    assert data["opening"]["date"] == "2027-01-15" and data["opening"]["estimated"] is True
    body = {"customer_id": tel.e1.pk, "title": "跨年", "start_date": "2026-12-15",
            "lines": [{"product": "GDKD", "usage": {"bandwidth_mbps": 10}}]}  # fmt: skip
    resp = client.post("/api/catalog/quotes", body, content_type="application/json", **h)
    line = resp.json()["lines"][0]
    assert resp.status_code == 201 and line["opening_date"] == "2027-01-15" and line["opening_estimated"] is True
    assert "2027" in line["opening_note"]
    page = login(tel.tcm1).get(f"/catalog/quotes/{resp.json()['id']}/").content.decode()
    assert "2027-01-15" in page and "估算" in page
    bad = client.post("/api/catalog/quote", {**body, "product": "GDKD", "start": "1999-12-01"},
                      content_type="application/json", **h)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["field"] == "start"


def test_api_saved_quotes_are_scoped_and_atomic(tel, quote1, client, token_for):
    h1, h2 = token_for(tel.tcm1), token_for(tel.tcm2)
    assert [q["id"] for q in client.get("/api/catalog/quotes", **h1).json()] == [quote1.pk]
    assert client.get("/api/catalog/quotes", **h2).json() == []
    assert client.get(f"/api/catalog/quotes/{quote1.pk}", **h2).status_code == 404
    assert client.delete(f"/api/catalog/quotes/{quote1.pk}", **h2).status_code == 404
    got = client.get(f"/api/catalog/quotes/{quote1.pk}", **h1).json()
    assert got["monthly_total"] == "480.00" and got["lines"][0]["packages"] == ["QXT-400"]
    body = {"customer_id": tel.e1.pk, "title": "API", "lines": [{"product": "QXT", "usage": {"sms": 6000}},
            {"product": "CWT", "usage": {"interval_s": 60}, "package": "CWT-A"}]}  # fmt: skip
    resp = client.post("/api/catalog/quotes", body, content_type="application/json", **h1)
    assert resp.status_code == 400 and resp.json()["field"] == "lines[1].package"
    assert Quote.objects.count() == 1  # nothing half-written
    body["lines"].pop()
    resp = client.post("/api/catalog/quotes", body, content_type="application/json", **h1)
    assert resp.status_code == 201 and resp.json()["monthly_total"] == "480.00"
    body["customer_id"] = tel.e1.pk
    assert client.post("/api/catalog/quotes", body, content_type="application/json", **h2).status_code == 404


def _grow(tel, n: int) -> None:
    product = Product.objects.get(code="QXT")
    for i in range(n):
        q = services.create_quote(tel.tcm1.user, tel.e1, title=f"q{i}")
        services.add_line(tel.tcm1.user, q, product, {"sms": str(1000 * (i + 1))})


def test_list_queries_stay_flat(tel, login, client, token_for):
    _grow(tel, 2)
    web = login(tel.tcm1)
    h = token_for(tel.tcm1)
    counts = []
    for extra in (0, 6):
        _grow(tel, extra)
        row = []
        for url, kw in (("/catalog/quotes/", {}), ("/api/catalog/quotes", h), ("/catalog/", {}),
                        ("/api/catalog/products", h)):  # fmt: skip
            with CaptureQueriesContext(connection) as ctx:
                assert web.get(url, **kw).status_code == 200
            row.append(len(ctx))
        counts.append(row)
    assert counts[0] == counts[1], counts
