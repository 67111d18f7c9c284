"""Forecasting engine: calendar, edge-case series, Spring Festival move, parallel and Dask identity, backtest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from kejing.forecasting.engine import (
    ForecastInputError,
    Settings,
    backtest,
    festival_month,
    forecast,
    spring_festival,
)
from kejing.forecasting.engine.core import to_panel
from kejing.forecasting.engine.synth import retail_panel
from kejing.forecasting.tests.engine_fixtures import seasonal_shops

COLUMNS = ["unique_id", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]


def _monthly(uid: str, start: str, values) -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(values, dtype=float)})


def test_spring_festival_dates():
    assert spring_festival(2024) == dt.date(2024, 2, 10)
    assert spring_festival(2025) == dt.date(2025, 1, 29)
    assert festival_month(2025) == 1 and festival_month(2026) == 2
    # 2027-02-06 minus 10 days is 27 January: with a 10-day lead the peak month is January.
    assert festival_month(2027, lead_days=10) == 1


def test_edge_series_are_safe():
    df = pd.concat(
        [
            _monthly("zero", "2024-01-01", [0, 0, 0, 0]),
            _monthly("new1", "2025-12-01", [7]),
            _monthly("new2", "2025-11-01", [4, 6]),
            _monthly("flat", "2024-01-01", [5] * 20),
            _monthly("short", "2025-01-01", [3, 9, 4, 8, 5, 7, 6, 10]),
            _monthly("falling", "2024-01-01", [50, 40, 30, 20, 10, 2, 1, 0, 0, 1]),
            _monthly("sparse", "2023-01-01", [0, 0, 3, 0, 0, 0, 2, 0, 0, 5, 0, 0] * 3),
        ]
    )
    out = forecast(df, horizon=3)
    assert list(out.columns) == COLUMNS
    assert len(out) == 7 * 3
    assert (out[["yhat", "lo_80", "lo_95"]].to_numpy() >= 0).all()
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["yhat"]).all()
    assert (out["yhat"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()
    model = out.groupby("unique_id")["model"].first()
    assert model["zero"] == "zero" and model["flat"] == "flat" and model["new1"] == "new_mean"
    assert model["sparse"] in {"ses", "combo", "croston", "adida", "imapa", "tsb"}
    by = out.set_index(["unique_id", "ds"])["yhat"]
    assert by[("zero", pd.Timestamp("2024-05-01"))] == 0
    assert by[("flat", pd.Timestamp("2025-09-01"))] == 5  # a flat series stays flat, the month after its end
    # new2: mean of 4 and 6 = 5
    assert by[("new2", pd.Timestamp("2026-01-01"))] == pytest.approx(5.0)


def test_gaps_count_as_zero_and_polars_in_polars_out():
    # February is missing (read as 0) and March comes twice (summed: 2 + 4 = 6): the series is 4, 0, 6.
    df = pl.DataFrame(
        {
            "unique_id": ["a", "a", "a"],
            "ds": [dt.date(2025, 1, 1), dt.date(2025, 3, 1), dt.date(2025, 3, 15)],
            "y": [4.0, 2.0, 4.0],
        }
    )
    panel = to_panel(df)
    assert panel.values[0].tolist() == [4.0, 0.0, 6.0]
    # 3 rows over the 3 months January-March: February filled (1), the second March row summed (1)
    reading = panel.reading()
    assert {k: reading[k] for k in ("rows", "series", "periods_filled", "rows_summed")} == {
        "rows": 3,
        "series": 1,
        "periods_filled": 1,
        "rows_summed": 1,
    }
    assert "1 month(s) missing" in reading["note"] and "1 row(s) added" in reading["note"]
    out = forecast(df, horizon=1)
    assert isinstance(out, pl.DataFrame)
    assert out["ds"].to_list()[0].date() == dt.date(2025, 4, 1)
    assert out["yhat"][0] > 0


def test_bad_input_names_the_row():
    with pytest.raises(ForecastInputError, match="missing column"):
        forecast(pd.DataFrame({"unique_id": ["a"], "y": [1]}), 1)
    with pytest.raises(ForecastInputError, match="row 3"):
        forecast(pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2025-01-01", "2025-02-01"], "y": [1, "x"]}), 1)


def _festival_series() -> pd.DataFrame:
    # 2019-2025: 100 a month, 200 in the month holding the Spring Festival (Feb 2019, Jan 2020, Feb 2021,
    # Feb 2022, Jan 2023, Feb 2024, Jan 2025), a little summer bump so that the series is seasonal.
    ds = pd.date_range("2019-01-01", "2025-12-01", freq="MS")
    y = [200.0 if d.month == festival_month(d.year) else (120.0 if d.month in (7, 8) else 100.0) for d in ds]
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": y})


def test_spring_festival_peak_moves_to_february_2026():
    df = _festival_series()
    out = forecast(df, horizon=2).set_index("ds")["yhat"]  # January and February 2026; festival 17 Feb 2026
    jan, feb = out[pd.Timestamp("2026-01-01")], out[pd.Timestamp("2026-02-01")]
    assert feb > 1.5 * jan
    # Without the move the peak is not put in February: calendar months mix the years (January held the
    # festival in 3 of 7 years) and the seasonal naive copies January 2025's festival peak into January 2026.
    plain = forecast(df, horizon=2, spring_festival=False).set_index("ds")["yhat"]
    assert not plain[pd.Timestamp("2026-02-01")] > 1.5 * plain[pd.Timestamp("2026-01-01")]


def test_the_pooled_part_in_threads_gives_the_same_bits(monkeypatch):
    from kejing.forecasting.engine import blend

    used = []

    class Counting(blend.ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            used.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(blend, "ThreadPoolExecutor", Counting)
    # (whether the BLAS would split these products is the machine's business; at 20,000 shops it does, and the
    # benchmark's identical_to_local checks that case against Dask's one-thread workers)
    df = retail_panel(3000, seed=5)
    serial = forecast(df, horizon=3)
    assert used == []  # one process: one thread
    forked = forecast(df, horizon=3, n_jobs=2)
    assert used == [2]  # the forecast's global candidates and the origins', two at a time
    pd.testing.assert_frame_equal(serial, forked, check_exact=True)


def test_processes_and_dask_match_local():
    df = retail_panel(24, months=30, seed=3)
    local = forecast(df, horizon=2, chunk=5)
    forked = forecast(df, horizon=2, n_jobs=2, chunk=5)
    pd.testing.assert_frame_equal(local, forked)
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = forecast(df, horizon=2, dask_client=client, chunk=5)
    pd.testing.assert_frame_equal(local, on_dask)


def test_backtest_by_group_hand_worked():
    # a: y_t = 10 + t + (5 on odd months), 36 months; b = 3 x a. Horizon 12, one fold: the seasonal naive misses
    # by the year's trend, 12 for a and 36 for b, and its in-sample scale is the same 12 / 36: MASE 1.0 each.
    # WAPE of group "x" (a alone) = 12 x 12 / sum(a[24:]); b is in no group; "all" holds both.
    t = np.arange(36)
    a = 10 + t + np.where(t % 2 == 1, 5, 0)
    df = pd.concat([_monthly("a", "2023-01-01", a), _monthly("b", "2023-01-01", 3 * a)])
    out = backtest(df, horizon=12, folds=1, methods=("seasonal_naive", "kejing"), groups={"a": "x"})
    x = out["groups"]["x"]
    assert (x["series"], x["windows"]) == (1, 1) and set(out["groups"]) == {"x"}
    assert x["seasonal_naive"]["mase"] == pytest.approx(1.0)
    assert x["seasonal_naive"]["wape"] == pytest.approx(144 / a[24:].sum(), abs=1e-4)
    both = backtest(df, horizon=12, folds=1, methods=("seasonal_naive", "kejing"), groups={"a": "all", "b": "all"})
    for m in ("seasonal_naive", "kejing"):
        assert both["groups"]["all"][m] == {k: both["methods"][m][k] for k in ("mase", "wape")}
    assert "groups" not in backtest(df, horizon=12, folds=1, methods=("seasonal_naive",))


def test_a_few_hundred_series_are_shared_between_the_processes(monkeypatch):
    # 150 series are fewer than one chunk of 512: before, n_jobs=2 ran them all in one process. Now each of the
    # 2 processes gets ceil(150 / 2) = 75 series (above the floor of 64): 2 parts, same numbers as one process.
    import kejing.forecasting.engine.core as core

    seen = []
    real = core.ProcessPoolExecutor

    class Spy(real):
        def map(self, fn, *cols, **kw):
            seen.append(len(cols[0]))
            return super().map(fn, *cols, **kw)

    monkeypatch.setattr(core, "ProcessPoolExecutor", Spy)
    df = retail_panel(150, months=30, seed=5)
    panel = to_panel(df)
    for method in ("kejing", "auto_ets"):
        one = core.forecast_panel(panel, 2, method, n_jobs=1)
        two = core.forecast_panel(panel, 2, method, n_jobs=2)
        np.testing.assert_array_equal(one[0], two[0])
        assert one[2] == two[2]
    assert seen == [2, 2]
    # 100 series: ceil(100 / 2) = 50 is under the floor, so one part of 64 and one of 36
    core.forecast_panel(to_panel(retail_panel(100, months=30, seed=5)), 2, "seasonal_naive", n_jobs=2)
    assert seen[-1] == 2


def test_backtest_hand_worked():
    # y_t = 10 + t + season_t over 36 months, season = (0, 5, 0, 5, ...). Horizon 12, one fold: train on 24.
    # Seasonal naive repeats last year's months, so every error is the 12-month trend rise: 12.
    # Scale = in-sample seasonal-naive MAE of the training months = 12 as well -> MASE 1.0.
    # WAPE = 12 * 12 / sum(actuals of months 24..35) = 144 / sum(10 + t + s_t).
    t = np.arange(36)
    y = 10 + t + np.where(t % 2 == 1, 5, 0)
    df = _monthly("a", "2023-01-01", y)
    out = backtest(df, horizon=12, folds=1, methods=("seasonal_naive", "kejing"))
    sn = out["methods"]["seasonal_naive"]
    assert sn["mase"] == pytest.approx(1.0)
    assert sn["wape"] == pytest.approx(144 / y[24:].sum(), abs=1e-4)
    assert out["windows"] == 1 and out["series"] == 1
    # the trend-aware Kejing method beats the seasonal naive here
    assert out["methods"]["kejing"]["mase"] < 1.0


def test_backtest_skips_series_too_short_for_a_fold():
    df = pd.concat([_monthly("long", "2022-01-01", np.arange(1, 37)), _monthly("tiny", "2025-11-01", [1, 2])])
    out = backtest(df, horizon=3, folds=2, methods=("seasonal_naive",))
    # long: 2 folds; tiny (2 months) cannot leave a training month for either fold
    assert out["windows"] == 2


def test_recent_years_weigh_more_in_the_seasonal_index():
    from kejing.forecasting.engine.models import Settings, seasonal_index

    # Level 100 with a June peak of +10 and a December trough of -10 every year: each centred 2x12 moving
    # average is (1,200 + 0) / 12 = 100 (the half-weighted ends are the same calendar month, +-0 in total), so
    # the June ratio is 110 / 100 = 1.1 in every year and the twelve ratios average to (1.1 + 0.9 + 10) / 12 = 1.
    start = 2019 * 12  # January 2019
    y = np.full(60, 100.0)
    y[5::12] += 10.0
    y[11::12] -= 10.0
    exact = {"season_shrink": 1.0, "spring_festival": False}
    plain, multiplicative, _ = seasonal_index(y, start, 0, Settings(season_decay=1.0, **exact))
    decayed, _, _ = seasonal_index(y, start, 0, Settings(season_decay=0.5, **exact))
    assert multiplicative
    # Equal ratios every year: any weighting of them gives 1.1.
    assert plain[5] == pytest.approx(1.1) and decayed[5] == pytest.approx(1.1)
    # The peak grows to +30 in June 2023 (the last June inside the moving average, months 6..53), the trough of
    # December 2023 deepens as much: the recent June then weighs 1 against 0.5, 0.25, 0.125 for the years
    # before, so the decayed June index moves toward the new peak more than the plain average does.
    y[5 + 48] += 20.0
    y[11 + 48] -= 20.0
    plain, _, _ = seasonal_index(y, start, 0, Settings(season_decay=1.0, **exact))
    decayed, _, _ = seasonal_index(y, start, 0, Settings(season_decay=0.5, **exact))
    assert decayed[5] > plain[5] + 0.02
    assert plain[5] > 1.1


def test_seasonal_index_is_shrunk_by_its_year_to_year_spread():
    """James-Stein: keep 1 - (m - 3) x (mean variance of a season's mean ratio) / (sum of squared index deviations)."""
    from kejing.forecasting.engine.models import Settings, _js_factor, seasonal_index

    # Four seasons, two years of detrended ratios, equal weights:
    #   season 0: 1.2 and 1.0 -> mean 1.1, spread ((0.1)^2 + (0.1)^2) / 2 = 0.01, over (2 - 1) years: variance 0.01
    #   season 1: 0.9 and 1.1 -> mean 1.0, variance 0.01
    #   season 2: 1.0 and 1.0 -> mean 1.0, variance 0
    #   season 3: 0.9 and 0.9 -> mean 0.9, variance 0
    # mean variance 0.005; deviations from the mean index 1.0: 0.1, 0, 0, -0.1 -> sum of squares 0.02;
    # factor = 1 - (4 - 3) x 0.005 / 0.02 = 0.75.
    ratios = np.array([1.2, 0.9, 1.0, 0.9, 1.0, 1.1, 1.0, 0.9])
    pos = np.arange(8) % 4
    w = np.ones(8)
    wsum = np.bincount(pos, weights=w, minlength=4)
    s = np.bincount(pos, weights=ratios, minlength=4) / wsum
    assert s == pytest.approx([1.1, 1.0, 1.0, 0.9])
    factor = _js_factor(ratios, pos, w, wsum, s, 4, Settings(season=4))
    assert factor == pytest.approx(0.75)
    # season_js scales the shrinkage: half of it keeps 1 - 0.5 x 0.25 = 0.875; 0 keeps the index whole
    assert _js_factor(ratios, pos, w, wsum, s, 4, Settings(season=4, season_js=0.5)) == pytest.approx(0.875)
    assert _js_factor(ratios, pos, w, wsum, s, 4, Settings(season=4, season_js=0.0)) == 1.0

    # A pattern that repeats exactly has no spread: its index is kept whole (June 1.1, December 0.9 as above).
    start = 2019 * 12
    y = np.full(60, 100.0)
    y[5::12] += 10.0
    y[11::12] -= 10.0
    exact = {"spring_festival": False, "season_decay": 1.0}
    kept, _, _ = seasonal_index(y, start, 0, Settings(**exact))
    assert kept[5] == pytest.approx(1.1) and kept[11] == pytest.approx(0.9)
    # The same peak and trough with noise of +-6 on the other months, alternating in sign from year to year:
    # the index moves toward 1 against the unshrunk one (season_js=0), and stays on the same side of it.
    noisy = y.copy()
    for month in (1, 3, 8):
        noisy[month::12] += 6.0 * np.where(np.arange(5) % 2 == 0, 1.0, -1.0)
    plain, _, _ = seasonal_index(noisy, start, 0, Settings(season_js=0.0, **exact))
    shrunk, _, _ = seasonal_index(noisy, start, 0, Settings(**exact))
    assert 1.0 < shrunk[5] < plain[5] and plain[11] < shrunk[11] < 1.0


def test_months_before_a_launch_are_left_out_by_hand():
    from kejing.forecasting.engine.models import launch_months

    s = Settings()  # intermittent from 30 % zero months on; a launch needs a season (12 months) of zeros first
    z = np.zeros(12)
    assert launch_months(np.r_[z, 5, 6, 7, 5, 6.0], s) == 12  # sells every month after its launch
    assert launch_months(np.r_[z[1:], 5, 6, 7, 5, 6.0], s) == 0  # 11 zeros: a slow start, kept
    # after the first sale 2 of 5 months are 0 (40 % >= 30 %): a sparse series keeps the zeros before it too
    assert launch_months(np.r_[z, 3, 0, 4, 0, 2.0], s) == 0
    # 1 of 5 months after the first sale is 0 (20 % < 30 %): the twelve before it go
    assert launch_months(np.r_[z, 3, 4, 0, 4, 2.0], s) == 12
    assert launch_months(np.r_[4, z, 5.0], s) == 0  # no zeros before the first month
    assert launch_months(np.r_[z, 7281, 5.0], s) == 0  # two months after the zeros: a blip as often as a launch
    assert launch_months(np.r_[z, 7281, 5, 6.0], s) == 12  # three months of sales: a launch
    assert launch_months(np.zeros(15), s) == 0  # never sold: the zero class, not a launch
    assert launch_months(np.r_[z, 5, 6.0], Settings(trim_leading_zeros=False)) == 0
    assert launch_months(np.r_[0, 0, 0, 0, 5, 6, 7.0], Settings(season=4)) == 4  # quarterly: a year is 4 zeros


def test_a_zero_padded_grid_is_forecast_as_the_series_from_their_launch():
    # 40 seasonal series of 60 months; 20 of them launched 12-31 months in, written as 0 before (a full grid).
    # Forecast from the padded file, they must get exactly the forecasts of the file that starts each series at
    # its launch, and the regular blend: with the zeros read as demand, 14 of them were called intermittent
    # (Croston family or SES on a flattened season).
    def launch(i: int, y: np.ndarray) -> None:
        if i < 20:
            y[: 12 + i] = 0

    padded = seasonal_shops([100] * 40, 60, amplitude=0.3, noise=0.1, seed=3, start="2021-01", edit=launch)
    launched = padded[padded.groupby("unique_id")["y"].cumsum() > 0]
    a = forecast(padded, horizon=3, n_jobs=1)
    b = forecast(launched, horizon=3, n_jobs=1)
    assert a[["unique_id", "ds", "model"]].equals(b[["unique_id", "ds", "model"]])
    np.testing.assert_array_equal(a["yhat"].to_numpy(), b["yhat"].to_numpy())
    assert set(a["model"]) == {"blend"}
    as_given = forecast(padded, horizon=3, n_jobs=1, settings=Settings(trim_leading_zeros=False))
    assert (as_given["model"] != "blend").sum() == 3 * 14
