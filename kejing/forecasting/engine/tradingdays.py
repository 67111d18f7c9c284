"""Trading days: how a month's weekday make-up moves its sales, estimated over the series of a call.

Why: a month with five Saturdays sells more in a shop than the same month with four, a month with five
Sundays carries fewer prescriptions, train rides or house closings. A seasonal index only knows the calendar
month, whose weekday make-up changes from year to year, so the difference is left as noise that no model of the
monthly series can forecast although it is known years ahead. X-13ARIMA-SEATS estimates it by regression on
the number of each weekday in the month; here the same regression is fitted once for the whole call — the
shops of one company share their week — and each series keeps as much of its own deviation from the call's
effect as its evidence carries (James–Stein, as the seasonal indices). The Kejing method forecasts the series
divided by the fitted effect and multiplies the effect of the forecast months back (``core.forecast_panel``).

The regression (positive series of more than two seasons, ``months`` since year 0 as in ``Panel``):

* residual of a month: log y minus its centred 2x12 moving average minus the series' mean of that residual
  for its calendar month (what the seasonal index holds); where most series have fewer than four seasons
  (``trading_days_ma_seasons``; 25-47 months), instead the year-on-year log change less the series' mean
  change, against the change of the regressors over the same year (no year lost to the moving average, at twice
  the noise; with three to four years the moving average leaves two or three months of each calendar month, whose
  means eat the effect: a call of 40 clean series of 42 months found nothing that way);
* regressors: the number of Mondays ... Saturdays in the month minus their mean over the 400-year Gregorian
  cycle for that calendar month (Sunday is the reference; a leap February counts its extra day);
* the call's effect: weighted least squares of the months' mean residual (over the series that have the month)
  on the regressors — the months, not the rows, are the observations, because a month's shock is shared by
  the series of a call; kept only when the F test on its six coefficients gives p <= ``trading_days_p``;
* each series: its own least-squares coefficients, and the call's plus the James–Stein share
  ``1 - (p - 2) / (p F_i)`` of the difference, ``F_i`` the difference's F statistic against the series' own
  residual variance (``trading_days_js`` times the factor's second term; 0 = the call's effect for all).

January and February are left out of the fit when the Spring Festival setting is on (its move is not a weekday
effect; they enter the moving average at their pair's mean, so that the move cannot shift the trend either),
and the effect is never applied to anything but monthly series. Measured in docs/forecasting-engine.md (round
13): a placebo calendar — each year's weekdays drawn from another year — gives no effect and loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .models import Settings, centred_weights

WEEKDAYS = 6  # Monday ... Saturday; Sunday is the reference


def weekday_counts(months: np.ndarray) -> np.ndarray:
    """The number of Mondays ... Sundays (columns 0-6) in each month (months since year 0)."""
    months = np.asarray(months, dtype=np.int64)
    first = ((months // 12 - 1970) * 12 + months % 12).astype("datetime64[M]").astype("datetime64[D]")
    days = ((first.astype("datetime64[M]") + 1).astype("datetime64[D]") - first).astype(np.int64)
    weekday = (first.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    extra = (np.arange(7)[None, :] - weekday[:, None]) % 7 < (days - 28)[:, None]
    return 4 + extra.astype(float)


@lru_cache(maxsize=1)
def _calendar_means() -> np.ndarray:
    """Mean weekday counts of each calendar month over the 400-year Gregorian cycle (12 x 7)."""
    counts = weekday_counts(np.arange(2000 * 12, 2400 * 12))
    return counts.reshape(400, 12, 7).mean(axis=0)


def deviations(months: np.ndarray) -> np.ndarray:
    """Regressors of each month (rows x 6): its Mondays ... Saturdays minus their calendar month's mean."""
    months = np.asarray(months, dtype=np.int64)
    return (weekday_counts(months) - _calendar_means()[months % 12])[:, :WEEKDAYS]


