"""Every page a role reaches from the header menu, on a 375-px phone, with the demo's data: it loads (no server
error) and does not scroll sideways. New modules are covered as soon as they add a menu entry."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD
from .test_journey import _assert_no_horizontal_scroll, _log_in

pytestmark = pytest.mark.browser

ROLES = ["cm001", "mm01", "center01", "committee01", "monopoly01", "tcm01", "tmm01", "bcm01", "admin"]


@pytest.fixture
def demo_data(transactional_db, live_server):
    from kejing import demo
    from kejing.core.policies import load_policy_files

    load_policy_files()
    demo.build(customers=300, password=PASSWORD)


@pytest.mark.parametrize("username", ROLES)
def test_menu_pages_load_and_fit_a_phone(demo_data, live_server, phone, shot, username):
    page, base = phone, live_server.url
    # every request of every page (styles, scripts, icons, charts) must succeed, and no script may fail
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: failed.append(f"script error: {e}"))
    _log_in(page, base, username)
    assert "/accounts/login/" not in page.url, f"{username} could not log in"
    links = page.eval_on_selector_all("nav.menu a", "els => els.map(e => e.getAttribute('href'))")
    links = [h for h in dict.fromkeys(links) if h and not h.startswith(("/admin/", "/api/"))]
    assert len(links) >= 4, links
    # one object page per role too: the first customer of the list
    page.goto(f"{base}/customers/")
    first = page.locator("#customer-table tbody a").first
    if first.count():
        links.append(first.get_attribute("href"))
    if username in ("cm001", "mm01"):
        # pages of the monthly cycle's own menu: special orders, the month-end survey and one shop's survey form
        links += ["/forecasting/special/", "/forecasting/survey/"]
        page.goto(f"{base}/forecasting/survey/")
        shop = page.locator("#survey-shops a").first
        if shop.count():
            links.append(shop.get_attribute("href"))
    if username == "cm001":
        # the key-customer list is edited with a checkbox per shop on the phone: big enough to tap
        page.goto(f"{base}/forecasting/key/")
        box = page.locator("#key-table input[type=checkbox]").first.bounding_box()
        assert box and box["width"] >= 20 and box["height"] >= 20, box
    if username == "mm01":
        links.append("/forecasting/model/check/")  # managers only: a CM gets 404 (test_model_check.py)
        # the model check on the phone: without AutoETS it ends at once, and its table fits the screen
        page.goto(f"{base}/forecasting/model/check/")
        page.uncheck("#check-form input[name=auto_ets]")
        page.click("#check-form button[type=submit]")
        page.wait_for_selector("#check-table", timeout=60_000)
        assert page.locator("#check-table tbody tr").count() == 2  # Kejing and the seasonal naive
        _assert_no_horizontal_scroll(page, "mm01 model check result")
        shot(page, "mm01-model-check")
        # the same check on a file he uploads: three series of 30 months with Chinese headers, without AutoETS
        rows = ["规格,月份,销量"] + [
            f"S{k},{2024 + t // 12}-{t % 12 + 1:02d},{100 * k + t + (9 if t % 12 == 0 else 0)}"
            for k in (1, 2, 3)
            for t in range(30)
        ]
        page.goto(f"{base}/forecasting/model/check/")
        page.set_input_files(
            "#check-file-form input[name=file]",
            {"name": "历史销量.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()},
        )
        page.uncheck("#check-file-form input[name=auto_ets]")
        page.click("#check-file-form summary")  # the column fields, folded away until asked for
        shot(page, "mm01-file-form")
        page.click("#check-file-form button[type=submit]")
        page.wait_for_selector("#check-table", timeout=60_000)
        assert "历史销量.csv" in page.inner_text("#job-summary")
        assert "规格 → unique_id" in page.inner_text("#check-reading")
        _assert_no_horizontal_scroll(page, "mm01 file check result")
        shot(page, "mm01-file-check")
        # and the forecast of that file: the preview of its rows fits the phone, the workbook downloads
        links.append("/forecasting/model/file/")
        page.goto(f"{base}/forecasting/model/file/")
        page.set_input_files(
            "#forecast-file-form input[name=file]",
            {"name": "历史销量.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()},
        )
        page.click("#forecast-file-form button[type=submit]")
        page.wait_for_selector("#forecast-preview", timeout=60_000)
        assert page.locator("#forecast-preview tbody tr").count() == 9  # 3 series x 3 months
        _assert_no_horizontal_scroll(page, "mm01 file forecast result")
        shot(page, "mm01-file-forecast")
        with page.expect_download() as download:
            page.click("#job-summary a.btn >> nth=0")
        assert download.value.suggested_filename.endswith(".xlsx")
    if username in ("cm001", "center01"):
        links.append("/forecasting/specs/")
    if username == "center01":
        # the spec catalogue on the phone: a file with one new spec and one re-priced, checked, then imported
        catalogue = (
            "规格编码,品牌,规格名称,价类,批发价(元/条),上市日期\nJF09,晋风,晋风(冰爽),中价位,238,2026-12\nJF01,,,,88,\n"
        )
        for dry_run in (True, False):
            page.goto(f"{base}/forecasting/specs/")
            page.set_input_files(
                "#spec-import input[name=file]",
                {"name": "规格目录.csv", "mimeType": "text/csv", "buffer": catalogue.encode()},
            )
            page.set_checked("#spec-import input[name=dry_run]", dry_run)
            page.click("#spec-import button[type=submit]")
            page.wait_for_load_state()
            if dry_run:
                changes = page.inner_text("#import-changes")
                assert "JF09" in changes and "85.00 → 88.00" in changes, changes
                _assert_no_horizontal_scroll(page, "center01 spec dry run")
                shot(page, "center01-spec-dry-run")
        assert "新增 1 个,修改 1 个" in page.inner_text(".messages"), page.inner_text("main")[:500]
        page.fill("#spec-filter input[name=q]", "JF09")
        page.click("#spec-filter button[type=submit]")
        page.click("#spec-list a >> text=JF09")
        assert page.input_value("#price") == "238.00"
        assert "spec_create" not in page.content() and "晋风(冰爽)" in page.inner_text("#spec-history")
        links.append(page.url.removeprefix(base))
    for href in links:
        resp = page.goto(base + href)
        assert resp is not None and resp.status == 200, f"{username}: {href} answered {resp and resp.status}"
        assert "Server Error" not in page.content()
        _assert_no_horizontal_scroll(page, f"{username} {href}")
    assert not failed, f"{username}: {failed}"
    shot(page, f"{username}-last")
