"""The Simplified-Chinese translation is complete, compiled, and what users see by default.

See docs/i18n.md for how to update the catalogue after changing user-facing strings.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

KEJING_DIR = Path(settings.BASE_DIR)
# The project catalogue (kejing/locale) and each module's own (kejing/<app>/locale), so modules built in
# parallel never edit the same file.
PO_PATHS = sorted(KEJING_DIR.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _strs(entry) -> tuple[str, ...]:
    """The translation(s) of one entry: ``(msgstr,)``, or every plural form in order."""
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def _pairs(catalogue) -> dict[tuple[str | None, str, str | None], tuple[str, ...]]:
    """``(msgctxt, msgid, msgid_plural) -> translations`` for every real entry (the header is left out)."""
    return {
        (e.msgctxt, e.msgid, e.msgid_plural or None): _strs(e) for e in catalogue if not e.obsolete and e.msgid != ""
    }


@pytest.fixture(scope="module", params=PO_PATHS, ids=lambda p: str(p.relative_to(KEJING_DIR)))
def po(request):
    catalogue = polib.pofile(str(request.param))
    catalogue.path = request.param
    return catalogue


def test_catalogue_header(po):
    assert po.metadata["Language"] == "zh_Hans"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_not_fuzzy(po):
    entries = [e for e in po if not e.obsolete]
    assert entries
    untranslated = [e.msgid for e in entries if not all(s.strip() for s in _strs(e))]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy (review, then remove the flag): {fuzzy}"


def test_committed_mo_matches_po(po):
    """A .po edited without running msgfmt again fails here (CI machines have no gettext tools)."""
    mo_path = po.path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run msgfmt (see docs/i18n.md)"
    committed = polib.mofile(str(mo_path))
    in_memory = polib.mofile(po.to_binary())  # the .po compiled now, as msgfmt would
    committed_pairs, expected_pairs = _pairs(committed), _pairs(in_memory)
    keys = committed_pairs.keys() | expected_pairs.keys()
    stale = sorted(key[1] for key in keys if committed_pairs.get(key) != expected_pairs.get(key))
    assert not stale, f"django.mo is stale, recompile it with msgfmt (see docs/i18n.md); differs in: {stale[:20]}"
    assert committed.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


def test_placeholders_are_kept(po):
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\{\w*\}")
    for entry in po:
        if entry.obsolete:
            continue
        wanted = sorted(placeholder.findall(entry.msgid_plural or entry.msgid))
        for translation in _strs(entry):
            assert sorted(placeholder.findall(translation)) == wanted, entry.msgid


@pytest.mark.django_db
def test_pages_render_in_chinese_by_default_and_in_english_on_request(org, login):
    client = login(org.cm1)
    page = client.get("/customers/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "客户" in page
    assert "导出到 Excel" in page
    assert "Export to Excel" not in page

    dashboard = client.get("/").content.decode()
    assert "我的工作台" in dashboard

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    assert response.status_code == 302
    page = client.get("/customers/").content.decode()
    assert "Export to Excel" in page
    assert "导出到 Excel" not in page


@pytest.mark.django_db
def test_login_page_is_chinese_for_anonymous_users(client):
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page
    assert "用户名" in page


@pytest.mark.django_db
def test_every_page_names_the_app_icon_and_favicon_ico_leads_to_it(client):
    # pages name the icon in <head>; the browser's own request for /favicon.ico (admin, API docs) is
    # redirected to the same file, so no page leaves a 404 in the console
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in page and "kejing/icon.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/kejing/icon.svg")
    from django.contrib.staticfiles import finders

    path = finders.find("kejing/icon.svg")
    assert path and open(path, encoding="utf-8").read().startswith("<svg")
