"""Trading days: weekday counts worked by hand, an effect planted in a synthetic panel found again and
forecast, a placebo panel left alone, and each series' own effect kept as far as its evidence goes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from kejing.forecasting.engine import tradingdays
from kejing.forecasting.engine.calendar import month_index
from kejing.forecasting.engine.core import Panel, forecast_panel
from kejing.forecasting.engine.models import Settings

# a shop that sells 3 % more for each Friday or Saturday that replaces a Sunday, 1 % more for the other weekdays
PLANTED = np.array([0.01, 0.01, 0.01, 0.01, 0.03, 0.03])
START = month_index(2015, 1)


def test_weekday_counts_by_hand():
    months = np.array([month_index(2024, 2), month_index(2024, 3), month_index(2023, 1), month_index(2023, 2)])
    counts = tradingdays.weekday_counts(months)  # columns Monday ... Sunday
    # February 2024: 29 days from Thursday 1 February -> five Thursdays, four of every other day
    assert counts[0].tolist() == [4, 4, 4, 5, 4, 4, 4]
    # March 2024: 31 days from Friday 1 March -> five Fridays, Saturdays and Sundays
    assert counts[1].tolist() == [4, 4, 4, 4, 5, 5, 5]
    # January 2023: 31 days from Sunday 1 January -> five Sundays, Mondays and Tuesdays
    assert counts[2].tolist() == [5, 5, 4, 4, 4, 4, 5]
    # February 2023: 28 days -> four of each
    assert counts[3].tolist() == [4] * 7
    means = tradingdays._calendar_means()
    # each calendar month's mean counts add up to its mean length: 31 for January, 28 + 97 / 400 for February
    # (97 leap years in the 400-year cycle)
    assert means[0].sum() == pytest.approx(31.0) and means[1].sum() == pytest.approx(28 + 97 / 400)
    # the regressors of March 2024: 4 - mean Mondays ... ; Monday to Thursday below the mean, Friday above
    dev = tradingdays.deviations(months[1:2])[0]
    assert dev == pytest.approx(counts[1, :6] - means[2, :6])
    assert (dev[:4] < 0).all() and (dev[4:] > 0).all()


def _panel(effect: np.ndarray | None, n: int = 40, months: int = 72, seed: int = 3, noise: float = 0.02) -> Panel:
    """Seasonal shops with growth and ``noise`` (log sd); ``effect`` (6 log coefficients) planted in every month."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    dev = tradingdays.deviations(START + t)
    values = []
    for i in range(n):
        level = 50 * (1 + i % 7)
        season = 1 + 0.2 * np.sin(2 * np.pi * (t + i % 3) / 12)
        y = level * (1.002**t) * season * np.exp(rng.normal(0, noise, months))
        if effect is not None:
            y = y * np.exp(dev @ effect)
        values.append(y)
    return Panel([f"s{i}" for i in range(n)], np.full(n, START, dtype=np.int64), values)


def _frame(panel: Panel) -> pd.DataFrame:
    """The panel as the long frame the commands read (``unique_id``, ``ds`` the first of the month, ``y``)."""
    return pd.DataFrame(
        [
            {"unique_id": uid, "ds": f"{(START + k) // 12}-{(START + k) % 12 + 1:02d}-01", "y": v}
            for uid, y in zip(panel.ids, panel.values, strict=True)
            for k, v in enumerate(y)
        ]
    )


def test_a_planted_weekday_effect_is_found_and_forecast():
    settings = Settings()
    panel = _panel(PLANTED, noise=0.01)
    fitted = tradingdays.fit(panel.values, panel.starts, settings)
    assert fitted is not None and fitted.p_value < 1e-6
    assert fitted.call == pytest.approx(PLANTED, abs=0.006)
    # the months are the observations: 60 residual months (6 lost at each end to the moving average) less the
    # January/February ones the festival setting leaves out = 50
    assert fitted.months == 50
    # forecast the last 12 months from the 60 before them, with and without the adjustment
    train = replace(panel, values=[y[:-12] for y in panel.values])
    actual = np.stack([y[-12:] for y in panel.values])
    with_days, _, _ = forecast_panel(train, 12, "kejing", settings)
    without, _, _ = forecast_panel(train, 12, "kejing", replace(settings, trading_days=False))
    err_with = np.abs(np.log(with_days / actual)).mean()
    err_without = np.abs(np.log(without / actual)).mean()
    # the months' weekday make-up moves them by up to about 5 % here, the noise by 1 %
    assert err_with < 0.75 * err_without  # measured: 0.0103 against 0.0160
    # processes give the same forecasts (the effect is fitted once, before the chunks)
    twice, _, _ = forecast_panel(train, 12, "kejing", settings, n_jobs=2, chunk=10)
    assert np.array_equal(twice, with_days)


