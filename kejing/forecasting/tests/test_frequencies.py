"""Files of other periods than months: told from the dates (``freq="auto"``, what the command line does) or asked
for; each hand-worked with the seasonal naive, whose forecast is plain arithmetic."""

from __future__ import annotations

import pandas as pd
import pytest

from kejing.forecasting.engine import ForecastInputError, forecast
from kejing.forecasting.engine.core import to_panel


def _frame(ds, y, uid="a") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def _naive(df, h, **kw):
    out = forecast(df, h, method="seasonal_naive", **kw)
    return out["ds"].dt.strftime("%Y-%m-%d").tolist(), out["yhat"].tolist(), out.attrs["input"]


def test_weekly_rows_on_sundays_stay_weeks_and_keep_their_weekday():
    # ten Sundays from 2024-01-07 with 1..10; season 2 repeats the last two weeks: 9, 10
    ds = pd.date_range("2024-01-07", periods=10, freq="7D").strftime("%Y-%m-%d")
    dates, yhat, read = _naive(_frame(ds, range(1, 11)), 2, season=2, freq="auto")
    assert read["frequency"] == "week" and read["rows_summed"] == 0
    assert yhat == [9.0, 10.0]
    # 2024-01-07 + 10 weeks = 2024-03-17, a Sunday like the rows
    assert dates == ["2024-03-17", "2024-03-24"]


def test_daily_rows_with_a_missing_day_are_days_and_the_season_is_a_week():
    # 14 days from Monday 2024-01-01, the 10th missing (0): value = day of month otherwise
    days = [d for d in range(1, 15) if d != 10]
    df = _frame([f"2024-01-{d:02d}" for d in days], days)
    dates, yhat, read = _naive(df, 3, freq="auto")
    assert read["frequency"] == "day" and read["periods_filled"] == 1
    # season 7 by default: the forecast repeats days 8..14 -> 8, 9, 0 (the missing day), ...
    assert yhat == [8.0, 9.0, 0.0]
    assert dates == ["2024-01-15", "2024-01-16", "2024-01-17"]


def test_orders_on_scattered_days_are_summed_into_months_as_before():
    # a shop's orders: 3 in January (days 3, 17, 29) and 2 in February (days 6, 20), 4 units each;
    # they cover 5 of 49 days, too few for a daily series, so January = 12 and February = 8
    df = _frame(["2024-01-03", "2024-01-17", "2024-01-29", "2024-02-06", "2024-02-20"], [4] * 5)
    panel = to_panel(df, "auto")
    assert panel.freq == "month" and panel.values[0].tolist() == [12.0, 8.0]
    assert panel.reading()["rows_summed"] == 3


def test_a_column_of_bare_years_is_yearly():
    # 2015..2024 with 100, 110, ...; season 1: the naive, the last year's 190, for 2025
    df = _frame([str(y) for y in range(2015, 2025)], [100 + 10 * i for i in range(10)])
    dates, yhat, read = _naive(df, 1, freq="auto")
    assert read["frequency"] == "year" and dates == ["2025-01-01"] and yhat == [190.0]
    # a monthly call still refuses a bare year, naming the row
    with pytest.raises(ForecastInputError, match="row 2"):
        forecast(df, 1)


def test_asked_for_quarters_sums_the_months_of_each_calendar_quarter():
    # January..June = 1..6: Q1 = 1 + 2 + 3 = 6, Q2 = 4 + 5 + 6 = 15; season 1 repeats 15 for Q3
    df = _frame(pd.date_range("2024-01-01", periods=6, freq="MS"), range(1, 7))
    panel = to_panel(df, "quarter")
    assert panel.values[0].tolist() == [6.0, 15.0] and panel.reading()["rows_summed"] == 4
    dates, yhat, _read = _naive(df, 1, freq="quarter", season=1)
    assert dates == ["2024-07-01"] and yhat == [15.0]
    # told from the dates, the same file is monthly
    assert to_panel(df, "auto").freq == "month"


def test_asked_for_weeks_over_days_of_mixed_weekdays_starts_weeks_on_monday():
    # 14 days of 1 from Wednesday 2024-01-03 to Tuesday 2024-01-16: the week of Monday 1 January holds 5 of
    # them, that of the 8th 7, that of the 15th 2
    df = _frame(pd.date_range("2024-01-03", periods=14, freq="D"), [1] * 14)
    panel = to_panel(df, "week")
    assert panel.values[0].tolist() == [5.0, 7.0, 2.0]
    dates, _yhat, _read = _naive(df, 1, freq="week", season=1)
    assert dates == ["2024-01-22"]


def test_an_unknown_frequency_is_refused():
    with pytest.raises(ForecastInputError, match="unknown frequency"):
        to_panel(_frame(["2024-01"], [1]), "fortnight")
