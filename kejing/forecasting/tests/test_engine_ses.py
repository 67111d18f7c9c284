"""The SES of the local candidates: ETS(A,N,N) with its initial level fitted (models.ses_fit)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kejing.forecasting.engine import models
from kejing.forecasting.engine.models import ses_fit


def test_ses_hand_worked_initial_level():
    # alpha 0.5 on 10, 12, 11. Started from zero the SES forecasts of the three months are 0, 5 (= 0.5 * 10)
    # and 8.5 (= 0.5 * 5 + 0.5 * 12); the level after the last month would be 9.75 (= 0.5 * 8.5 + 0.5 * 11).
    # A start l0 adds (1 - 0.5) ** t * l0 to month t's forecast, weights d = 1, 0.5, 0.25.
    # residuals from zero r = 10, 7, 2.5; best l0 = (10 + 3.5 + 0.625) / (1 + 0.25 + 0.0625) = 14.125 / 1.3125
    l0 = 14.125 / 1.3125  # 10.7619...
    errors = np.array([10 - l0, 7 - 0.5 * l0, 2.5 - 0.25 * l0])  # -0.762, 1.619, -0.190
    alpha, level, sigma = ses_fit(np.array([10.0, 12.0, 11.0]), alphas=np.array([0.5]))
    assert alpha == 0.5
    # final level: 9.75 + 0.5 ** 3 * l0 = 11.0952; by the recursion from l0: 10.381 -> 11.190 -> 11.095
    assert level == pytest.approx(9.75 + 0.125 * l0)
    assert level == pytest.approx(11.095238, abs=1e-6)
    # sigma: sqrt(sse / (n - 1)) = sqrt(3.2381 / 2)
    assert sigma == pytest.approx(np.sqrt((errors**2).sum() / 2))
    assert sigma == pytest.approx(1.272418, abs=1e-6)


def test_ses_chooses_the_mean_for_noise_and_follows_a_step():
    rng = np.random.default_rng(3)
    noise = 100 + rng.normal(0, 10, 48)
    alpha, level, _ = ses_fit(noise)
    # the smallest alpha with the start fitted is the mean of the history (within 0.0001 * 48 of a smoothing)
    assert alpha == models.SES_ALPHAS[0]
    assert level == pytest.approx(noise.mean(), abs=0.05)
    step = np.r_[np.full(24, 50.0), np.full(24, 80.0)]
    alpha, level, sigma = ses_fit(step)
    assert alpha == models.SES_ALPHAS[-1] and level == pytest.approx(80.0, abs=0.01)
    assert ses_fit(np.full(10, 7.0))[1:] == pytest.approx((7.0, 0.0))


def _recursion(x: np.ndarray, alpha: float, l0: float) -> tuple[float, float]:
    level, sse = l0, 0.0
    for v in x:
        sse += (v - level) ** 2
        level += alpha * (v - level)
    return level, sse


def _best_start(x: np.ndarray, alpha: float) -> tuple[float, float]:
    """The start with the least squared error and that error: it is a parabola in l0, known from three starts."""
    s0, s1, s_1 = (_recursion(x, alpha, v)[1] for v in (0.0, 1.0, -1.0))
    curve, lin = (s1 + s_1) / 2 - s0, (s1 - s_1) / 2
    return -lin / (2 * curve), s0 - lin * lin / (4 * curve)


def test_long_histories_filter_alike(monkeypatch):
    rng = np.random.default_rng(5)
    x = 200 + np.cumsum(rng.normal(0, 2, 200)) + rng.normal(0, 8, 200)
    alpha, level, sigma = ses_fit(x)  # 200 > _SES_MATRIX_MAX: the filtering path
    # checked against the plain recursion, month by month: each alpha with its own best start; the chosen alpha
    # fits best, and its level and sigma are the recursion's
    fits = {a: _best_start(x, a) for a in models.SES_ALPHAS}
    assert alpha == min(fits, key=lambda a: fits[a][1])
    l0, sse = fits[alpha]
    assert level == pytest.approx(_recursion(x, alpha, l0)[0])
    assert sigma == pytest.approx(np.sqrt(sse / 199))
    # the matrix path on the same series gives the same answer
    monkeypatch.setattr(models, "_SES_MATRIX_MAX", 400)
    assert ses_fit(x) == pytest.approx((alpha, level, sigma))


def test_ses_agrees_with_statsforecast_ets_ann():
    from statsforecast.models import AutoETS

    rng = np.random.default_rng(7)
    series = {
        "noise": 100 + rng.normal(0, 10, 48),
        "random walk": 100 + np.cumsum(rng.normal(0, 5, 48)),
        "level shift": np.r_[np.full(24, 50.0), np.full(24, 80.0)] + rng.normal(0, 3, 48),
        "long": 200 + np.cumsum(rng.normal(0, 2, 200)) + rng.normal(0, 8, 200),
    }
    for name, x in series.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ets = AutoETS(model="ANN", season_length=1).fit(x)
        _alpha, level, sigma = ses_fit(x)
        # the same model, fitted on a grid of 13 alphas instead of continuously: forecasts within a tenth of
        # the one-step error (measured: 0.005, 0.01, 0.02 and 0.63 against sigmas 8.5, 4.1, 5.8 and 8.6)
        assert abs(level - ets.predict(1)["mean"][0]) < 0.1 * sigma, name


def test_sparse_series_take_the_ses_level_by_default():
    import pandas as pd

    from kejing.forecasting.engine import forecast

    # 0, 0, 6 for three years: two zero months in three, so the series is intermittent. Its monthly mean is
    # 6 / 3 = 2; the SES with the smallest alpha and its start fitted forecasts that mean. The Croston family
    # forecasts the same rate here (size 6 every 3 months), so none is clearly better and the SES stays.
    y = np.tile([0.0, 0.0, 6.0], 12)
    df = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2023-01-01", periods=36, freq="MS"), "y": y})
    out = forecast(df, horizon=3, settings=models.Settings(spring_festival=False))
    assert set(out["model"]) == {"ses"}
    assert out["yhat"].to_numpy() == pytest.approx([2.0, 2.0, 2.0], abs=0.01)


def test_short_histories_start_at_the_first_month():
    # fit_start=False, alpha 0.5 on 10, 12, 11: the level starts at 10 (error 0), then 10 + 0.5 * (12 - 10) = 11,
    # then 11 + 0.5 * (11 - 11) = 11; errors 0, 2, 0, sigma sqrt(4 / 2)
    alpha, level, sigma = ses_fit(np.array([10.0, 12.0, 11.0]), alphas=np.array([0.5]), fit_start=False)
    assert (alpha, level) == (0.5, pytest.approx(11.0))
    assert sigma == pytest.approx(np.sqrt(2.0))
    # local_fit uses it below two seasons only: 23 months follow the first month's start, 24 fit theirs
    y = np.r_[40.0, np.full(22, 10.0), 10.0]
    short = models.local_fit(y[:23], 0, 1, models.Settings(spring_festival=False))
    full = models.local_fit(y, 0, 1, models.Settings(spring_festival=False))
    assert short.cands[0, 0] == pytest.approx(ses_fit(y[:23], fit_start=False)[1])
    assert full.cands[0, 0] == pytest.approx(ses_fit(y, fit_start=True)[1])
    assert ses_fit(y[:23], fit_start=False)[1] != pytest.approx(ses_fit(y[:23], fit_start=True)[1])
