"""The model check: a manager backtests the model on his own units' history (page, job, API, Excel), scoped,
validated, read-only."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pytest

from kejing.core.models import AuditLog, Job
from kejing.forecasting import services
from kejing.forecasting.engine import backtest
from kejing.forecasting.models import LedgerEntry, Spec, UnitHistory

from . import cycle_fixtures

on = cycle_fixtures.on

MONTHS = 30  # May 2024 - October 2026


def _series(k: int) -> list[int]:
    """Series k: 100 k + t + 10 in January (t = 0 .. 29 from May 2024). Last year's same month is always off by
    exactly the 12 months of trend, 12, in and out of sample: the seasonal naive's MASE is 12 / 12 = 1."""
    months = [dt.date(2024 + (4 + t) // 12, (4 + t) % 12 + 1, 1) for t in range(MONTHS)]
    return [100 * k + t + (10 if m.month == 1 else 0) for t, m in enumerate(months)]


def _load(org, noise: int = 0) -> None:
    """Two specs in each of the three units: series 1 .. 6, plus whole-number noise of up to ``noise``."""
    services.load_specs()
    specs = list(Spec.objects.order_by("code")[:2])
    rng = np.random.default_rng(7)
    rows, k = [], 1
    for unit in (org.u1, org.u2, org.u3):
        for spec in specs:
            for t, y in enumerate(_series(k)):
                month = dt.date(2024 + (4 + t) // 12, (4 + t) % 12 + 1, 1)
                y += int(rng.integers(-noise, noise + 1)) if noise else 0
                rows.append(UnitHistory(unit=unit, spec=spec, month=month, demand=y, supplied=y))
            k += 1
    UnitHistory.objects.bulk_create(rows)


@pytest.fixture
def history(org, on):
    on(dt.date(2026, 11, 2))
    _load(org)
    return org


def _run(client, **form):
    data = {"horizon": "2", "folds": "3", "auto_ets": "1", **form}
    resp = client.post("/forecasting/model/check/", data)
    assert resp.status_code == 302
    return resp


def test_the_center_checks_every_series_with_hand_worked_seasonal_naive(history, login):
    client = login(history.center)
    before = (UnitHistory.objects.count(), LedgerEntry.objects.count(), AuditLog.objects.count())
    resp = _run(client)
    job = Job.objects.get(kind="forecast_check")
    assert job.status == Job.Status.DONE, job.result
    r = job.result
    # 3 units x 2 specs; 3 origins 2 months apart, each scoring 2 months: 6 x 3 = 18 windows
    assert (r["series"], r["windows"], r["horizon"], r["folds"]) == (6, 18, 2, 3)
    assert (r["first_month"], r["last_month"], r["scope"]) == (
        "2024-05",
        "2026-10",
        "",
    )  # 30 months exist of the 36 looked at
    assert set(r["methods"]) == {"kejing", "seasonal_naive", "auto_ets"}
    # seasonal naive: every error is 12 and every scale is 12, so MASE = 1.0; WAPE = 12 x 36 scored months /
    # the sum of those months' sales (each series' last 6 months: the 3 folds cut 2, 4 and 6 months back)
    sn = r["methods"]["seasonal_naive"]
    assert sn["mase"] == pytest.approx(1.0)
    actual = sum(sum(_series(k)[-6:]) for k in range(1, 7))
    assert sn["wape"] == pytest.approx(12 * 36 / actual, abs=1e-4)
    # AutoETS finds the trend and the season exactly (MASE 0), so there is no ratio to give
    assert r["methods"]["auto_ets"]["mase"] == 0.0 and "kejing_vs_auto_ets" not in r
    assert sum(n for _, n in r["models"]) == 18
    # a fixed order for the page and the Excel (PostgreSQL's jsonb does not keep the methods dict's order)
    assert [m["method"] for m in r["rows"]] == ["kejing", "seasonal_naive", "auto_ets"]
    page = client.get(resp["Location"]).content.decode()
    assert 'id="check-table"' in page and 'id="check-ratio"' not in page
    assert 'id="check-list"' in client.get("/forecasting/model/check/").content.decode()
    # by region unit: 2 series each, and the seasonal naive is exactly 1.0 in every group too
    assert [(g["label"], g["series"], g["windows"]) for g in r["by_unit"]] == [
        (u.name, 2, 6) for u in sorted((history.u1, history.u2, history.u3), key=lambda u: u.name)
    ]
    by_price = {g["key"]: g["series"] for g in r["by_price_class"]}
    assert sum(by_price.values()) == 6 and set(by_price) <= {"high", "mid", "low"}
    for g in r["by_unit"] + r["by_price_class"]:
        assert [m["method"] for m in g["rows"]] == ["kejing", "seasonal_naive", "auto_ets"]
        assert g["rows"][1]["mase"] == pytest.approx(1.0)
    assert 'id="check-units"' in page and 'id="check-price"' in page
    # Excel: a row per method for all series, then for each price class and each unit
    rows = _xlsx(client, job)
    groups = 1 + len(r["by_price_class"]) + 3
    assert len(rows) == 1 + 3 * groups and rows[0][2] == "MASE"
    assert rows[2][1] in ("季节朴素法", "Seasonal naive") and rows[2][2] == pytest.approx(1.0)
    # it read and wrote nothing
    assert (UnitHistory.objects.count(), LedgerEntry.objects.count(), AuditLog.objects.count()) == before


def _xlsx(client, job) -> list[tuple]:
    resp = client.get(f"/forecasting/model/check/{job.pk}/export/")
    assert resp.status_code == 200
    return list(openpyxl.load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))


def test_on_noisy_sales_the_figures_are_the_engines_and_the_ratio_is_shown(org, login, on):
    on(dt.date(2026, 11, 2))
    _load(org, noise=6)
    client = login(org.center)
    resp = _run(client)
    job = Job.objects.get(kind="forecast_check")
    r = job.result
    frame = services.history_frame(dt.date(2026, 10, 1), 36)
    direct = backtest(
        frame,
        2,
        3,
        methods=("kejing", "seasonal_naive", "auto_ets"),
        spring_festival=services.festival_setting(),
        settings=services.model_settings(),
    )
    for name in ("kejing", "seasonal_naive", "auto_ets"):
        assert r["methods"][name]["mase"] == direct["methods"][name]["mase"]
        assert r["methods"][name]["wape"] == direct["methods"][name]["wape"]
    assert r["kejing_vs_auto_ets"] == direct["kejing_vs_auto_ets"]
    # each unit's figures are those of the engine's backtest scored on that unit's series alone
    by_unit = backtest(
        frame,
        2,
        3,
        methods=("kejing", "auto_ets"),
        groups={u: u.split(":")[0] for u in frame["unique_id"].unique()},
        spring_festival=services.festival_setting(),
        settings=services.model_settings(),
    )["groups"]
    for g in r["by_unit"]:
        mine = by_unit[str(g["key"])]
        assert g["series"] == mine["series"] == 2
        assert g["rows"][0]["mase"] == mine["kejing"]["mase"] and g["rows"][2]["mase"] == mine["auto_ets"]["mase"]
        assert g["mase_ratio"] == round(mine["kejing"]["mase"] / mine["auto_ets"]["mase"], 4)
    page = client.get(resp["Location"]).content.decode()
    assert 'id="check-ratio"' in page and str(r["kejing_vs_auto_ets"]["mase_ratio"]) in page
    rows = _xlsx(client, job)
    assert rows[-1][2] == r["kejing_vs_auto_ets"]["mase_ratio"]


def test_a_market_manager_checks_only_his_units(history, login, token_for):
    client = login(history.mm1)
    _run(client, auto_ets="")
    r = Job.objects.get(kind="forecast_check").result
    assert r["series"] == 4 and r["scope"] == history.m1.name  # u1 and u2, not u3
    assert set(r["methods"]) == {"kejing", "seasonal_naive"}
    # his job is his: another manager sees neither its page nor its Excel
    job = Job.objects.get(kind="forecast_check")
    other = login(history.mm2)
    assert other.get(f"/accounts/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/forecasting/model/check/{job.pk}/export/").status_code == 404
    # the API: mm2 checks his own unit (u3: 2 series); the job's result through the jobs endpoint
    resp = other.post(
        "/api/forecasting/model-check",
        {"horizon": 1, "folds": 2, "auto_ets": False},
        content_type="application/json",
        **token_for(history.mm2),
    )
    assert resp.status_code == 202
    job2 = resp.json()["job"]
    status = other.get(f"/api/forecasting/jobs/{job2}", **token_for(history.mm2)).json()
    assert status["status"] == "done" and status["result"]["series"] == 2 and status["result"]["windows"] == 4


def test_cms_may_not_and_bad_settings_are_named(history, login, token_for):
    cm = login(history.cm1)
    assert cm.get("/forecasting/model/check/").status_code == 404
    assert cm.post("/forecasting/model/check/", {"horizon": "2", "folds": "3"}).status_code == 404
    resp = cm.post("/api/forecasting/model-check", {}, content_type="application/json", **token_for(history.cm1))
    assert resp.status_code == 403
    with pytest.raises(services.NotAllowed):
        services.check_model(history.cm1.user, 2, 3)
    client = login(history.center)
    resp = client.post("/forecasting/model/check/", {"horizon": "0", "folds": "x"}, follow=True)
    page = resp.content.decode()
    assert "horizon must be a whole number from 1 to 12" in page and "folds must be a whole number from 1 to 6" in page
    resp = client.post(
        "/api/forecasting/model-check",
        {"horizon": 13, "folds": 3},
        content_type="application/json",
        **token_for(history.center),
    )
    assert resp.status_code == 400 and "horizon" in resp.json()["detail"]
    assert not Job.objects.filter(kind="forecast_check").exists()


def test_no_history_is_a_clear_failure(org, login, on):
    on(dt.date(2026, 11, 2))
    client = login(org.center)
    _run(client)
    job = Job.objects.get(kind="forecast_check")
    assert job.status == Job.Status.FAILED and "no sales history" in job.result["error"]
    assert "no sales history" in client.get(f"/accounts/jobs/{job.pk}/").content.decode()


def test_series_formula_is_what_the_docstring_says():
    y = np.array(_series(1))
    # May 2024 is t = 0; January 2025 is t = 8 and carries the +10; January 2026 is t = 20
    assert y[0] == 100 and y[8] == 118 and y[20] == 130 and y[21] == 121


def test_the_month_in_progress_is_left_out(history, login, on):
    # on 2 October 2026 October has begun: the check ends with September (29 months, 2024-05 .. 2026-09)
    on(dt.date(2026, 10, 2))
    _run(login(history.center), auto_ets="")
    r = Job.objects.get(kind="forecast_check").result
    assert (r["first_month"], r["last_month"], r["series"]) == ("2024-05", "2026-09", 6)


def test_a_series_that_ended_earlier_is_left_out(history, login):
    # series 1 (unit 1, first spec) stops in August 2026: the model job no longer forecasts it, nor does the check
    spec = Spec.objects.order_by("code").first()
    UnitHistory.objects.filter(unit=history.u1, spec=spec, month__gt=dt.date(2026, 8, 1)).delete()
    _run(login(history.center), auto_ets="")
    assert Job.objects.get(kind="forecast_check").result["series"] == 5
