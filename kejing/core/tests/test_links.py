"""Every link a page shows leads somewhere for the user it is shown to.

A crawler logs in as each demo role and follows the links of the pages it reaches (the same page shape with other
ids at most twice). A link to a page that answers 404 or 403 to that user, or a page that fails, is a bug the
user meets at once: a market manager's scorecard once linked to the grading rounds, which only the committee and
leadership may open. The browser test visits the menus on a phone; this one goes past the menus, into lists,
object pages and the links between modules."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin, urlparse

import pytest

ROLES = [
    "cm001",
    "mm01",
    "head01",
    "center01",
    "committee01",
    "monopoly01",
    "admin",
    "tcm01",
    "tmm01",
    "bcm01",
    "bmm01",
    "trainer01",
]
# Files, the admin site (Django's own) and actions that a GET would still not perform are not followed.
NOT_FOLLOWED = re.compile(r"^/(admin|api|static|media)/|/logout|export=|\.pdf|\.xlsx|\.csv|/download")
PER_ROLE = 150


def _crawl(client, start: str = "/") -> tuple[int, list[str]]:
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue, fetched, problems = [start], 0, []
    while queue and fetched < PER_ROLE:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        shape = re.sub(r"\d+", "N", urlparse(url).path)
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] > 2:
            continue
        response = client.get(url)
        fetched += 1
        if response.status_code not in (200, 302):
            problems.append(f"{url} → {response.status_code} (linked from a page this user saw)")
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#]*)"', response.content.decode()):
            href = href.replace("&amp;", "&")
            if not href or href.startswith(("tel:", "mailto:", "javascript:", "?")):
                continue
            parsed = urlparse(urljoin(url, href))
            if parsed.netloc not in ("", "testserver"):
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if not NOT_FOLLOWED.search(path) and path not in seen:
                queue.append(path)
    return fetched, problems


@pytest.fixture
def demo_site(policies, monkeypatch):
    from django.utils import timezone

    from kejing import demo

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 11, 27))
    demo.build(customers=300)


def test_no_link_leads_to_an_error(demo_site, client):
    from django.contrib.auth import get_user_model

    problems = []
    for username in ROLES:  # one demo for every role: building it is most of the time
        client.force_login(get_user_model().objects.get(username=username))
        fetched, found = _crawl(client)
        assert fetched >= 10, f"{username} reached only {fetched} pages"
        problems += [f"{username}: {p}" for p in found]
        client.logout()
    assert not problems, "\n".join(problems)
