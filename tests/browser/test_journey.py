"""End-to-end journeys in Chromium: a customer manager on a phone logs a visit and asks for a new order cycle;
the market manager, the center and the administrator approve it; the customer page shows the whole trail.

Run with ``pytest -m browser tests/browser`` (the default ``pytest`` run leaves these out).
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE_WIDTH = 375


def _log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


def _log_out(page) -> None:
    page.click("#logout")
    page.wait_for_url(re.compile(r"/accounts/login/"))


def _assert_no_horizontal_scroll(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE_WIDTH:
        # Name the innermost elements that stick out: those are what to fix.
        wide = page.evaluate(
            """(limit) => {
                const out = e => e.getBoundingClientRect().right > limit + 0.5;
                return [...document.querySelectorAll('body *')]
                    .filter(e => out(e) && ![...e.children].some(out)).slice(0, 6)
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                        + (typeof e.className === 'string' && e.className
                           ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                        + ' right=' + Math.round(e.getBoundingClientRect().right)
                        + ' "' + (e.innerText || '').slice(0, 40) + '"');
            }""",
            PHONE_WIDTH,
        )
        pytest.fail(
            f"{where}: the page is {width}px wide at a {PHONE_WIDTH}px viewport, so it scrolls "
            f"sideways; innermost elements sticking out: {wide}"
        )


def _labels(lang: str) -> dict[str, str]:
    """The texts the pages show, from the translations the server uses (so no language is hard-coded)."""
    from kejing.core.templatetags.kejing import ACTIONS
    from kejing.customers.models import ChangeRequest
    from kejing.customers.rules import rules_for

    rules = rules_for("tobacco")
    with translation.override(lang):
        return {
            "request": str(ACTIONS["request"]),
            "approve": str(ACTIONS["approve"]),
            "update": str(ACTIONS["update"]),
            "pending": str(ChangeRequest.Status.PENDING.label),
            "applied": str(ChangeRequest.Status.APPLIED.label),
            "W1": rules.label("order_cycle", "W1"),
            "W2": rules.label("order_cycle", "W2"),
        }


def _to_w2(change: str, text: dict[str, str]) -> bool:
    """Whether a "before → after" text is the order cycle going to W2 (shown as its code or its label)."""
    return bool(re.search(rf"→\s*(W2|{re.escape(text['W2'])})\b", change))


def _history(page) -> list[dict[str, str]]:
    """The rows of the customer's change history (#history), newest first, by column."""
    rows = page.locator("#history tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.innerText.trim()))"
    )
    keys = ("when", "who", "what", "change", "approved_by")
    return [dict(zip(keys, cells, strict=False)) for cells in rows if len(cells) == len(keys)]


def _approve(page, base: str, username: str, request_pk: int, shot, name: str) -> None:
    _log_in(page, base, username)
    page.goto(f"{base}/customers/approvals/")
    card = page.locator(f"#request-{request_pk}")
    assert card.count() == 1, f"{username} does not see request #{request_pk} on the approvals page"
    shot(page, name)
    card.locator("button[name=decision][value=approve]").click()
    page.wait_for_load_state()
    assert page.locator(f"#request-{request_pk}").count() == 0, f"#{request_pk} still waits for {username}"
    _log_out(page)