@dataclass
class TradingDays:
    """A fitted effect: the call's coefficients, each series' own, and the F test that let them in."""

    call: np.ndarray  # 6 coefficients (log effect of one more Monday ... Saturday instead of a Sunday)
    series: np.ndarray  # series x 6
    p_value: float
    months: int  # months that entered the call's regression
    form: str = "ma"  # the residuals it was fitted on: around a moving average, or year-on-year changes

    def summary(self) -> dict:
        """What a planner is told: the test's p-value, the months it rests on, the form of the residuals, and the
        call's effect of one more Monday ... Saturday in place of a Sunday, in per cent."""
        return {
            "found": True,
            "p_value": float(f"{self.p_value:.3g}"),
            "months": self.months,
            "form": self.form,
            "percent_per_day": {
                day: round(100 * float(np.expm1(b)), 2)
                for day, b in zip(("mon", "tue", "wed", "thu", "fri", "sat"), self.call, strict=True)
            },
        }

    def factors(self, starts: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """The multiplicative effect on each series' ``lengths[i]`` months from ``starts[i]`` (one matrix product
        over the calendar the call spans, then a slice per series)."""
        starts = np.asarray(starts, dtype=np.int64)
        ends = starts + np.asarray(lengths, dtype=np.int64)
        first = int(starts.min())
        logs = deviations(np.arange(first, int(ends.max()))) @ self.series.T  # months x series
        return [np.exp(logs[a - first : b - first, i]) for i, (a, b) in enumerate(zip(starts, ends, strict=True))]


def _residuals(mat: np.ndarray, start: int, m: int, skip_festival: bool) -> tuple[np.ndarray, np.ndarray]:
    """Log residuals (rows x months) of series of one layout after trend and calendar-month means, and the
    absolute month of each column; January/February columns dropped when ``skip_festival``."""
    if skip_festival:
        # January and February at their pair's mean before the moving average: the pair's sum does not depend on
        # where the festival falls, while a peak that moves between them would move the trend (the 2x12 average
        # weighs its two ends by half) and leak into the residuals of the months around
        mat = mat.copy()
        jan = np.flatnonzero((start + np.arange(mat.shape[1] - 1)) % m == 0)
        pair = (mat[:, jan] + mat[:, jan + 1]) / 2
        mat[:, jan], mat[:, jan + 1] = pair, pair
    logs = np.log(mat)
    weights = centred_weights(m)
    off = (len(weights) - 1) // 2
    trend = sliding_window_view(logs, len(weights), axis=1) @ weights
    t = np.arange(off, off + trend.shape[1])
    resid = logs[:, t] - trend
    pos = (start + t) % m
    onehot = (pos[:, None] == np.arange(m)[None, :]).astype(float)
    means = resid @ onehot / np.maximum(onehot.sum(axis=0), 1.0)
    resid = resid - means @ onehot.T
    keep = pos >= 2 if skip_festival else np.ones(len(t), dtype=bool)
    return resid[:, keep], start + t[keep]


def _yoy_residuals(mat: np.ndarray, start: int, m: int, skip_festival: bool) -> tuple[np.ndarray, np.ndarray]:
    """Year-on-year log changes (rows x months) less each series' mean change, and the absolute month of each
    column; their regressors are the change of the weekday deviations over the same year (:func:`_regressors`)."""
    logs = np.log(mat)
    d = logs[:, m:] - logs[:, :-m]
    d = d - d.mean(axis=1, keepdims=True)
    t = np.arange(m, mat.shape[1])
    pos = (start + t) % m
    keep = pos >= 2 if skip_festival else np.ones(len(t), dtype=bool)
    return d[:, keep], start + t[keep]


def _regressors(months: np.ndarray, form: str) -> np.ndarray:
    """The regressors of each month for residuals of ``form`` (``ma``: :func:`_residuals`, ``yoy``)."""
    if form == "yoy":
        return deviations(months) - deviations(np.asarray(months) - 12)
    return deviations(months)


def fit(values: list[np.ndarray], starts: np.ndarray, settings: Settings) -> TradingDays | None:
    """The trading-day effect of a call of monthly series, or ``None`` (off, too little data, not significant)."""
    from scipy.special import fdtrc  # the F distribution's upper tail (scipy.stats takes a second to import)

    m = settings.season
    if not settings.trading_days or m != 12 or not values:
        return None
    skip = bool(settings.spring_festival)
    positive = [i for i, y in enumerate(values) if len(y) > 2 * m and y.min() > 0]
    # the residuals around a moving average where most series have `trading_days_ma_seasons` (4) seasons;
    # year-on-year changes (twice the noise, but no moving average to lose a year to) where most have fewer
    long_enough = sum(len(values[i]) >= settings.trading_days_ma_seasons * m for i in positive)
    form = "ma" if 2 * long_enough >= len(positive) else "yoy"
    shortest = 3 * m if form == "ma" else 2 * m + 1
    layouts: dict[tuple[int, int], list[int]] = {}
    for i in positive:
        if len(values[i]) >= shortest:
            layouts.setdefault((int(starts[i]), len(values[i])), []).append(i)
    if not layouts:
        return None
    how = _residuals if form == "ma" else _yoy_residuals
    blocks = []  # (rows, residuals, months)
    for (start, _n), rows in layouts.items():
        resid, months = how(np.stack([values[i] for i in rows]), start, m, skip)
        blocks.append((np.asarray(rows), resid, months))
    first = min(int(b[2][0]) for b in blocks)
    span = max(int(b[2][-1]) for b in blocks) - first + 1
    total = np.zeros(span)
    count = np.zeros(span)
    for rows, resid, months in blocks:
        total[months - first] += resid.sum(axis=0)
        count[months - first] += len(rows)
    have = np.flatnonzero(count > 0)
    # the calendar-month means took one degree of freedom each (a series' mean change, one)
    lost = m if form == "ma" else 1
    dof = len(have) - WEEKDAYS - lost
    if dof < WEEKDAYS:
        return None
    x = _regressors(have + first, form) * np.sqrt(count[have])[:, None]
    r = total[have] / np.sqrt(count[have])  # sqrt(count) x the month's mean residual
    gram = x.T @ x
    beta = np.linalg.solve(gram + 1e-3 * float(count[have].sum()) * np.eye(WEEKDAYS), x.T @ r)  # a tiny ridge
    rss0, rss1 = float(r @ r), float(((r - x @ beta) ** 2).sum())
    if rss1 <= 0:
        return None
    p_value = float(fdtrc(WEEKDAYS, dof, (rss0 - rss1) / WEEKDAYS / (rss1 / dof)))
    if not p_value <= settings.trading_days_p:
        return None
    own = np.tile(beta, (len(values), 1))
    if settings.trading_days_js > 0:
        for rows, resid, months in blocks:
            own[rows] = _toward_call(resid, _regressors(months, form), beta, lost, settings.trading_days_js)
    return TradingDays(beta, own, p_value, len(have), form)


def _toward_call(resid: np.ndarray, x: np.ndarray, call: np.ndarray, m: int, js: float) -> np.ndarray:
    """Each row's coefficients: the call's plus the James–Stein share of its own least-squares deviation."""
    dof = resid.shape[1] - WEEKDAYS - m
    if dof < WEEKDAYS:
        return np.tile(call, (len(resid), 1))
    gram = x.T @ x
    try:
        own = np.linalg.solve(gram, x.T @ resid.T).T  # rows x 6
    except np.linalg.LinAlgError:
        return np.tile(call, (len(resid), 1))
    s2 = ((resid - own @ x.T) ** 2).sum(axis=1) / dof
    d = own - call[None, :]
    f_stat = np.einsum("ij,jk,ik->i", d, gram, d) / WEEKDAYS / np.maximum(s2, 1e-300)
    with np.errstate(divide="ignore"):
        keep = np.clip(1.0 - js * (WEEKDAYS - 2) / (WEEKDAYS * f_stat), 0.0, 1.0)
    keep = np.where(f_stat > 0, keep, 0.0)
    return call[None, :] + keep[:, None] * d
