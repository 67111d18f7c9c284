"""Forecasts of one series: classing, local candidate models at the final and the backtest origins, intervals.

Everything here works on one series at a time (a float array and the month index of its first value) and never
looks at another series; it runs in the chunks (locally, in processes or on Dask). Regular series come back as
:class:`RegularParts`, which ``blend.py`` finishes once all chunks are in, pooling across the series of the call.

The fitted models are statsforecast's (``CrostonOptimized``, ``ADIDA``, ``IMAPA``, ``TSB``, and ``AutoETS`` as
the baseline) and one of our own, :func:`ses_fit` (ETS(A,N,N) with its start fitted, a few matrix products; see
there why). The Kejing method arranges them:

* a classical seasonal decomposition (centred 2x12 moving average, multiplicative when the series is positive)
  applied only when the lag-``season`` autocorrelation is significant at 90 % (the test used by the Theta
  method and the M4 benchmarks) or year-on-year changes, growth taken out, are clearly smaller than
  month-on-month ones (for short histories); its January/February indices follow the Spring Festival (see
  :func:`seasonal_index`);
* on the seasonally adjusted series, that SES, two Theta forecasts (that SES plus a half or two thirds of the
  slope of the linear trend; Hyndman & Billah 2003 showed that the Theta method is SES with such a drift), the
  naive and a local trend (the slope of the last two years), plain and damped;
* a seasonal naive forecast corrected for the festival move, and two versions of it grown by the latest
  year's growth (last year's months, and the mean of the last two years');
* the same at up to ``select_folds`` rolling origins, for the blend weights and the interval calibration.

Why not AutoETS or AutoARIMA inside the default: statsforecast's AutoETS fits 15-30 models by numerical
optimisation (about 40 ms a monthly series here), AutoARIMA about 400 ms; the throughput goal (1,000 series a
second on two cores, model choice included) leaves 2 ms a series for four fits (docs/forecasting-engine.md).
The one exception is a call of a few series, where that cost does not count and the blend has nothing to learn
its weights from: there a fifth of AutoETS is mixed in after the blend (``blend.mix_auto_ets``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .calendar import festival_january_share

# statsforecast is imported lazily (inside the functions) so that importing the engine stays cheap for the
# pages that only need the allocation or the calendar.

# z-values of the two-sided normal intervals for the usual levels; others are computed with the error function.
_Z = {
    50: 0.6744897501960817,
    80: 1.2815515655446004,
    90: 1.6448536269514722,
    95: 1.959963984540054,
    99: 2.5758293035489004,
}


def z_value(level: int | float) -> float:
    """Two-sided normal quantile for a ``level`` % interval (bisection on erf: no scipy import per call)."""
    if level in _Z:
        return _Z[level]
    p = 0.5 + level / 200.0
    lo, hi = 0.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class Settings:
    """Tuning of the Kejing method; the defaults are the values chosen on the M3 shipment series (see docs)."""

    season: int = 12
    levels: tuple[int, ...] = (80, 95)
    # Rolling origins of the backtest inside each call: this many, each forecasting `select_horizon` months
    # (capped at h). They feed the learned blend weights (blend.py) and the interval calibration.
    select_folds: int = 3
    select_horizon: int = 12
    # A history with room for neither (2-3 years against a horizon of 3-12 months) gets one shorter backtest
    # from the earliest origin the seasonality test allows, if it is at least this many months (0 = never).
    select_min_partial: int = 2
    # A series counts as seasonal when the lag-season autocorrelation is significant at 90 % or its mean
    # year-on-year change is below this share of its mean month-on-month change (0 = the first test only); with
    # `season_diff_centred` both kinds of change are first taken from their own mean, so that growth does not
    # count against the season (round 14; False = the rule before).
    season_diff_ratio: float = 0.8
    season_diff_centred: bool = True
    # Calls of at most `small_call_series` series (a user's file of a few series, too few backtest rows to learn
    # blend weights from) mix statsforecast's AutoETS into each regular blend with this weight (0 = never).
    small_call_ets: float = 0.2
    small_call_series: int = 10
    # Intermittent series: a Croston-family model (or their mean) replaces the SES only when its backtest error
    # is below margin x the SES's.
    margin: float = 0.75
    # Global autoregression (blend.py): this many lags, fitted on at most the latest `global_windows` windows of
    # each regular series; a small ridge keeps the normal equations solvable.
    global_lags: int = 24
    global_windows: int = 120
    global_ridge: float = 1e-6
    # Blend weights: learned on the whole-season backtests of at most `blend_max_rows` (series, origin) rows
    # (evenly spaced) when at least `blend_min_rows` rows exist, else on the h-month backtests, else not at all;
    # `blend_prior` pseudo-rows pull them toward the prior weights (blend.PRIOR_LOGITS), which a call with
    # nothing to learn from gets as they are. blend=False: the prior weights for every series.
    blend: bool = True
    blend_max_rows: int = 5000
    blend_min_rows: int = 10
    blend_prior: float = 0.25
    # The learning loss counts the first max(h, blend_min_months) months of each backtest: for h = 1 a single
    # month per origin was too noisy (6 sets at h = 1: geometric mean MASE 0.971 -> 0.958 x AutoETS with 3).
    blend_min_months: int = 3
    # A learning row whose typical error is above this many times the median row's counts as that much
    # (blend._cap_rows: one series that broke at an origin must not steer everyone's weights); 0 = off.
    blend_row_cap: float = 3.0
    # No candidate forecast above this many times the highest month of the series' last season (blend._cap:
    # grown seasonal naives and ratio models explode after a level shift); 0 = off.
    blend_cap: float = 3.0
    # A break: when each of the last `break_months` months is below 1/`break_ratio` or each is above
    # `break_ratio` times the same month a year before, last year's months no longer tell the level, and the
    # seasonal naive and its two grown versions are left out of that series' blend (models.seasonal_break;
    # round 16: a PBS series that fell from ~50,000 to ~4,000 scripts a month was forecast 34,000-42,000 from
    # last year's months); 0 = off.
    break_ratio: float = 3.0
    break_months: int = 3
    # The pooled seasonal candidate's prior logit rises by this much times the call's seasonal agreement
    # (blend.call_prior; 0 = the fixed prior).
    season_agreement_weight: float = 1.0
    # "auto": move the festival peak only where the history shows it; True: always (when estimable); False: never.
    spring_festival: str | bool = "auto"
    lead_days: int = 0
    # Where the festival is moved, the festival buying of each year is read as falling in the festival's month
    # (0) or spread over the days before it (a window of that many days; see _move_festival); each series takes
    # the reading that fits its past years best. (0, 21) is the tobacco policy's; the default is the month only.
    festival_windows: tuple[int, ...] = (0,)
    # Each year's January share of the January/February pair is read from the series itself (True), not from
    # its ratios to the centred moving average, which lose the first and last six months: a 26-month history
    # keeps two pairs instead of one (round 15: the harness 0.9116 -> 0.9106, the demo's ledger can move its peak).
    festival_raw_shares: bool = True
    # Seasonal indices are shrunk toward "no seasonality" by this factor (1.0 = not at all). 0.8 helped the
    # old fixed combination on weakly seasonal series but cost strongly seasonal ones; the learned blend can
    # put weight on the seasonal naive instead (docs/forecasting-engine.md).
    season_shrink: float = 1.0
    # James-Stein shrinkage of each series' own index toward "no seasonality", by how much of the index its
    # year-to-year spread can explain (models.seasonal_index); this many times the estimated factor, 0 = off.
    season_js: float = 1.0
    # The pooled seasonal candidate (blend.pooled_season): each series' index is the call's plus the James-Stein
    # share of its own deviation from it (blend._toward_group), times this; 0 = the call's index alone.
    season_group_js: float = 1.0
    # Trading days (tradingdays.py): monthly series are divided by the effect of their months' weekday make-up,
    # fitted over the call and kept when its F test gives p <= `trading_days_p`; each series keeps the
    # James-Stein share of its own deviation from the call's effect, times `trading_days_js` (0 = the call's).
    # The residuals are taken around a moving average where most positive series have `trading_days_ma_seasons`
    # seasons, else as year-on-year changes (round 15: below four seasons the moving average leaves too few
    # months to find an effect that the changes find).
    trading_days: bool = True
    trading_days_p: float = 0.01
    trading_days_js: float = 1.0
    trading_days_ma_seasons: int = 4
    # Each year of detrended ratios weighs this much less than the year after it (seasonal patterns drift;
    # 1.0 = the plain classical average). 0.9 was neutral on the M3 tuning sets (see docs).
    season_decay: float = 0.9
    # Share of zero months from which a series counts as intermittent.
    intermittent_share: float = 0.3
    # The Kejing method reads a series from its first non-zero month when at least a season of zeros comes before
    # it and what follows is not intermittent: those zeros are months before the product was on sale (a full
    # customer x spec grid, an M5-like export), not demand (models.launch_months; round 16). False: as given.
    trim_leading_zeros: bool = True
    # Intermittent series take the call's seasonal pattern (mean of the series scaled to their means) raised to
    # this power (0 = flat forecasts), when the call has at least `intermittent_season_min`
    # non-negative series (blend.season_intermittent).
    intermittent_season: float = 0.5
    intermittent_season_min: int = 10
    # Interval width multiplier applied to every sigma (1.0 = none; the calibration below does the real work).
    interval_scale: float = 1.0
    # Calibrate the interval widths on the standardised errors of the rolling-origin backtest (see
    # core.calibrate_widths and the docs): per-step quantiles pooled over the series of a class, times a
    # per-series factor shrunk toward 1 with `calibrate_shrink` pseudo-residuals; fewer than `calibrate_min`
    # pooled residuals leave the normal width.
    calibrate: bool = True
    calibrate_shrink: float = 12.0
    calibrate_min: int = 30

    def __post_init__(self) -> None:
        object.__setattr__(self, "spring_festival", festival_mode(self.spring_festival))
        object.__setattr__(self, "festival_windows", tuple(int(w) for w in self.festival_windows))


# The longest festival buying window (days before the festival, Settings.festival_windows) a policy or the command
# line may name: the weeks of stocking up, not a season.
MAX_FESTIVAL_WINDOW = 45


def festival_window_days(value: object) -> int:
    """A festival buying window as a policy or the command line gives it, checked: whole days from 0 to
    :data:`MAX_FESTIVAL_WINDOW` (an int, not a bool or a string); anything else is a ``ValueError`` that says so.
    Both ways in go through here, as the festival words go through :func:`festival_mode`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FESTIVAL_WINDOW:
        raise ValueError(
            f"节前购买窗口应为 0 到 {MAX_FESTIVAL_WINDOW} 的整数天数 / festival_window_days must be whole days from 0 "
            f"to {MAX_FESTIVAL_WINDOW}, not {value!r}"
        )
    return value


