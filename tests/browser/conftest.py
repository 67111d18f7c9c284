"""Fixtures for the Playwright browser tests (run with ``pytest -m browser tests/browser``).

They drive Debian's Chromium (``/usr/bin/chromium``) against pytest-django's ``live_server``; Playwright's own
browser downloads are never used. Screenshots go to ``test-results/`` (git-ignored) at the repository root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("KEJING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PHONE = {"width": 375, "height": 812}
PASSWORD = "Browser-test-2026"  # set on every staff member by ``browser_org``


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; skipped, with the reason, where it cannot run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[browser]'"
    )
    # Playwright's sync API runs an asyncio loop in this thread, and Django's ORM refuses to run inside one
    # unless told. Set only while a browser is up, so the rest of the suite keeps Django's safety check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield b
            b.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser):
    """A fresh page in its own context at a 375x812 phone viewport, Chinese first (the demo's language)."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(request):
    """``shot(page, "name")`` saves a full-page screenshot as ``test-results/<test>-<nn>-<name>.png``."""
    RESULTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))
    test = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)

    def _shot(page, name: str) -> Path:
        path = RESULTS / f"{test}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def browser_org(transactional_db, live_server, org):
    """The root conftest's ``org`` (cm1, mm1, center, admin; customers c1-c3), visible to the live server.

    ``org`` asks for ``db``; because ``transactional_db`` and ``live_server`` are requested too, pytest-django
    gives a real, committed database (flushed afterwards) that the server thread can read. Every staff
    member's password is set to ``PASSWORD`` here, so these tests do not depend on the root conftest's.
    """
    from django.contrib.auth.models import User

    for user in User.objects.all():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return org