def test_no_effect_no_adjustment():
    # the same shops without a weekday effect: the F test keeps nothing and the forecasts are untouched
    panel = _panel(None)
    assert tradingdays.fit(panel.values, panel.starts, Settings()) is None
    train = replace(panel, values=[y[:-12] for y in panel.values])
    on, _, _ = forecast_panel(train, 12, "kejing", Settings())
    off, _, _ = forecast_panel(train, 12, "kejing", Settings(trading_days=False))
    assert np.array_equal(on, off)
    # two seasons and one month at least; quarterly, or switched off: nothing is fitted
    short = _panel(PLANTED, months=24)
    assert tradingdays.fit(short.values, short.starts, Settings()) is None
    planted = _panel(PLANTED)
    assert tradingdays.fit(planted.values, planted.starts, Settings(trading_days=False)) is None
    assert tradingdays.fit(planted.values, planted.starts, Settings(season=4)) is None


def test_each_series_keeps_its_own_effect_as_far_as_its_evidence_goes():
    panel = _panel(PLANTED)
    rng = np.random.default_rng(11)
    t = np.arange(72)
    dev = tradingdays.deviations(START + t)
    # series 0 runs the other way round (a business closed on Saturdays: -4 % for each Saturday), with little
    # noise: its own effect is plain and it keeps it; series 1 is the call's shop with 20 % noise: its own
    # estimate is mostly noise and it gets close to the call's
    opposite = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -0.04])
    panel.values[0] = 100 * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(dev @ opposite + rng.normal(0, 0.005, 72))
    panel.values[1] = panel.values[1] * np.exp(rng.normal(0, 0.2, 72))
    fitted = tradingdays.fit(panel.values, panel.starts, Settings())
    assert fitted is not None
    assert fitted.series[0] == pytest.approx(opposite, abs=0.01)
    # series 1's own least-squares estimate, and how much of its distance from the call's it keeps
    resid, months = tradingdays._residuals(panel.values[1][None, :], START, 12, skip_festival=True)
    own = np.linalg.lstsq(tradingdays.deviations(months), resid[0], rcond=None)[0]
    kept = np.linalg.norm(fitted.series[1] - fitted.call) / np.linalg.norm(own - fitted.call)
    assert 0 <= kept < 0.7  # pulled at least 30 % of the way toward the call's
    # while series 0 keeps nearly all of its own (its deviation is many times its noise)
    resid0, _ = tradingdays._residuals(panel.values[0][None, :], START, 12, skip_festival=True)
    own0 = np.linalg.lstsq(tradingdays.deviations(months), resid0[0], rcond=None)[0]
    assert np.linalg.norm(fitted.series[0] - fitted.call) / np.linalg.norm(own0 - fitted.call) > 0.95
    # with the share switched off every series takes the call's effect
    pooled = tradingdays.fit(panel.values, panel.starts, Settings(trading_days_js=0))
    assert pooled is not None and np.array_equal(pooled.series, np.tile(pooled.call, (40, 1)))


def test_festival_months_stay_out_of_the_fit():
    mat = np.stack(_panel(None, n=2).values)
    _, months = tradingdays._residuals(mat, START, 12, skip_festival=True)
    assert not np.isin(months % 12, [0, 1]).any() and len(months) == 50
    _, months = tradingdays._residuals(mat, START, 12, skip_festival=False)
    assert len(months) == 60 and months[0] == START + 6


def test_the_command_line_switch(tmp_path):
    from kejing.cli import main
    from kejing.forecasting.engine import forecast

    rows = _frame(_panel(PLANTED, n=12, noise=0.01))
    src = tmp_path / "shops.csv"
    rows.to_csv(src, index=False)
    out = {}
    for word in ("on", "off"):
        dst = tmp_path / f"{word}.csv"
        assert (
            main(
                ["forecast", "run", "--input", str(src), "--horizon", "3", "--output", str(dst), "--trading-days", word]
            )
            == 0
        )
        out[word] = pd.read_csv(dst)["yhat"].to_numpy()
    # off is the engine without the adjustment, on is not (the planted effect is found)
    plain = forecast(rows, 3, settings=Settings(trading_days=False))["yhat"].to_numpy()
    assert np.allclose(out["off"], plain, atol=1e-4) and not np.allclose(out["on"], out["off"], rtol=1e-3)


