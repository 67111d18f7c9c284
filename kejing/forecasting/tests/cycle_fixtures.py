"""Fixtures of the monthly-cycle tests: a tiny ledger on the shared ``org`` fixture, a settable "today".

Imported explicitly by the test modules (not a conftest) so that the engine's tests keep their own space.
"""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest

from kejing.core.tabular import read_table

# The round in the tests forecasts December 2026; the CMs work on it in November.
TARGET = dt.date(2026, 12, 1)

# customer code, spec, Aug, Sep, Oct 2026 demand (cartons)
HISTORY = [
    ("C1", "JF01", 10, 12, 14),
    ("C1", "TH04", 4, 4, 4),
    ("C2", "JF01", 20, 20, 20),
    ("C2", "YL01", 6, 6, 6),
    ("C3", "JF01", 5, 5, 5),
]


def csv_table(text: str):
    return read_table(io.BytesIO(text.encode("utf-8")), filename="ledger.csv")


def ledger_csv(rows) -> str:
    lines = ["客户编码,规格编码,月份,需求量,供货量"]
    lines += [f"{c},{s},{m},{d},{sup}" for c, s, m, d, sup in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def on(monkeypatch):
    """``on(date)`` makes that date "today" for services, selectors, pages and the API."""
    from django.utils import timezone

    def _set(day: dt.date) -> dt.date:
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
        return day

    return _set


def load_history(org, on) -> None:
    """Specs and three months of ledger for the three shops (through the real importer); today 2026-11-02."""
    from kejing.forecasting import services

    on(dt.date(2026, 11, 2))
    services.load_specs()
    rows = []
    for code, spec, *demand in HISTORY:
        for month, d in zip(("2026-08", "2026-09", "2026-10"), demand, strict=True):
            rows.append((code, spec, month, d, d))
    report = services.import_ledger(org.admin.user, csv_table(ledger_csv(rows)), dry_run=False)
    assert report["ok"], report


@pytest.fixture
def cycle_ledger(org, on):
    """:func:`load_history`, no round yet."""
    load_history(org, on)
    return org


@pytest.fixture
def cycle_data(org, on):
    """:func:`load_history` with December's round open."""
    from kejing.forecasting import services

    load_history(org, on)
    return SimpleNamespace(org=org, round=services.open_round(TARGET))


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files and stored forecasts go to a folder of the test's own, which the test can look into."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def centre(org, on, media):
    """The shared org on 2 November 2026, with its own media folder: the tests of files checked and forecast."""
    on(dt.date(2026, 11, 2))
    return org
