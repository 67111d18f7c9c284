"""One month run end to end on a tiny dataset: tasks → three sources → merge → submit → balance → feedback →
accuracy. Dates are set explicitly, so the locks are tested on the days the manual names (L2771-L2821)."""

from __future__ import annotations

import datetime as dt

import pytest

from kejing.core.models import AuditLog, Job
from kejing.forecasting import services
from kejing.forecasting.models import Feedback, ForecastLine, LedgerEntry, PhaseTask, ShopKey, Submission
from kejing.forecasting.selectors import consolidation, report
from kejing.service.models import Task

from . import cycle_fixtures
from .cycle_fixtures import TARGET, csv_table, ledger_csv

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on


def _line(org, customer, spec):
    return ForecastLine.objects.get(round__target=TARGET, customer=customer, spec__code=spec)


def test_one_month_end_to_end(cycle_data, on, client, token_for, login):
    org, rnd = cycle_data.org, cycle_data.round
    # the round has a line per shop x spec it carried, and six phase tasks per CM
    assert ForecastLine.objects.filter(round=rnd).count() == 5
    assert PhaseTask.objects.filter(round=rnd, task__staff=org.cm1).count() == 6
    submit_task = PhaseTask.objects.get(round=rnd, phase="submit", task__staff=org.cm1).task
    assert submit_task.due == dt.date(2026, 11, 8)

    # days 1-6: the CM's interactive forecast (API) for his key customer, all lines
    on(dt.date(2026, 11, 3))
    assert services.suggest_key_customers(org.cm1, TARGET) == [org.c1.pk]  # ceil(1 x 50%) = 1 shop
    h1 = token_for(org.cm1)
    resp = client.put(
        f"/api/forecasting/forecasts/{org.c1.pk}",
        {"lines": [{"spec": "JF01", "quantity": 15}, {"spec": "TH04", "quantity": 4}]},
        content_type="application/json",
        **h1,
    )
    assert resp.status_code == 200 and resp.json() == {"changed": 2}
    # the shop C2 reports through its POS, authenticated as itself
    key, raw = ShopKey.objects.issue(org.c2)
    resp = client.post(
        "/api/forecasting/self-report",
        {"lines": [{"spec": "JF01", "quantity": 22}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert resp.status_code == 200 and resp.json() == {"changed": 1}
    # the model covers the rest (a background job with progress)
    resp = client.post("/api/forecasting/model-run", {}, content_type="application/json", **token_for(org.center))
    assert resp.status_code == 202
    job = Job.objects.get(pk=resp.json()["job"])
    assert job.status == Job.Status.DONE, job.result
    # merge: CM > self-report > model
    assert (_line(org, org.c1, "JF01").merged_qty, _line(org, org.c1, "JF01").source) == (15, "cm")
    assert (_line(org, org.c2, "JF01").merged_qty, _line(org, org.c2, "JF01").source) == (22, "self")
    assert _line(org, org.c3, "JF01").source == "model" and _line(org, org.c3, "JF01").model_qty is not None

    # days 7-8: the CM submits; his figures are locked, the task is done
    on(dt.date(2026, 11, 7))
    resp = client.post("/api/forecasting/submit", {}, content_type="application/json", **h1)
    assert resp.status_code == 200
    submit_task.refresh_from_db()
    assert submit_task.done_at is not None
    resp = client.put(
        f"/api/forecasting/forecasts/{org.c1.pk}",
        {"lines": [{"spec": "JF01", "quantity": 99}]},
        content_type="application/json",
        **h1,
    )
    assert resp.status_code == 400 and "locked" in resp.json()["detail"]
    # after the 8th the others are locked too, submitted or not
    on(dt.date(2026, 11, 9))
    with pytest.raises(services.ForecastError):
        services.enter_cm_forecast(org.cm2.user, rnd, org.c2, {"JF01": 1})
    assert _line(org, org.c1, "JF01").cm_qty == 15

    # consolidation by unit: u1 = 15 + 4, u2 = 22 + model(YL01)
    by_unit = {r["name"]: r for r in consolidation(org.center.user, rnd, "unit")}
    assert by_unit["一区"]["merged"] == 19 and by_unit["一区"]["by_cm"] == 2

    # days 17-20: the center decides supply and balances. JF01 in department 1: demand 15 (C1) + 22 (C2) = 37,
    # supply 30 -> 30*15/37 = 12.16, 30*22/37 = 17.84 -> 12 + 17 = 29, the last carton to the larger remainder
    # (.84, C2) -> C1 12, C2 18; TH04 has no supply row, so it keeps its merged 4.
    on(dt.date(2026, 11, 18))
    assert services.set_supply(org.center.user, rnd, [(2, {"spec": "JF01", "area": "T-D1", "quantity": "30"})]) == 1
    result = services.balance(org.center.user, rnd)
    assert result["placed"] == 30 and result["unplaced"] == 0
    assert _line(org, org.c1, "JF01").balanced_qty == 12
    assert _line(org, org.c2, "JF01").balanced_qty == 18
    assert _line(org, org.c1, "TH04").balanced_qty == 4
    # ... and flow back into the December ledger
    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=TARGET).allocated == 12

    # days 21-25: the CM tells the shop; the shop records it in its ledger; the feedback task closes
    on(dt.date(2026, 11, 22))
    resp = client.post(
        f"/api/forecasting/feedback/{org.c1.pk}",
        {"guidance": "分两次订货"},
        content_type="application/json",
        **h1,
    )
    assert resp.status_code == 200
    entry = LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=TARGET)
    assert (entry.recorded_forecast, entry.guidance) == (12, "分两次订货")
    assert Feedback.objects.filter(round=rnd).count() == 1
    fb_task = PhaseTask.objects.get(round=rnd, phase="feedback", task__staff=org.cm1).task
    assert fb_task.done_at is not None

    # December is over: the ledger brings the real orders; January's meeting shows the accuracy.
    on(dt.date(2027, 1, 4))
    actual = [
        ("C1", "JF01", "2026-12", 14, 12),
        ("C1", "TH04", "2026-12", 5, 4),
        ("C2", "JF01", "2026-12", 20, 18),
        ("C3", "JF01", "2026-12", 6, 6),
    ]
    assert services.import_ledger(org.admin.user, csv_table(ledger_csv(actual)), dry_run=False)["ok"]
    data = report(org.cm1.user, [TARGET], "cm")
    [row] = data["rows"]  # a CM sees only his own figures
    # forecast 15, 4; demand 14, 5; supplied 12, 4; balanced 12, 4
    # accuracy = 1 - (|15-14| + |4-5|) / (14+5) = 1 - 2/19 = 0.8947
    # fulfilment = (12+4)/19 = 0.8421; take-up = (min(14,12) + min(5,4)) / (12+4) = 1; bias = (1-1)/19 = 0
    assert row["values"]["accuracy"] == pytest.approx(0.8947, abs=1e-4)
    assert row["values"]["fulfilment"] == pytest.approx(0.8421, abs=1e-4)
    assert row["values"]["fill"] == pytest.approx(1.0)
    assert row["values"]["bias"] == pytest.approx(0.0)
    page = login(org.mm1).get("/forecasting/meeting/").content.decode()
    assert "一区" in page and "二区" in page and "三区" not in page and "89.5%" in page
    # everything left a trace
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {
        "forecast_cm",
        "forecast_self",
        "forecast_model",
        "forecast_submit",
        "supply",
        "forecast_balance",
        "forecast_feedback",
        "ledger_import",
    } <= actions
    assert Submission.objects.filter(round=rnd).count() == 1
    assert Task.objects.filter(staff=org.cm1, done_at__isnull=True, due__lt=dt.date(2027, 1, 4)).exists()