def test_histories_of_two_to_three_years_use_year_on_year_changes():
    # 30 months: no three seasons for the moving average, so the call is fitted on year-on-year log changes
    # against the change of the weekday deviations over the same year; the planted effect is found again
    panel = _panel(PLANTED, months=30, noise=0.005)
    fitted = tradingdays.fit(panel.values, panel.starts, Settings())
    assert fitted is not None and fitted.form == "yoy"
    assert fitted.call == pytest.approx(PLANTED, abs=0.01)
    # 18 months of changes (months 13-30: January 2016 to June 2017) less the four January/February ones = 14
    assert fitted.months == 14
    # 42 months (three and a half years) are still fitted on the changes: 30 months of changes (January 2016 to
    # June 2018) less six January/February ones = 24; the moving average would leave 30 months, 26 without
    # January/February, and its calendar-month means take two or three of them each, so it finds nothing even
    # in a call this clean (the old threshold of three seasons, `trading_days_ma_seasons=3`)
    mid = _panel(PLANTED, months=42, noise=0.005)
    fitted = tradingdays.fit(mid.values, mid.starts, Settings())
    assert fitted is not None and fitted.form == "yoy" and fitted.months == 24
    assert fitted.call == pytest.approx(PLANTED, abs=0.002)
    assert tradingdays.fit(mid.values, mid.starts, Settings(trading_days_ma_seasons=3)) is None
    # a call of mostly six-year histories keeps the moving-average form
    longer = _panel(PLANTED)
    assert tradingdays.fit(longer.values, longer.starts, Settings()).form == "ma"
    # by hand: the regressor of a month is the change of its deviations over the year; March 2024 against
    # March 2023 (31 days from a Wednesday: five Wednesdays, Thursdays, Fridays)
    march24, march23 = month_index(2024, 3), month_index(2023, 3)
    change = tradingdays._regressors(np.array([march24]), "yoy")[0]
    counts = tradingdays.weekday_counts(np.array([march24, march23]))
    assert change == pytest.approx(counts[0, :6] - counts[1, :6])
    assert change.tolist() == [0, 0, -1, -1, 0, 1]


def test_forecast_and_backtest_say_whether_they_took_an_effect_out():
    from kejing.forecasting.engine import backtest, forecast

    planted = _frame(_panel(PLANTED, noise=0.01))
    told = forecast(planted, 3).attrs["weekday_effect"]
    assert told["found"] is True and told["form"] == "ma" and told["p_value"] < 1e-6
    # one more Friday in place of a Sunday: exp(0.03) - 1 = 3.05 %; one more Monday: exp(0.01) - 1 = 1.01 %
    assert told["percent_per_day"]["fri"] == pytest.approx(3.05, abs=0.6)
    assert told["percent_per_day"]["mon"] == pytest.approx(1.01, abs=0.6)
    assert forecast(_frame(_panel(None)), 3).attrs["weekday_effect"] == {"found": False}
    # the backtest counts the folds in which the Kejing method took it out (each fold fits its own)
    out = backtest(planted, 3, 2, methods=("kejing", "seasonal_naive"))
    assert out["weekday_effect"]["folds"] == 2 and out["weekday_effect"]["found"] == 2
    assert "weekday_effect" not in backtest(planted, 3, 2, methods=("seasonal_naive",))


def test_the_spring_festival_does_not_pass_for_a_weekday_effect():
    # shops whose sales double in the month of the Spring Festival (January or February by the lunar date): on
    # its own the moving peak has nothing to do with weekdays, and with January and February out of the fit the
    # test finds nothing; with a weekday effect planted as well, it finds that effect, not the festival
    from kejing.forecasting.engine.calendar import festival_month

    def festive(effect):
        panel = _panel(effect, months=84, noise=0.01)
        for i, y in enumerate(panel.values):
            for k in range(len(y)):
                year, month = divmod(START + k, 12)
                if month + 1 == festival_month(year):
                    y[k] *= 2.0
            panel.values[i] = y
        return panel

    plain = festive(None)
    assert tradingdays.fit(plain.values, plain.starts, Settings()) is None
    planted = festive(PLANTED)
    fitted = tradingdays.fit(planted.values, planted.starts, Settings())
    assert fitted is not None and fitted.call == pytest.approx(PLANTED, abs=0.006)
    # with the festival setting off, January and February stay in the fit, and the moving peak left in the
    # residuals drowns the planted effect: the test keeps nothing
    assert tradingdays.fit(planted.values, planted.starts, Settings(spring_festival=False)) is None