def festival_windows_of(days: int) -> tuple[int, ...]:
    """The readings ``Settings.festival_windows`` tries for a policy's or the command line's one window of
    ``days``: the festival's month always, and those days before the festival when there are any."""
    return (0, days) if days else (0,)


# The words a policy file or the command line uses for the Spring Festival move, and what Settings holds for them.
FESTIVAL_MODES: dict[str, str | bool] = {"auto": "auto", "on": True, "off": False}


def festival_mode(value: str | bool) -> str | bool:
    """``"auto"``, ``True`` or ``False`` for a Spring Festival setting given as one of :data:`FESTIVAL_MODES` (or
    already as ``"auto"`` / a bool); anything else is a ``ValueError`` that names the accepted values.

    Why: the engine tests the setting for truth ("move the festival at all?"), so a policy's ``"off"`` passed on
    as it is would have switched the move *on*; every way in (``Settings``, ``forecast``, ``backtest``, the
    command line, the tobacco policy) goes through here.
    """
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in FESTIVAL_MODES:
        return FESTIVAL_MODES[key]
    raise ValueError(f"春节调整只能是 auto / on / off / spring_festival must be one of auto, on, off (got {value!r})")


def festival_word(value: str | bool) -> str:
    """The word of :data:`FESTIVAL_MODES` for a Spring Festival setting (``"auto"``, ``True`` -> ``"on"``, ...):
    how pages, job results and the audit show it."""
    mode = festival_mode(value)
    return next(word for word, m in FESTIVAL_MODES.items() if m == mode)


@dataclass
class SeriesForecast:
    mean: np.ndarray
    sigma: np.ndarray  # standard deviation of the forecast error per step (0 = no uncertainty)
    model: str
    # Backtest errors divided by the sigma the same model gave on that fold: shape (folds, steps), NaN where the
    # sigma was 0; None when the series had no backtest (new, flat, zero, short, baselines).
    resid: np.ndarray | None = None
    # Calibration pool: "regular" (regular and short series), "intermittent", or "" (not calibrated).
    pool: str = ""