def test_cm_visit_and_order_cycle_change_approved_up_the_chain(browser_org, live_server, phone, shot):
    from kejing.customers.models import ChangeRequest, Customer
    from kejing.service.models import Visit

    org, page, base = browser_org, phone, live_server.url
    c1 = org.c1
    text = _labels("zh-hans")

    # --- The CM, on a 375 px phone: find the customer by pinyin initials.
    _log_in(page, base, "cm1")
    assert "/accounts/login/" not in page.url, "cm1 could not log in"
    shot(page, "cm-dashboard")
    page.goto(f"{base}/customers/")
    page.fill("#q", "zgyd")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=zgyd"))
    rows = page.locator("#customer-table tbody tr")
    assert rows.count() == 1, f"searching 'zgyd' should find only {c1.name}, got {rows.count()} rows"
    link = page.get_by_role("link", name=c1.name)
    assert link.count() == 1
    shot(page, "cm-customer-list")
    _assert_no_horizontal_scroll(page, "customer list")
    link.click()
    page.wait_for_url(re.compile(rf"/customers/{c1.pk}/$"))
    assert c1.name in page.locator("#customer-name").inner_text()
    shot(page, "cm-customer-page")
    _assert_no_horizontal_scroll(page, "customer page")

    # --- Log a visit.
    page.click("#log-visit")
    page.wait_for_url(re.compile(rf"/visits/log/{c1.pk}/$"))
    _assert_no_horizontal_scroll(page, "visit form")
    findings = "店内卷烟陈列杂乱,价签缺失三处"
    guidance = "建议按价位段重新陈列并补齐价签"
    page.fill("#findings", findings)
    page.fill("#guidance", guidance)
    shot(page, "cm-visit-form")
    page.click("#save-visit")
    page.wait_for_url(re.compile(rf"/customers/{c1.pk}/$"))
    visits = page.locator("#visits")
    assert findings in visits.inner_text() and guidance in visits.inner_text()
    assert Visit.objects.filter(customer=c1, cm=org.cm1, findings=findings).count() == 1
    shot(page, "cm-customer-page-after-visit")
    _assert_no_horizontal_scroll(page, "customer page with a visit")

    # --- Ask for a two-weekly order cycle (needs market manager → center → admin).
    page.click("#edit-customer")
    page.wait_for_url(re.compile(rf"/customers/{c1.pk}/edit/$"))
    _assert_no_horizontal_scroll(page, "edit form")
    page.select_option("#f-order_cycle", "W2")
    page.fill("#reason", "客户资金周转慢,申请改为两周订货一次")
    shot(page, "cm-edit-form")
    page.locator("#edit-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/customers/{c1.pk}/$"))
    req = ChangeRequest.objects.get(customer=c1, field="order_cycle")
    assert (req.status, req.new_value, req.current_role) == ("pending", "W2", "market_manager")
    c1.refresh_from_db()
    assert c1.order_cycle == "W1", "the order cycle must not change before the approvals"
    assert text["pending"] in page.locator("#requests").inner_text()
    shot(page, "cm-customer-page-request-sent")
    _log_out(page)

    # --- The market manager approves (first of three steps).
    _approve(page, base, "mm1", req.pk, shot, "mm1-approvals")
    req.refresh_from_db()
    assert (req.status, req.current_role) == ("pending", "center")

    _log_in(page, base, "mm1")
    page.goto(f"{base}/customers/{c1.pk}/")
    history = _history(page)
    assert any(
        h["who"] == "cm1" and h["what"].startswith(text["request"]) and _to_w2(h["change"], text) for h in history
    ), f"no order-cycle request by cm1 in #history: {history}"
    assert any(
        h["who"] == "mm1" and h["what"].startswith(text["approve"]) and _to_w2(h["change"], text) for h in history
    ), f"no approval by mm1 in #history: {history}"
    requests_text = page.locator("#requests").inner_text()
    assert text["pending"] in requests_text and "mm1" in requests_text, requests_text
    shot(page, "mm1-customer-page")
    _log_out(page)

    # --- The center and the administrator finish the chain; the value is written.
    _approve(page, base, "center", req.pk, shot, "center-approvals")
    _approve(page, base, "admin", req.pk, shot, "admin-approvals")
    req.refresh_from_db()
    assert req.status == "applied"
    assert Customer.objects.get(pk=c1.pk).order_cycle == "W2"

    # --- Back to the CM's phone: the new cycle, the full trail and the "inform the customer" task.
    _log_in(page, base, "cm1")
    page.goto(f"{base}/customers/{c1.pk}/")
    attrs = page.locator("dl.attrs").inner_text()
    assert text["W2"] in attrs, f"order cycle should read {text['W2']!r}: {attrs}"
    requests_text = page.locator("#requests").inner_text()
    assert text["applied"] in requests_text
    for who in ("mm1", "center", "admin"):
        assert who in requests_text, f"decision by {who} missing from #requests: {requests_text}"
    applied = [h for h in _history(page) if h["what"].startswith(text["update"]) and _to_w2(h["change"], text)]
    assert len(applied) == 1, f"expected one applied order-cycle change in #history: {_history(page)}"
    assert (applied[0]["who"], applied[0]["approved_by"]) == ("cm1", "admin"), applied[0]
    shot(page, "cm-customer-page-approved")
    _assert_no_horizontal_scroll(page, "customer page after approval")


def test_five_wrong_passwords_lock_the_account(browser_org, live_server, phone, shot):
    """django-axes: the fifth wrong password locks cm1 out, and then even the right one is refused."""
    page, base = phone, live_server.url
    for attempt in range(1, 6):
        _log_in(page, base, "cm1", password=f"wrong-password-{attempt}")
        assert page.locator("#logout").count() == 0, f"attempt {attempt} with a wrong password logged in"
        if attempt < 5:
            assert page.locator("#id_password").count() == 1, f"attempt {attempt}: no login form again"
            assert page.locator("main .error").count() == 1, f"attempt {attempt}: no 'wrong password' message"
    _log_in(page, base, "cm1")  # the right password, now too late
    shot(page, "locked-out")
    assert page.locator("#logout").count() == 0, "the right password after five failures must not log in"
    assert page.locator("#id_password").count() == 0, "expected the lock-out page, got the login form again"
    assert "15" in page.locator("main").inner_text(), "the lock-out page should say for how long (15 minutes)"
    page.goto(f"{base}/customers/")
    assert "/accounts/login/" in page.url, "a locked-out user must not reach the customer list"
