"""The model run reaches the target month from the ledger's latest month, whatever month each series stopped in
and however late last month's ledger is (services._to_common_end).

History (cycle_fixtures): August to October 2026, C1 TH04 4 / 4 / 4 cartons (C1's unit has no other TH04 shop,
so that unit x spec series is flat at 4 and the engine forecasts 4 for any month ahead, with no interval).
"""

from __future__ import annotations

import datetime as dt

from kejing.forecasting import services
from kejing.forecasting.models import ForecastLine, UnitHistory

from . import cycle_fixtures

cycle_ledger, on = cycle_fixtures.cycle_ledger, cycle_fixtures.on


def _model(rnd, code: str, spec: str) -> int | None:
    return ForecastLine.objects.get(round=rnd, customer__code=code, spec__code=spec).model_qty


def test_a_late_ledger_lengthens_the_horizon_and_is_said(cycle_ledger, on):
    # on 4 January 2027 the CMs forecast February; last month (December) and November are not in the ledger:
    # the model forecasts from October, 4 months ahead (November, December, January, February)
    on(dt.date(2027, 1, 4))
    rnd = services.open_round(dt.date(2027, 2, 1), today=dt.date(2027, 1, 4))
    # the lines are the shops' specs of the last three months before the target's month in progress (Oct-Dec):
    # only October is in, and every shop ordered then
    assert ForecastLine.objects.filter(round=rnd).count() == 5
    result = services.run_model(rnd)
    assert (result["history_ends"], result["history_late"], result["horizon"]) == ("2026-10", True, 4)
    assert result["series"] == UnitHistory.objects.values("unit", "spec").distinct().count()  # every one
    assert _model(rnd, "C1", "TH04") == 4  # flat 4 carried four months ahead (was 0: no series reached February)
    assert all(
        q is not None and q > 0 for q in ForecastLine.objects.filter(round=rnd).values_list("model_qty", flat=True)
    )


def test_a_series_that_stopped_is_forecast_from_its_zeros(cycle_ledger, on, login):
    # C1 stops ordering TH04 in October: the unit x spec series is 4 / 4 / 0 (August-October); before, it ended
    # in September, its two forecast months were October and November, and December's line got nothing
    org = cycle_ledger
    text = "客户编码,规格编码,月份,需求量\nC1,TH04,2026-10,0\n"
    assert services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False)["ok"]
    UnitHistory.objects.filter(spec__code="TH04", month=dt.date(2026, 10, 1)).delete()  # no row, as for no order
    rnd = services.open_round(dt.date(2026, 12, 1))
    result = services.run_model(rnd)
    assert (result["history_ends"], result["history_late"], result["horizon"]) == ("2026-10", False, 2)
    assert result["series"] == UnitHistory.objects.values("unit", "spec").distinct().count()
    assert 0 <= _model(rnd, "C1", "TH04") < 4  # from 4, 4, 0: somewhere below the old level, not missing
    page = login(org.mm1).get("/forecasting/").status_code
    assert page == 200