# ---------------------------------------------------------------- shared pieces of the candidates


def centred_weights(m: int) -> np.ndarray:
    """Weights of the centred moving average over one season (2 x m for an even m): the trend that the classical
    decomposition divides by, for one series here and for the pooled index of blend.py."""
    return np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m


def trend_slope(x: np.ndarray) -> np.ndarray:
    """Least-squares slope per month of ``x`` along its last axis (one series, or series x months)."""
    k = x.shape[-1]
    tc = np.arange(k) - (k - 1) / 2
    return x @ tc / float(tc @ tc)


def theta_drift(alpha: float | np.ndarray, n: int, h: int) -> np.ndarray:
    """Steps 1..h of the Hyndman-Billah drift of the Theta method on ``n`` months with SES smoothing ``alpha``
    (one value, or one per series: then series x h); times half the trend slope it makes Theta line 2."""
    a = np.asarray(alpha, dtype=float)
    memory = np.where(a > 1e-9, (1 - (1 - a) ** n) / np.maximum(a, 1e-9), float(n))
    return np.arange(h) + memory[..., None]


# ---------------------------------------------------------------- seasonal index with the Spring Festival


def _seasonality_significant(y: np.ndarray, m: int, diff_ratio: float = 0.0, centred: bool = False) -> bool:
    """The lag-``m`` autocorrelation test at 90 %, or (``diff_ratio`` > 0) year-on-year changes that are
    clearly smaller than month-on-month ones.

    The second rule is for short histories: with 2-3 years the autocorrelation test has little power (a strong
    sawtooth pattern makes the lower lags large, which widens the limit, and the lag-``m`` estimate is damped by
    ``(n - m) / n``), while a series whose months repeat last year's far better than last month's is plainly
    seasonal. Noise gives a ratio near 1, a random walk sqrt(m).

    ``centred`` takes each kind of change from its mean first. Growth adds ``m`` months of it to every
    year-on-year change and one month's to a month-on-month change, so a smooth pattern on a growing series
    (summer sales twice the winter's, 10 % more each year) read as "not seasonal" by both tests: its
    year-on-year changes were the growth, its month-on-month ones small. A single such series of three years
    was then forecast flat through its summer peak, 2.17 x AutoETS's MASE at 12 months (round 14). Centred, a
    trend plus noise still gives about 1 and a random walk still sqrt(m).

    Two whole seasons are enough (the centred moving average then leaves one ratio for every calendar month):
    with ``2 m + 1`` required, as before round 6, a call of 24-month histories forecast a year ahead had no
    seasonal candidate but the seasonal naive, while 8 tuning sets cut to 36 months and forecast 12 ahead went
    from 1.064 to 0.717 x AutoETS when the test may run (PBS 1.75 -> 0.69, tourism 1.19 -> 0.60). The backtest
    origins still leave ``2 m + 1`` months (models.kejing_forecast): origins at 24 months cost the synthetic
    shop panel badly (0.935 -> 1.064). On that panel cut to 24 months the change costs a little, 0.950 ->
    0.963 (one year of ratios cannot place the Spring Festival; docs/forecasting-engine.md, round 6).
    """
    n = len(y)
    if m <= 1 or n < 2 * m:
        return False
    x = y - y.mean()
    den = float(x @ x)
    if den <= 0:
        return False
    acf = np.correlate(x, x, "full")[n : n + m] / den  # lags 1..m
    limit = 1.645 * math.sqrt((1 + 2 * float(acf[:-1] @ acf[:-1])) / n)
    if abs(acf[-1]) > limit:
        return True
    if diff_ratio <= 0:
        return False
    d1, dm = np.diff(y), y[m:] - y[:-m]
    if centred:
        d1, dm = d1 - d1.mean(), dm - dm.mean()
    plain = float(np.abs(d1).mean())
    return plain > 0 and float(np.abs(dm).mean()) < diff_ratio * plain


