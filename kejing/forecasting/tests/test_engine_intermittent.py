"""Intermittent series take the seasonal pattern of their call (blend.season_intermittent), worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kejing.forecasting.engine import forecast
from kejing.forecasting.engine.models import Settings


def _call(n_series: int = 12, years: int = 3) -> pd.DataFrame:
    """Series k sells 2 units in calendar month k (k = 0..10; the twelfth series in January too) and 6 in
    December, nothing else: 10 zero months out of 12, so every series is intermittent.

    Each series' year sums to 8, its monthly mean is 8 / 12 = 2/3; divided by that mean it reads 2 / (2/3) = 3
    in its own month and 6 / (2/3) = 9 in December. The mean over the 12 series of the call, per calendar
    month: January (3 + 3) / 12 = 0.5, February to November 3 / 12 = 0.25, December 12 * 9 / 12 = 9. Its year
    averages (0.5 + 10 * 0.25 + 9) / 12 = 1, so its centred moving average is 1 and the seasonal index is
    those numbers themselves: 0.5, 0.25 (x10), 9.
    """
    frames = []
    for k in range(n_series):
        own = min(k, 10) if k < 11 else 0
        year = np.zeros(12)
        year[own] = 2
        year[11] = 6
        ds = pd.date_range("2023-01-01", periods=12 * years, freq="MS")
        frames.append(pd.DataFrame({"unique_id": f"s{k:02d}", "ds": ds, "y": np.tile(year, years)}))
    return pd.concat(frames, ignore_index=True)


def _yhat(df: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    out = forecast(df, horizon=12, settings=settings)
    return out.pivot(index="unique_id", columns="ds", values="yhat")


def test_sparse_series_follow_the_calls_pattern_by_hand():
    df = _call()
    plain = _yhat(df, Settings(intermittent_season=0, spring_festival=False))
    half = _yhat(df, Settings(intermittent_season=0.5, spring_festival=False))
    full = _yhat(df, Settings(intermittent_season=1.0, spring_festival=False))
    # without the pattern an intermittent forecast (the SES level or a Croston-type rate) is flat per series
    assert np.allclose(plain.to_numpy(), plain.to_numpy()[:, :1])
    ratio = (half / plain).to_numpy()  # the factor index ** 0.5, the same for every series
    jan, feb, dec = 0, 1, 11
    assert ratio[:, jan] == pytest.approx(np.full(12, 0.5**0.5))  # sqrt(0.5) = 0.7071
    assert ratio[:, feb] == pytest.approx(np.full(12, 0.5))  # sqrt(0.25)
    assert ratio[:, dec] == pytest.approx(np.full(12, 3.0))  # sqrt(9)
    # the whole swing at power 1: December 9 x the flat rate, February a quarter
    assert (full / plain).to_numpy()[:, dec] == pytest.approx(np.full(12, 9.0))
    assert (full / plain).to_numpy()[:, feb] == pytest.approx(np.full(12, 0.25))


def test_too_few_series_or_other_methods_stay_flat():
    # 9 series are fewer than intermittent_season_min (10): one sparse series' own months are too noisy a guide
    small = _call(n_series=9)
    yhat = _yhat(small, Settings(spring_festival=False))
    assert np.allclose(yhat.to_numpy(), yhat.to_numpy()[:, :1])
    # a call of 12 with the default settings (power 0.5) is seasonal; the models keep their names
    out = forecast(_call(), horizon=12, settings=Settings(spring_festival=False))
    assert set(out["model"]) <= {"ses", "combo", "croston", "adida", "imapa", "tsb"}
    first = out[out["unique_id"] == "s00"].set_index("ds")["yhat"]
    assert first.iloc[11] == pytest.approx(first.iloc[1] * 6)  # 3 / 0.5
    # intervals scale with the forecast, so the band keeps its shape
    band = out[out["unique_id"] == "s00"]
    assert (band["hi_80"] >= band["yhat"]).all() and (band["lo_80"] <= band["yhat"]).all()


def test_the_final_fit_of_the_chosen_model_matches_the_full_set():
    # the chosen model is refitted alone on the whole history: each name gives what the full set gives
    from kejing.forecasting.engine.models import _intermittent_candidates

    y = np.tile([0.0, 3.0, 0.0, 0.0, 5.0, 0.0], 6)
    full = _intermittent_candidates(y, 4)
    assert set(full) == {"croston", "adida", "imapa", "tsb", "combo", "ses"}
    for name, values in full.items():
        alone = _intermittent_candidates(y, 4, only=name)
        assert np.array_equal(alone[name], values), name
    assert set(_intermittent_candidates(y, 4, only="ses")) == {"ses"}  # no Croston-family fit for the SES