def seasonal_index(y: np.ndarray, start: int, h: int, settings: Settings) -> tuple[np.ndarray | None, bool, bool]:
    """Seasonal index for every month of history and horizon (length ``n + h``), or ``None`` when not seasonal.

    Returns ``(index, multiplicative, festival_moved)``. The index is classical: ratios (or differences) to a
    centred moving average, averaged per calendar month, normalised, and shrunk toward no seasonality as far as its
    year-to-year spread says it is noise (:func:`_js_factor`).

    Spring Festival: the January and February indices are first pooled (their sum does not depend on where
    the festival falls), then shared between the two months by ``phi``, the average share of that pair that
    fell in the festival month in past years. The festival split replaces the calendar split when the history
    holds festivals in both months and the festival split explains the past January/February shares at least
    twice as well as the calendar split (``spring_festival="auto"``).
    """
    m = settings.season
    n = len(y)
    significant = _seasonality_significant(y, m, settings.season_diff_ratio, settings.season_diff_centred)
    festival_possible = m == 12 and bool(settings.spring_festival) and n >= 2 * m + 1 and y.min() > 0
    if not significant and not festival_possible:
        return None, False, False
    multiplicative = bool(y.min() > 0)
    weights = centred_weights(m)
    trend = np.convolve(y, weights, "valid")
    off = (len(weights) - 1) // 2
    t = np.arange(off, off + len(trend))
    if multiplicative and trend.min() <= 0:
        multiplicative = False
    detrended = y[t] / trend if multiplicative else y[t] - trend
    pos = (start + t) % m
    if np.bincount(pos, minlength=m).min() == 0:
        return None, False, False
    # recent years count more: weight decay**age, age = whole seasons before the last detrended month
    w = settings.season_decay ** ((t[-1] - t) // m) if settings.season_decay != 1.0 else np.ones(len(t))
    wsum = np.bincount(pos, weights=w, minlength=m)
    s = np.bincount(pos, weights=detrended * w, minlength=m) / wsum
    keep = _js_factor(detrended, pos, w, wsum, s, m, settings) * settings.season_shrink
    s = s / s.mean() if multiplicative else s - s.mean()
    s = (1 + keep * (s - 1)) if multiplicative else keep * s
    if not significant:
        # no calendar seasonality of its own: keep only the January/February pair for the festival
        s[2:] = 1.0
    months = start + np.arange(n + h)
    index = s[months % m]
    moved = False
    if m == 12 and multiplicative and settings.spring_festival:
        pairs = (start + np.arange(n), y) if settings.festival_raw_shares else None
        moved = _move_festival(index, months, t, start, detrended, s, settings, pairs)
    if not significant and not moved:
        return None, False, False
    return index, multiplicative, moved


def mean_ratio_variance(wsum: np.ndarray, wxx: np.ndarray, mean: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """The variance of each weighted mean of ratios (elementwise), from the sums over its years: ``wsum`` = sum w,
    ``wxx`` = sum w x^2, ``mean`` = sum w x / sum w, ``w2`` = sum w^2; at least two years each.

    sum w (x - mean)^2 = sum w x^2 - (sum w) mean^2; over sum w, unbiased by the effective number of years
    e = (sum w)^2 / sum w^2, it is the spread of one year's ratio, and divided by e that of the mean:
    sum w^2 (...) / (sum w ((sum w)^2 - sum w^2)). Shared by a series' own index (:func:`_js_factor`) and its mix
    with the call's (``blend._toward_group``), so that both judge the noise the same way.
    """
    return (wxx - wsum * mean * mean) * w2 / (wsum * (wsum * wsum - w2))


def _js_factor(
    detrended: np.ndarray,
    pos: np.ndarray,
    w: np.ndarray,
    wsum: np.ndarray,
    s: np.ndarray,
    m: int,
    settings: Settings,
) -> float:
    """How much of a series' seasonal index to keep (0-1): the James-Stein factor
    ``1 - (m - 3) * v / sum((s - mean)^2)``, with ``v`` the mean variance of a calendar month's weighted mean of
    detrended ratios, estimated from their spread over the years (Miller and Williams 2003).

    Why: the index of a noisy series is mostly its noise; every local candidate multiplies its forecast by it.
    The seasonality test only says that *some* pattern is there, not how much of the estimated one to believe;
    shrinking by the evidence keeps a clean pattern whole and flattens a noisy one. January and February are
    left out of the spread where the Spring Festival may move them (a moving peak is not noise). A month with
    fewer than 2 ratios gives no spread; with fewer than 3 such months the index is kept as it is (2 years).
    """
    k = settings.season_js
    if k <= 0:
        return 1.0
    # months with at least two ratios: ``pos`` runs through consecutive months, so after the first season every
    # month of the second one has two, and from two whole seasons on every month has (then a slice, cheaper)
    n = len(pos)
    skip = 2 if m == 12 and settings.spring_festival else 0
    if n >= 2 * m:
        use: slice | np.ndarray = slice(skip, None)
        used = m - skip
    else:
        use = np.zeros(m, dtype=bool)
        use[pos[: max(0, n - m)]] = True
        use[:skip] = False
        used = int(np.count_nonzero(use))
    if used < 3:
        return 1.0
    wxx = np.bincount(pos, weights=w * detrended * detrended, minlength=m)[use]
    w2 = np.bincount(pos, weights=w * w, minlength=m)[use]
    var = float(mean_ratio_variance(wsum[use], wxx, s[use], w2).sum()) / used
    dev = s - float(s.sum()) / m
    signal = float(dev @ dev)
    if signal <= 0:
        return 1.0
    return min(1.0, max(0.0, 1.0 - k * (m - 3) * var / signal))


def _move_festival(
    index: np.ndarray,
    months: np.ndarray,
    t: np.ndarray,
    start: int,
    detrended: np.ndarray,
    s: np.ndarray,
    settings: Settings,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> bool:
    """Re-split January and February of ``index`` (past and future months) by where each year's festival buying
    fell; ``False`` (index untouched) where the history does not show it (``"auto"``) or has no pair.

    Each year's January share of the pair is modelled as ``phi * x + (1 - phi) * (1 - x)``, ``x`` the share of
    the festival buying that falls in January (:func:`calendar.festival_january_share`, for each window of
    ``Settings.festival_windows``; the window that fits the past shares best is taken) and ``phi`` by least
    squares. With no window ``x`` is 1 or 0 and ``phi`` is the mean share of the pair in the festival's month.
    """
    abs_month = start + t
    if pairs is None:
        by_month = dict(zip(abs_month.tolist(), detrended.tolist(), strict=True))
    else:
        abs_month, values = pairs
        by_month = dict(zip(abs_month.tolist(), values.tolist(), strict=True))
    shares_jan: list[float] = []
    years: list[int] = []
    for year in sorted({a // 12 for a in abs_month.tolist()}):
        jan, feb = by_month.get(year * 12), by_month.get(year * 12 + 1)
        if jan is None or feb is None or jan + feb <= 0:
            continue
        shares_jan.append(jan / (jan + feb))
        years.append(year)
    if not shares_jan:
        return False
    share = np.array(shares_jan)
    best: tuple[float, float, int] | None = None  # (sse, phi, window)
    for window in settings.festival_windows:
        x = np.array([festival_january_share(y, window, settings.lead_days) for y in years])
        if settings.spring_festival == "auto" and float(x.max() - x.min()) < 0.25:
            continue  # the festival fell alike every year: nothing tells it from the calendar
        d = 2 * x - 1
        denom = float(d @ d)
        if denom <= 0:
            continue
        phi = min(1.0, max(0.0, float(d @ (share - 1 + x)) / denom))
        sse = float(((share - phi * x - (1 - phi) * (1 - x)) ** 2).sum())
        if best is None or sse <= best[0]:  # a tie goes to the later (the policy's) window
            best = (sse, phi, window)
    if best is None:
        return False
    sse_festival, phi, window = best
    if settings.spring_festival == "auto":
        sse_calendar = float(((share - share.mean()) ** 2).sum())
        if not sse_festival < 0.5 * sse_calendar:
            return False
    pair = s[0] + s[1]
    for i in np.flatnonzero(months % 12 <= 1).tolist():
        a = int(months[i])
        x = festival_january_share(a // 12, window, settings.lead_days)
        jan = phi * x + (1 - phi) * (1 - x)
        index[i] = pair * (jan if a % 12 == 0 else 1 - jan)
    return True


# ---------------------------------------------------------------- candidates

# The local candidates of a regular series, in this order (rows of LocalFit.cands); the global candidates of
# blend.py come after them.
LOCAL_CANDIDATES = (
    "ses",
    "theta",
    "theta3",
    "seasonal_naive",
    "naive",
    "local_trend",
    "seasonal_growth",
    "seasonal_smooth",
    "damped_trend",
)


# SES smoothing values tried by ses_fit: from "the mean of the whole history" (0.0001, ETS's lower bound) to
# "the last month" (0.99); spaced more finely where monthly sales usually land.
SES_ALPHAS = np.array([0.0001, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 0.99])
# Histories up to this many months use cached (alphas x n x n) smoothing matrices (at most 16 lengths, 2.2 MB
# each at 144); longer ones, rare in monthly sales, filter once per alpha.
_SES_MATRIX_MAX = 144


@lru_cache(maxsize=16)
def _ses_operators(n: int, alphas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For histories of ``n`` months: the matrices that give each month's SES forecast from a zero start (one per
    alpha, strictly lower triangular), the weights of the final level, and ``(1 - alpha) ** t``."""
    a = np.asarray(alphas)[:, None]
    t = np.arange(n)
    lag = t[:, None] - t[None, :] - 1
    prev = np.where(lag[None] >= 0, a[:, :, None] * (1 - a[:, :, None]) ** np.maximum(lag, 0)[None], 0.0)
    last = a * (1 - a) ** (n - 1 - t)[None, :]
    return prev, last, (1 - a) ** t[None, :]


def ses_fit(x: np.ndarray, alphas: np.ndarray = SES_ALPHAS, fit_start: bool = True) -> tuple[float, float, float]:
    """Simple exponential smoothing as ETS(A,N,N): ``(alpha, final level, sigma)`` with the initial level and
    ``alpha`` (one of ``alphas``) chosen together by least one-step squared error, the first month included.

    Each month's forecast is ``(1 - alpha) ** t * l0`` plus the SES of the months before it started from zero,
    so for each alpha the best ``l0`` is a one-variable least-squares fit, and all alphas take a few matrix
    products. Why not statsforecast's ``SimpleExponentialSmoothingOptimized``: it starts the level at the first
    month, so a noisy first month keeps alpha high where the plain mean would do (white noise, 48 months: its
    SES 1.09 x AutoETS's MASE, this one 1.05); with the level started where it fits best, a small alpha gives
    the long-run mean, as AutoETS's ETS(A,N,N) does. statsforecast's ``AutoETS(model="ANN")`` fits the same
    model by numerical optimisation at about 110 us a series against about 20 here, and scored a little worse
    in the blend (docs/forecasting-engine.md, round 7).

    ``fit_start=False`` starts the level at the first month instead (its error is then 0): for histories under
    two seasons, which have no seasonal index, a fitted start with a small alpha would average a part of the
    season into the level, where following the latest months does better (8 tuning sets with 12 / 15 / 18
    months of history, horizon 3: MASE 0.941 / 0.903 / 0.809 x AutoETS with the fitted start, 0.932 / 0.869 /
    0.813 with the first month's).
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return float(alphas[0]), 0.0, 0.0
    a = np.asarray(alphas, dtype=float)
    if n <= _SES_MATRIX_MAX:
        prev_op, last_op, decay = _ses_operators(n, tuple(a.tolist()))
        prev = prev_op @ x
        last = last_op @ x
    else:
        from scipy.signal import lfilter

        smooth = np.stack([lfilter([ai], [1.0, ai - 1.0], x) for ai in a])
        prev = np.concatenate([np.zeros((len(a), 1)), smooth[:, :-1]], axis=1)
        last = smooth[:, -1]
        decay = (1 - a[:, None]) ** np.arange(n)[None, :]
    resid = x[None, :] - prev
    if fit_start:
        l0 = (resid * decay).sum(axis=1) / (decay * decay).sum(axis=1)
    else:
        l0 = np.full(len(a), x[0])
    err = resid - decay * l0[:, None]
    sse = np.einsum("ij,ij->i", err, err)
    k = int(np.argmin(sse))
    level = float(last[k] + (1 - a[k]) ** n * l0[k])
    return float(a[k]), level, float(np.sqrt(sse[k] / max(n - 1, 1)))


@dataclass
class LocalFit:
    """The local candidates of one regular or short series from one origin.

    ``cands`` has one row per name of :data:`LOCAL_CANDIDATES` (NaN where a candidate needs more history);
    ``adjusted`` is the seasonally adjusted history and ``future`` the seasonal index of the forecast months
    (``None`` when the series is not seasonal), which the global model of blend.py reuses.
    """

    cands: np.ndarray
    sigma: np.ndarray
    adjusted: np.ndarray
    future: np.ndarray | None
    multiplicative: bool


def seasonal_break(y: np.ndarray, settings: Settings) -> bool:
    """Whether the series broke away from last year's level in its latest months (``Settings.break_ratio``).

    Why: the seasonal naive and its grown versions copy last year's months. After a collapse (a product
    delisted, a shop half closed) or a jump (a new listing) they forecast the old level for a whole year, and
    the weights learned on backtests from before the break still trust them. The test asks for every one of
    the last ``break_months`` months to lie beyond the ratio, so one odd month or a moved holiday does not
    count; round 11 of the docs found that a looser rule (two months, 15-50 %) fired on jumps that fell back.
    """
    f, q, m = settings.break_ratio, settings.break_months, settings.season
    n = len(y)
    if f <= 0 or q < 1 or n < m + q:
        return False
    now = np.asarray(y[n - q :], dtype=float)
    before = np.asarray(y[n - m - q : n - m], dtype=float)
    if not (before > 0).all():
        return False
    return bool((now * f < before).all() or (now > before * f).all())


def local_fit(y: np.ndarray, start: int, h: int, settings: Settings) -> LocalFit:
    """Candidate forecasts of a series with at least three months of history, and sigma per step.

    On the seasonally adjusted series: :func:`ses_fit`'s SES; Theta lines 2 and 3 (the SES plus a half
    or two thirds of the slope of the linear trend over the whole history, with the Hyndman-Billah drift term);
    the naive (last adjusted month); a local trend (the SES level plus the slope of the last two years, which
    follows a trend that bent long ago, as in employment- or retail-like series) and the same slope damped by
    0.9 a month (it adds at most 9 months of it). Besides them, the seasonal naive (last year's months,
    January/February re-weighted where the Spring Festival moved) and, for positive series with two years, two
    versions of it grown by the latest year's growth over the year before (compounded each further year): last
    year's months, and the mean of the last two years' (less noisy). They cost a few array operations and gave
    the blend 0.4 % MASE on the tuning sets (docs/forecasting-engine.md). After a break (:func:`seasonal_break`)
    those three are left out (NaN), and the blend spreads their weight over the rest.
    """
    m = settings.season
    n = len(y)
    index, multiplicative, _ = seasonal_index(y, start, h, settings)
    if index is None:
        adjusted = y
    else:
        hist = index[:n]
        adjusted = y / hist if multiplicative else y - hist
    alpha, level, sigma = ses_fit(adjusted, fit_start=n >= 2 * m)
    steps = np.arange(1, h + 1)
    slope = float(trend_slope(adjusted)) if n > 2 else 0.0
    drift = theta_drift(alpha, n, h)
    k = min(2 * m, n)
    recent_slope = float(trend_slope(adjusted[n - k :])) if k > 2 else 0.0
    cands = np.full((len(LOCAL_CANDIDATES), h), np.nan)
    cands[0] = level
    cands[1] = level + slope / 2 * drift  # theta line 2: half the trend slope
    cands[2] = level + slope * 2 / 3 * drift  # theta line 3: two thirds of it
    cands[4] = adjusted[-1]
    cands[5] = level + recent_slope * steps
    cands[8] = level + recent_slope * np.cumsum(0.9**steps)  # damped local trend
    sig = sigma * np.sqrt(1 + (steps - 1) * alpha**2)
    future = None
    if index is not None:
        future = index[n:]
        if multiplicative:
            cands *= future[None, :]
            sig = sig * future
        else:
            cands += future[None, :]
    if n >= m:
        reps = -(-h // m)
        snaive = np.tile(y[n - m :], reps)[:h]
        if index is not None and multiplicative:
            # festival move: last year's January/February re-weighted to where the festival falls now
            snaive = snaive * index[n : n + h] / np.tile(index[n - m : n], reps)[:h]
        cands[3] = snaive
        if n >= 2 * m:
            last, before = float(y[n - m :].sum()), float(y[n - 2 * m : n - m].sum())
            if last > 0 and before > 0:
                # last year's months times the growth of the latest year over the one before, compounded
                growth = (last / before) ** (1 + np.arange(h) // m)
                cands[6] = snaive * growth
                two = np.tile(y[n - 2 * m : n - m], reps)[:h]
                if index is not None and multiplicative:  # the festival move, as for the seasonal naive
                    two = two * index[n : n + h] / np.tile(index[n - 2 * m : n - m], reps)[:h]
                cands[7] = (snaive + two * (last / before)) / 2 * growth
        if seasonal_break(y, settings):
            cands[[3, 6, 7]] = np.nan
    return LocalFit(cands, sig, adjusted, future, multiplicative)


_CROSTON_FAMILY = ("croston", "adida", "imapa", "tsb")


def _intermittent_candidates(y: np.ndarray, h: int, only: str | None = None) -> dict:
    """Forecasts of the intermittent candidates by name: the Croston family, their mean (``combo``) and the SES
    level; ``only`` computes just that one (and what it needs) for the final fit of the chosen model."""
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonOptimized

    makers = {
        "croston": CrostonOptimized,
        "adida": ADIDA,
        "imapa": IMAPA,
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2),
    }
    if only is None or only == "combo":
        family = _CROSTON_FAMILY
    else:
        family = (only,) if only in makers else ()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in family:
            f = makers[name]().forecast(y=y, h=h)["mean"]
            out[name] = np.nan_to_num(np.asarray(f, dtype=float))
    if only in (None, "combo"):
        out["combo"] = sum(out[name] for name in _CROSTON_FAMILY) / len(_CROSTON_FAMILY)
    if only in (None, "ses"):
        out["ses"] = np.full(h, max(ses_fit(y)[1], 0.0))
    return out


# ---------------------------------------------------------------- one series


def launch_months(y: np.ndarray, settings: Settings) -> int:
    """How many leading zero months to leave out of a series: those before its first sale, when the months
    from that sale on are not intermittent (``Settings.trim_leading_zeros``); 0 otherwise.

    Why: an export that lists every product or shop for every month writes 0 for the months before a spec was
    launched. Read as demand, they made a new spec with a year of steady sales look intermittent (the Croston
    family and a flattened seasonal pattern) and put its launch jump into the seasonal index; the months before a
    launch say nothing about demand. Only a whole season of zeros counts as "not yet on sale": on the tuning sets
    shorter leading runs (1-4 months: Ames home sales, Superstore) are slow starts whose zeros the forecast
    needs (left out, Ames home sales per type went 1.004 -> 1.061 x AutoETS, Superstore at 12 months 0.879 ->
    0.900). A series that stays
    sparse after its first sale keeps its zeros: for it the gap before the first sale is like the gaps after it.
    So does one whose first sale is one of its last two months: 44 zeros and then 7,281 scripts in one month is a
    blip as often as a launch (PBS, where the next months were 0 again), and read as a launch its forecast was
    7,281.
    """
    if not settings.trim_leading_zeros or len(y) == 0 or y[0] != 0:
        return 0
    nonzero = np.flatnonzero(y)
    if len(nonzero) == 0:
        return 0
    first = int(nonzero[0])
    after = y[first:]
    if first < settings.season or len(after) < 3 or np.mean(after == 0) >= settings.intermittent_share:
        return 0
    return first


def classify(y: np.ndarray, settings: Settings) -> str:
    """``zero``, ``new`` (fewer than 3 months), ``flat``, ``intermittent``, ``short`` (< 2 seasons) or ``regular``."""
    n = len(y)
    if not np.any(y):
        return "zero"
    if n < 3:
        return "new"
    if np.all(y == y[-1]):
        return "flat"
    if np.mean(y == 0) >= settings.intermittent_share:
        return "intermittent"
    if n < 2 * settings.season:
        return "short"
    return "regular"


@dataclass
class Origin:
    """One rolling origin of a regular series: the local fit on the months before ``cut`` and what followed."""

    cut: int
    fit: LocalFit
    actual: np.ndarray
    scale: float  # in-sample MAE of the seasonal naive on the training months (the MASE scale); 0 = unusable


@dataclass
class RegularParts:
    """What one process computes for a regular or short series; blend.py combines it with the global models."""

    final: LocalFit
    origins: list[Origin]

    def pack(self) -> np.ndarray:
        """One flat float array: a Dask worker or forked process sends one array a series instead of some
        twenty small objects (pickling those cost more than the blend itself; measured 0.45 s vs 0.02 s for
        5,000 series). Floats are copied bit for bit, so packed and unpacked results are identical."""
        head = [float(len(self.origins))]
        body: list[np.ndarray] = []
        for fit, extra in [(self.final, (0.0, 0.0))] + [(o.fit, (float(o.cut), o.scale)) for o in self.origins]:
            steps = fit.cands.shape[1]
            has_future = fit.future is not None
            head += [float(steps), float(len(fit.adjusted)), float(has_future), float(fit.multiplicative), *extra]
            body += [fit.cands.ravel(), fit.sigma, fit.adjusted]
            if has_future:
                body.append(fit.future)
        body += [o.actual for o in self.origins]
        return np.concatenate([np.array(head), *body])


@dataclass
class Fits:
    """One origin's (or the final) local fits of a group of series that share a layout: row i is series i."""

    cands: np.ndarray  # series x LOCAL_CANDIDATES x steps
    sigma: np.ndarray  # series x steps
    adjusted: np.ndarray  # series x months of history
    future: np.ndarray  # series x steps; NaN rows where the series is not seasonal
    multiplicative: np.ndarray  # series, bool


@dataclass
class Group:
    """Regular series with one layout (history length, origins, backtest horizons), unpacked together."""

    rows: np.ndarray  # positions among the call's packed regular series
    final: Fits
    cuts: list[int]
    origins: list[Fits]
    actual: list[np.ndarray]  # per origin: series x backtest horizon
    scale: list[np.ndarray]  # per origin: series (MASE scale, 0 = unusable)


def unpack_groups(packed: list[np.ndarray]) -> list[Group]:
    """Unpack :meth:`RegularParts.pack` arrays, series of the same layout stacked into matrices.

    A call's series mostly share a few layouts (same history length and origins), so the blend works on a few
    matrices instead of one object per series and origin. Groups come in order of first appearance.
    """
    layouts: dict[tuple, list[int]] = {}
    for i, a in enumerate(packed):
        k = int(a[0])
        heads = a[1 : 1 + 6 * (k + 1)].reshape(k + 1, 6)
        key = (len(a), k, heads[:, [0, 1, 2, 4]].tobytes())
        layouts.setdefault(key, []).append(i)
    c = len(LOCAL_CANDIDATES)
    groups = []
    for members in layouts.values():
        m = np.stack([packed[i] for i in members])
        k = int(m[0, 0])
        heads = m[0, 1 : 1 + 6 * (k + 1)].reshape(k + 1, 6)
        pos = 1 + 6 * (k + 1)
        fits = []
        for j, (steps, n, has_future, _, _, _) in enumerate(heads.tolist()):
            steps, n = int(steps), int(n)
            cands = m[:, pos : pos + c * steps].reshape(len(m), c, steps)
            pos += c * steps
            sigma, adjusted = m[:, pos : pos + steps], m[:, pos + steps : pos + steps + n]
            pos += steps + n
            future = np.full((len(m), steps), np.nan)
            if has_future:
                future, pos = m[:, pos : pos + steps], pos + steps
            fits.append(Fits(cands, sigma, adjusted, future, m[:, 1 + 6 * j + 3] > 0))
        actual = []
        for steps in heads[1:, 0].tolist():
            actual.append(m[:, pos : pos + int(steps)])
            pos += int(steps)
        scale = [m[:, 1 + 6 * j + 5] for j in range(1, k + 1)]
        groups.append(Group(np.asarray(members), fits[0], [int(x) for x in heads[1:, 4]], fits[1:], actual, scale))
    return groups


def mase_scale(train: np.ndarray, season: int) -> float:
    """The MASE denominator: in-sample MAE of the seasonal naive (lag 1 when the history is not longer)."""
    lag = season if len(train) > season else 1
    if len(train) <= lag:
        return 0.0
    return float(np.mean(np.abs(train[lag:] - train[:-lag])))


def origins_of(n: int, h: int, settings: Settings, min_train: int, whole_season: bool = False) -> tuple[int, list[int]]:
    """Backtest horizon and the cuts of the rolling origins (latest first) that leave ``min_train`` months.

    The backtest horizon is ``h`` capped at ``select_horizon``. With ``whole_season`` it is ``select_horizon``
    (a whole year) whenever the history allows one such origin, even for a shorter ``h``: the series of one call
    usually end in the same month, so backtests of 1-3 months would all fall in the same few calendar months
    (never the festival months, say) and teach the blend weights that only suit those months.

    With ``whole_season``, a history that has room for neither (36 months against a horizon of 12: no origin
    leaves 25 months and 12 after it) gets one origin at ``min_train`` with the ``n - min_train`` months after it
    as its backtest, when those are at least ``select_min_partial``. Without it such a call had nothing to learn
    from and took the prior weights as they are: 8 tuning sets cut to 36 months and forecast 12 ahead, MASE
    0.991 x AutoETS with the prior, 0.935 with weights learned on 11-month backtests; cut to 30 months at
    horizon 6, 0.932 -> 0.855; 27 months at horizon 3 (2-month backtests), cut-to-36 group 0.888 -> 0.870
    (docs/forecasting-engine.md, round 6).
    """
    if whole_season:
        full = max(1, settings.select_horizon)
        cuts = [c for c in (n - full * k for k in range(1, settings.select_folds + 1)) if c >= min_train]
        if cuts:
            return full, cuts
    hb = max(1, min(h, settings.select_horizon))
    cuts = [c for c in (n - hb * k for k in range(1, settings.select_folds + 1)) if c >= min_train]
    rest = n - min_train
    if whole_season and not cuts and settings.select_min_partial > 0 and rest >= settings.select_min_partial:
        return rest, [min_train]
    return hb, cuts


def kejing_forecast(y: np.ndarray, start: int, h: int, settings: Settings) -> SeriesForecast | RegularParts:
    """The default method for one series: finished for the simple classes, parts to blend for regular ones."""
    kind = classify(y, settings)
    steps = np.arange(1, h + 1)
    if kind == "zero":
        return SeriesForecast(np.zeros(h), np.zeros(h), "zero")
    if kind == "new":
        level = float(y.mean())
        spread = max(float(np.std(y)), 0.25 * abs(level))
        return SeriesForecast(np.full(h, level), spread * np.sqrt(steps), "new_mean")
    if kind == "flat":
        return SeriesForecast(np.full(h, float(y[-1])), np.zeros(h), "flat")
    if kind == "intermittent":
        return _choose_intermittent(y, h, settings)
    # an origin must leave enough history for the seasonality test (2 seasons + 1), or its fits would be of
    # another kind than the final one (no seasonal index) and teach the blend the wrong weights
    hb, cuts = origins_of(len(y), h, settings, 2 * settings.season + 1, whole_season=True)
    origins = [
        Origin(c, local_fit(y[:c], start, hb, settings), y[c : c + hb], mase_scale(y[:c], settings.season))
        for c in cuts
    ]
    return RegularParts(local_fit(y, start, h, settings), origins)


def _choose_intermittent(y: np.ndarray, h: int, settings: Settings) -> SeriesForecast:
    """Rolling-origin choice for a sparse series: :func:`ses_fit`'s level unless the Croston family (one model,
    or the mean of the four) is clearly better.

    Why the SES by default: with its start fitted and a small alpha it is the long-run mean of the months, zeros
    included, tilted toward the recent ones as much as the history asks, which is what AutoETS's ETS(A,N,N)
    does for such series; the Croston family updates its rate only in months with a sale, so a few recent
    sales sway it. With the mean of the four as the default (the former rule), units per state x sub-category
    scored MASE 0.929 / 0.951 x AutoETS at 3 / 12 months; with the SES 0.907 / 0.917
    (docs/forecasting-engine.md, round 7).
    Judged by squared error, because absolute error favours forecasting zero, which would starve small shops
    in the allocation.
    """
    hb, cuts = origins_of(len(y), h, settings, 6)
    errors: dict[str, float] = {}
    folds: list[tuple[dict, np.ndarray, np.ndarray]] = []  # candidates, sigma, actuals
    for cut in cuts:
        train, actual = y[:cut], y[cut : cut + hb]
        cands, fold_sig = _intermittent_candidates(train, hb), np.full(hb, float(np.std(train)))
        folds.append((cands, fold_sig, actual))
        for name, f in cands.items():
            e = np.maximum(f, 0) - actual
            errors[name] = errors.get(name, 0.0) + float(np.mean(e * e))
    sig = np.full(h, float(np.std(y)))
    chosen = "ses"
    if errors:
        best = min(errors, key=lambda k: (errors[k], k))
        if best != "ses" and errors[best] < settings.margin * errors["ses"]:
            chosen = best
    # the final fit of the chosen model only (the SES for most series: no Croston-family fits on the full history)
    cands = _intermittent_candidates(y, h, only=chosen)
    resid = None
    if folds:
        # the chosen model's own backtest errors, in units of the sigma it gave on that fold: the calibration
        # data, obtained from forecasts already made for the choice (nothing refitted); a zero sigma gives NaN
        resid = np.empty((len(folds), hb))
        for i, (fc, fs, actual) in enumerate(folds):
            resid[i] = (actual - np.maximum(fc[chosen], 0)) / np.where(fs > 0, fs, np.nan)
    return SeriesForecast(cands[chosen], sig, chosen, resid, "intermittent")


# ---------------------------------------------------------------- baselines


def seasonal_naive_forecast(y: np.ndarray, h: int, season: int) -> SeriesForecast:
    """statsforecast's SeasonalNaive; a series shorter than a season repeats its last value (Naive)."""
    n = len(y)
    if n >= season:
        reps = -(-h // season)
        mean = np.tile(y[n - season :], reps)[:h]
        diffs = y[season:] - y[:-season]
        s = float(np.sqrt(np.mean(diffs * diffs))) if len(diffs) else 0.0
        return SeriesForecast(mean, s * np.sqrt(np.floor(np.arange(h) / season) + 1), "seasonal_naive")
    diffs = np.diff(y)
    s = float(np.sqrt(np.mean(diffs * diffs))) if len(diffs) else 0.0
    return SeriesForecast(np.full(h, float(y[-1])), s * np.sqrt(np.arange(1, h + 1)), "naive")


def auto_ets_forecast(y: np.ndarray, h: int, season: int) -> SeriesForecast:
    """statsforecast's AutoETS with its own 80 % interval turned into a sigma; tiny series fall back to Naive."""
    from statsforecast.models import AutoETS

    if not np.any(y) or np.all(y == y[0]):
        return SeriesForecast(np.full(h, float(y[-1])), np.zeros(h), "auto_ets")
    m = season if len(y) >= 2 * season else 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = AutoETS(season_length=m).forecast(y=y, h=h, level=[80])
    except Exception:  # statsforecast refuses tiny or degenerate series ("tiny datasets")
        res = seasonal_naive_forecast(y, h, season)
        return SeriesForecast(res.mean, res.sigma, "naive")
    mean = np.asarray(out["mean"], dtype=float)
    sigma = (np.asarray(out["hi-80"], dtype=float) - mean) / _Z[80]
    return SeriesForecast(mean, np.nan_to_num(sigma), "auto_ets")


METHODS = ("kejing", "seasonal_naive", "auto_ets")


def forecast_one(y: np.ndarray, start: int, h: int, method: str, settings: Settings) -> SeriesForecast | RegularParts:
    """Dispatch one series to ``method``; NaN-free, never negative. A regular series of the Kejing method comes
    back as :class:`RegularParts`, finished by ``blend.blend_regular`` once every chunk is in."""
    if method == "kejing":
        res = kejing_forecast(y, start, h, settings)
        if isinstance(res, RegularParts):
            return res
    elif method == "seasonal_naive":
        res = seasonal_naive_forecast(y, h, settings.season)
    elif method == "auto_ets":
        res = auto_ets_forecast(y, h, settings.season)
    else:
        raise ValueError(f"未知预测方法 / unknown method {method!r}; use one of {', '.join(METHODS)}")
    return finish(res, settings)


def finish_arrays(mean: np.ndarray, sigma: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts never negative and without NaN; sigmas without NaN, scaled by ``interval_scale``. Works on one
    series or on a matrix of them (blend.py finishes all regular series at once)."""
    mean = np.maximum(np.nan_to_num(np.asarray(mean, dtype=float)), 0.0)
    return mean, np.abs(np.nan_to_num(np.asarray(sigma, dtype=float))) * settings.interval_scale


def finish(res: SeriesForecast, settings: Settings) -> SeriesForecast:
    """NaN-free, never-negative forecast; sigmas (and residuals in sigma units) scaled by ``interval_scale``."""
    mean, sigma = finish_arrays(res.mean, res.sigma, settings)
    resid = res.resid
    if resid is not None:
        resid = resid / settings.interval_scale if settings.interval_scale > 0 else None
    return SeriesForecast(mean, sigma, res.model, resid, res.pool)
