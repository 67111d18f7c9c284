"""The blend of a regular series: local candidates, pooled autoregressions, weights learned on the backtest.

Why a blend learned across the series of a call, rather than one series at a time:

* A fixed combination (the old default: the mean of SES, two Theta lines and the seasonal naive) is good on
  noisy, weakly seasonal series and poor on smooth trending ones (MASE 1.22 x AutoETS on US employment) and on
  strongly seasonal ones; which candidate deserves weight depends on the kind of data, and the series of one
  call (one tobacco company's shops x specs) are mostly of one kind. Weights learned on their pooled
  backtest adapt to it.
* Choosing per series from its own few backtest origins alone is noisy; here the series' own backtest only tilts the
  pooled weights (``w_c`` proportional to ``exp(z_c - beta * relative_error_c)``), and how much it tilts
  (``beta``) is learned as well: on one origin's errors, with the tilt taken from the other origin, so that
  the evidence is never judged on itself.
* Pooled ("global") autoregressions learn from every series of the call at once (cross-learning, Montero-Manso
  and Hyndman 2021): one linear model of each of the next months from the last ``global_lags`` months, each
  window divided by its mean level, fitted by least squares over the windows of all series; on the raw series
  (it learns the seasonality from the lags), on the seasonally adjusted ones, on the logarithms (growth
  rates), and on the year-on-year log growth (each month = the same month a year before times the predicted
  growth: a seasonal pattern that moves keeps its latest shape; Australian retail, horizon 12: MASE 0.962 ->
  0.955 x AutoETS). On few or short series they drop out of the blend by themselves (no fit, or no weight).
* A damped Holt on each seasonally adjusted series (:func:`holt_damped`: a trend re-estimated every month and
  damped as much as the series needs, which the fixed-slope Theta and local-trend candidates cannot do; M3
  macro/finance/demographic/other 1.019 -> 0.984 x AutoETS) is the series' own model but is computed here,
  vectorised over the series, because a statsforecast fit a series at a time would cost more than the rest;
  so is a level times a seasonal that keeps moving (:func:`evolving_season`, ETS(A,N,M)-like), for series
  whose seasonal index the Spring Festival did not move.
* One more pooled candidate borrows only the seasonal pattern: each series' Theta line on its history adjusted
  by a seasonal index taken over all series of the call (:func:`pooled_season`), for shops whose own few noisy
  years give a poor index of their own (synthetic shop panel, horizon 3: MASE 0.972 -> 0.932 x AutoETS). Its
  prior weight follows how much the call's series share one pattern (:func:`call_prior`), and intermittent
  series, which the blend does not serve, take the call's pattern too (:func:`season_intermittent`). A
  seventeenth takes the call's index plus the James-Stein share of each series' own deviation from it
  (:func:`_toward_group`): a series that follows the call gets the call's pattern, one whose own differs by more
  than its noise keeps its own (48-month histories, horizon 3: MASE 0.963 -> 0.944 x AutoETS, round 12).

Everything here runs once, after every chunk is back, on arrays in series order: the local, forked and Dask
runs give identical results. The price is that a regular series' forecast depends on the other series
forecast with it (as the interval calibration already did); ``Settings(blend=False)`` gives every series the
prior weights (:data:`PRIOR_LOGITS`), which depend on nothing but the series itself.

Short histories: the weights are taught and tilted by whole-season backtest origins (``select_horizon``
months after at least 2 seasons + 1 months, see ``models.origins_of``). When fewer than ``blend_min_rows`` exist
(histories of 2-3 years, such as 36-month shop ledgers), the backtests of ``h`` months teach them instead; with
too few of those as well, the prior weights are used as they are (the old fixed combination).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .models import (
    LOCAL_CANDIDATES,
    Group,
    SeriesForecast,
    Settings,
    _move_festival,
    auto_ets_forecast,
    centred_weights,
    finish_arrays,
    mean_ratio_variance,
    theta_drift,
    trend_slope,
)

CANDIDATES = (
    *LOCAL_CANDIDATES,
    "global_ar",
    "global_ar_adjusted",
    "global_ar_log",
    "global_ar_yoy",
    "pooled_season",
    "holt_damped",
    "evolving_season",
    "pooled_season_own",
)
# Weights before any learning (logits), for calls with too few backtest rows to learn from and as the pull of
# the learning: the mean of the logits learned on 21 tuning regimes (7 real data sets, each whole, cut to 48
# and to 36 months; docs/forecasting-engine.md), SES at 0. SES, the Theta lines and the seasonal naive carry
# most of the weight (the old fixed combination), the pooled models and the smoothed growing seasonal naive some.
PRIOR_LOGITS = np.array(
    [0.0, -0.1, -0.1, 0.2, -2.0, -2.4, -2.1, -0.9, -2.4, -1.2, -1.6, -1.4, -1.7, -2.0, -1.0, -1.0, -2.0]
)
_EPS = 1e-4  # smoothing of |error| in the learning loss (errors are in MASE units, about 1)
_CLIP = 10.0  # a pooled AR forecast never leaves +-10 times the level of its input window
_CLIP_LOG = 3.0  # nor, in log space, a factor e**3 = 20 from it


Blocks = list[tuple[np.ndarray, np.ndarray]]  # (row numbers, series of one length stacked as rows)


def _blocks(series: list[np.ndarray]) -> Blocks:
    """The series grouped by length (shortest first), each group stacked into one matrix."""
    by_length: dict[int, list[int]] = {}
    for i, y in enumerate(series):
        by_length.setdefault(len(y), []).append(i)
    return [(np.asarray(rows), np.stack([series[i] for i in rows])) for _, rows in sorted(by_length.items())]


def _normalise(x: np.ndarray, centred: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs made level-free: minus their mean (``centred``: logs, growth rates) or divided by their mean
    |value|; rows kept, level."""
    if centred:
        level = x.mean(axis=1)
        return x - level[:, None], np.ones(len(x), dtype=bool), level
    level = np.abs(x).mean(axis=1)
    ok = level > 0
    return x[ok] / level[ok, None], ok, level[ok]


def pooled_ar(
    series: list[np.ndarray] | Blocks, h: int, settings: Settings, space: str = "level", size: int | None = None
) -> np.ndarray:
    """Forecasts (series x h) of the pooled autoregression; NaN where a series is too short (or not positive).

    Direct: one least-squares fit with ``h`` right-hand sides, the months 1..h after each window of
    ``global_lags`` months, over the latest ``global_windows`` windows of every series. ``space`` says how a
    window is made level-free, so that big and small series share one model: ``"level"`` divides it by its
    mean level; ``"log"`` takes logarithms (growth rates) and subtracts their mean; ``"growth"`` (series that
    already are growth rates) only subtracts the mean. A small ridge keeps the normal equations solvable.
    ``series`` may come already grouped (:func:`_blocks`), which saves restacking when one set of series serves
    several fits; ``size`` is the number of output rows when the blocks hold only some of them.
    """
    blocks = _blocks(series) if series and isinstance(series[0], np.ndarray) else series
    n = sum(len(rows) for rows, _ in blocks) if size is None else size
    out = np.full((n, h), np.nan)
    if not n:
        return out
    # as many lags as half of the series allow, at most global_lags and always more than a season (the raw
    # model learns the seasonality from lag 12): a backtest origin of 3-4 year histories then still has a
    # pooled model, which the blend could otherwise never learn to weigh (US employment cut to 48 months,
    # horizon 3: MASE 1.17 -> 0.99 x AutoETS)
    median = int(np.median(np.concatenate([np.full(len(rows), m.shape[1]) for rows, m in blocks])))
    lags = min(settings.global_lags, median - h)
    if lags <= settings.season:
        return out
    centred = space != "level"
    if space == "log":  # only series that never hit zero have a logarithm
        positive = [(rows, m) for rows, m in blocks if m.shape[1]]
        blocks = [(rows[m.min(axis=1) > 0], np.log(m[m.min(axis=1) > 0])) for rows, m in positive]
    width = lags + h
    windows = [
        sliding_window_view(m, width, axis=1)[:, -settings.global_windows :, :].reshape(-1, width)
        for _, m in blocks
        if m.shape[1] >= width and len(m)
    ]
    if not windows:
        return out
    w = np.vstack(windows)
    x, ok, level = _normalise(w[:, :lags], centred)
    if len(x) < 2 * (lags + 1):
        return out
    target = w[ok, lags:] - level[:, None] if centred else w[ok, lags:] / level[:, None]
    x1 = np.c_[x, np.ones(len(x))]
    a = x1.T @ x1
    a[np.diag_indices_from(a)] += settings.global_ridge * np.trace(a) / len(a)
    try:
        beta = np.linalg.solve(a, x1.T @ target)
    except np.linalg.LinAlgError:
        return out
    if not np.all(np.isfinite(beta)):
        return out
    for rows, m in blocks:
        if m.shape[1] < lags or not len(m):
            continue
        x, ok, level = _normalise(m[:, -lags:], centred)
        clip = _CLIP_LOG if centred else _CLIP
        pred = np.clip(np.c_[x, np.ones(len(x))] @ beta, -clip, clip)
        if space == "log":
            out[rows[ok]] = np.exp(pred + level[:, None])
        elif space == "growth":
            out[rows[ok]] = pred + level[:, None]
        else:
            out[rows[ok]] = pred * level[:, None]
    return out


def pooled_yoy(blocks: Blocks, h: int, settings: Settings) -> np.ndarray:
    """Forecasts (series x h) of a pooled autoregression of year-on-year log growth; NaN where not positive.

    Each month's forecast is the same month a year before (or its forecast) times the predicted growth over it.
    """
    m = settings.season
    n = sum(len(rows) for rows, _ in blocks)
    out = np.full((n, h), np.nan)
    positive = [(rows, mat, mat.min(axis=1) > 0) for rows, mat in blocks if mat.shape[1] > m]
    logs = [(rows[ok], np.log(mat[ok])) for rows, mat, ok in positive if ok.any()]
    if not logs:
        return out
    growth = pooled_ar([(rows, lg[:, m:] - lg[:, :-m]) for rows, lg in logs], h, settings, "growth", size=n)
    for rows, lg in logs:
        f = np.empty((len(rows), h))
        for k in range(h):
            f[:, k] = (lg[:, lg.shape[1] - m + k] if k < m else f[:, k - m]) + growth[rows, k]
        out[rows] = np.exp(f)
    return out


_SES_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
_POOL_MONTHS = 120  # months of ratios the pooled seasonal index is taken from (the latest of the call)


def _ses_grid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Final SES level and alpha of each row of ``x`` (series x months), the alpha chosen per row from
    :data:`_SES_ALPHAS` by in-sample one-step squared error.

    Vectorised over series and alphas (one array step a month), because it runs in the blend on every series of
    the call at once; statsforecast's optimiser, one series at a time, would cost more than all else there.
    """
    n, t = x.shape
    level = np.repeat(x[:, :1], len(_SES_ALPHAS), axis=1)
    sse = np.zeros((n, len(_SES_ALPHAS)))
    for j in range(1, t):
        e = x[:, j : j + 1] - level
        sse += e * e
        level = level + _SES_ALPHAS[None, :] * e
    best = sse.argmin(axis=1)
    return level[np.arange(n), best], _SES_ALPHAS[best]


_HOLT_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
_HOLT_BETAS = np.array([0.05, 0.2, 0.5])  # the trend's smoothing as a share of alpha (beta <= alpha, as in ETS)
_HOLT_PHIS = np.array([0.8, 0.9, 0.98])
_HOLT_BLOCK = 512  # rows of holt_damped's recursion at a time: 512 x 54 grid points x 8 bytes, 221 KB an array


def holt_damped(
    x: np.ndarray,
    h: int,
    alphas: np.ndarray = _HOLT_ALPHAS,
    betas: np.ndarray = _HOLT_BETAS,
    phis: np.ndarray = _HOLT_PHIS,
) -> np.ndarray:
    """Damped-trend Holt forecasts (rows x h) of each row of ``x`` (series x months; NaN rows under 4 months).

    Level and trend smoothed as in ETS(A,Ad,N): each month's forecast is ``l + phi * b`` and, with its error
    ``e``, the level becomes ``l + phi * b + alpha * e`` and the trend ``phi * b + beta * e``; the forecast
    ``h`` months ahead is ``l + b * (phi + ... + phi**h)``. The level starts at the first month, the trend at
    the change between the means of the first two half-years (or halves, for short rows). ``alpha``,
    ``beta = alpha * share`` and ``phi`` are chosen per row from the grid (6 x 3 x 3) by in-sample one-step
    squared error, every row and combination in one array step a month.

    Why: the other trend candidates use a fixed slope (the whole history's for Theta, the last two years' for
    the local trends, damped by a fixed 0.9); AutoETS's edge on smooth trending series is a trend that is
    re-estimated month by month and damped as much as the series needs. statsforecast fits that one series at a
    time at a few milliseconds each, too slow for four origins of every series, hence the vectorised grid.
    Measured with this candidate alone (MASE x AutoETS, geometric means, docs/forecasting-engine.md round 6): M3
    macro/finance/demographic/other 1.019 -> 0.984, 48-month histories 0.9678 -> 0.9667, sales sets 0.9416 ->
    0.9408.
    """
    n, t = x.shape
    if t < 4:
        return np.full((n, h), np.nan)
    alpha = np.repeat(alphas, len(betas) * len(phis))
    beta = np.tile(np.repeat(betas, len(phis)), len(alphas)) * alpha
    phi = np.tile(phis, len(alphas) * len(betas))
    k = min(6, t // 2)
    start = (x[:, k : 2 * k].mean(axis=1) - x[:, :k].mean(axis=1)) / k
    best = np.empty(n, dtype=np.int64)
    last_level, last_trend = np.empty(n), np.empty(n)
    # In blocks of rows, updated in place: the whole call's (series x 54) arrays (8.6 MB at 20,000 series) left
    # the cache at every operation, and the recursion was bound by memory, not arithmetic; a block's arrays stay
    # in the cache for all its months. The same operations in the same order (phi * trend serves both the
    # forecast and the new trend, as before), so the same bits: 20,000 series x 36 months 0.38 -> 0.13 s.
    for a in range(0, n, _HOLT_BLOCK):
        xs = x[a : a + _HOLT_BLOCK]
        m = len(xs)
        level = np.repeat(xs[:, :1], len(alpha), axis=1)
        trend = np.repeat(start[a : a + m, None], len(alpha), axis=1)
        sse = np.zeros((m, len(alpha)))
        damped, e, tmp = np.empty_like(sse), np.empty_like(sse), np.empty_like(sse)
        for j in range(1, t):
            np.multiply(phi, trend, out=damped)
            np.add(level, damped, out=level)  # the month's forecast
            np.subtract(xs[:, j : j + 1], level, out=e)
            np.multiply(e, e, out=tmp)
            sse += tmp
            np.multiply(alpha, e, out=tmp)
            level += tmp
            np.multiply(beta, e, out=tmp)
            np.add(damped, tmp, out=trend)
        chosen = sse.argmin(axis=1)
        rows = np.arange(m)
        best[a : a + m], last_level[a : a + m], last_trend[a : a + m] = chosen, level[rows, chosen], trend[rows, chosen]
    damp = np.cumsum(phi[best][:, None] ** np.arange(1, h + 1)[None, :], axis=1)
    return last_level[:, None] + last_trend[:, None] * damp


_EVOLVE_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
_EVOLVE_GAMMAS = np.array([0.05, 0.1, 0.2, 0.3])


def evolving_season(
    y: np.ndarray,
    index: np.ndarray,
    h: int,
    m: int = 12,
    alphas: np.ndarray = _EVOLVE_ALPHAS,
    gammas: np.ndarray = _EVOLVE_GAMMAS,
) -> np.ndarray:
    """Forecasts (rows x h) of a level times a seasonal that keeps moving, for positive rows of ``y`` (series x
    months, at least ``m``); ``index`` (same shape) is each series' own seasonal index, which starts the seasonal.

    Recursions as ETS(A,N,M): each month's forecast is ``l * s`` (``s`` the seasonal of that month of the
    season), its error ``e``; the level becomes ``l + alpha * e / s`` and that month's seasonal
    ``s + gamma * e / l``. The level starts at the mean of the first season's adjusted months. ``alpha`` (six
    values) and ``gamma`` (four) are chosen per series by one-step squared error from the second season on; the
    forecast ``h`` months ahead is the last level times the latest seasonal of that month.

    Why: the decomposition behind the other candidates averages each calendar month's ratios over the years
    (recent ones weigh more, ``season_decay``); where the seasonal shape keeps shifting (retail, tourism: AutoETS
    picks ETS(M,N,M) with a sizeable gamma on most of the Australian retail series) the seasonal updated month
    by month follows it sooner. Vectorised over series and grid like :func:`holt_damped`. Measured (MASE x
    AutoETS, docs/forecasting-engine.md round 6): long sets 0.9212 -> 0.9187 (Australian retail at 12 months
    0.956 -> 0.950, tourism 0.897 -> 0.892), all 35 sets 0.9291 -> 0.9286, the synthetic shops unchanged.
    """
    n, t = y.shape
    alpha = np.repeat(alphas, len(gammas))
    gamma = np.tile(gammas, len(alphas))
    season = np.repeat(index[:, None, :m], len(alpha), axis=1)
    level = np.repeat((y[:, :m] / index[:, :m]).mean(axis=1)[:, None], len(alpha), axis=1)
    sse = np.zeros((n, len(alpha)))
    for j in range(t):
        s = season[:, :, j % m].copy()
        e = y[:, j : j + 1] - level * s
        if j >= m:
            sse += e * e
        season[:, :, j % m] = s + gamma * e / level
        level = np.maximum(level + alpha * e / s, 1e-9)
    best = sse.argmin(axis=1)
    rows = np.arange(n)
    return level[rows, best][:, None] * season[rows, best][:, (t + np.arange(h)) % m]


def _calendar_index(index: np.ndarray, m: int) -> np.ndarray:
    """Rows whose seasonal index repeats exactly over the last two seasons: no Spring Festival move in it.

    A seasonal updated by calendar month cannot follow the festival from January to February; where the
    decomposition moved it (a tobacco company's months), :func:`evolving_season` would undo that, and on the
    synthetic shop panel it cost the 12-month forecast 0.857 -> 0.862 x AutoETS. Those rows sit it out. (An
    index whose last two festivals fell in the same month repeats as well and passes; the synthetic figures
    include such series.) Read from the index rather than passed along from the decomposition, so the packed
    local fits keep their format.
    """
    if index.shape[1] < 2 * m:
        return np.zeros(len(index), dtype=bool)
    last, before = index[:, -m:], index[:, -2 * m : -m]
    return np.all(np.abs(last - before) <= 1e-9 * np.abs(last), axis=1)


def _usable(blocks: Blocks) -> Blocks:
    """The rows that a seasonal ratio can be taken of (never negative, not all zero), blocks left empty dropped."""
    out = []
    for rows, mat in blocks:
        ok = (mat.min(axis=1) >= 0) & (mat.mean(axis=1) > 0) if mat.shape[1] else np.zeros(len(rows), dtype=bool)
        if ok.any():
            out.append((rows[ok], mat[ok]))
    return out


def _trend_ratios(mat: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """Each row's ratios to its centred moving average over one season (NaN where that average is not
    positive), and the column of ``mat`` the first ratio belongs to."""
    weights = centred_weights(m)
    off = (len(weights) - 1) // 2
    trend = sliding_window_view(mat, len(weights), axis=1) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(trend > 0, mat[:, off : off + trend.shape[1]] / trend, np.nan), off


def _pooled_index(blocks: Blocks, starts: np.ndarray, lo: int, span: int, h: int, settings: Settings):
    """The seasonal index shared by the series of a call (``blocks``: non-negative, not all zero), for the
    months ``lo .. lo + span + h - 1``, with the index of each calendar month before the festival move and
    whether the festival moved it; or None.

    Each series' ratios to its centred 2x12 moving average are lined up by calendar month; their median over
    the series (robust to the odd series with a spike or an opposite pattern) is averaged per calendar month
    over the years, recent years weighing more (``season_decay``); then the January/February pair follows the
    Spring Festival where the pooled history shows it, as for one series (:func:`models._move_festival`).
    """
    m = settings.season
    need = len(centred_weights(m)) + m  # a ratio for every calendar month needs a year past the average
    # only the latest _POOL_MONTHS months of the call: older years weigh little (season_decay) and the grid
    # (series x months) stays small when a call mixes series of very different ages
    first = max(0, span - _POOL_MONTHS)
    grids = []
    for rows, mat in blocks:
        if mat.shape[1] < need:
            continue
        ratio, off = _trend_ratios(mat, m)
        cols = starts[rows][:, None] - lo + off + np.arange(ratio.shape[1])[None, :] - first
        keep = cols >= 0
        grid = np.full((len(rows), span - first), np.nan)
        grid[np.nonzero(keep)[0], cols[keep]] = ratio[keep]
        grids.append(grid)
    if not grids:
        return None
    grid = np.vstack(grids)
    t = np.flatnonzero(np.isfinite(grid).any(axis=0)) + first
    grid = grid[:, t - first]
    pos = (lo + t) % m
    if np.bincount(pos, minlength=m).min() == 0:
        return None
    detrended = np.nanmedian(grid, axis=0)
    w = settings.season_decay ** ((t[-1] - t) // m)
    s = np.bincount(pos, weights=detrended * w, minlength=m) / np.bincount(pos, weights=w, minlength=m)
    if not s.mean() > 0:
        return None
    s = s / s.mean()
    months = lo + np.arange(span + h)
    index = s[months % m]
    moved = False
    if m == 12 and settings.spring_festival:
        moved = _move_festival(index, months, t, lo, detrended, s, settings)
    if not index.min() > 0:
        return None
    return index, s, moved


def pooled_season(blocks: Blocks, starts: np.ndarray, h: int, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Two forecasts (each series x h): each series adjusted by a seasonal index pooled over the call, its Theta
    line 2 (SES level plus half the linear trend's slope), re-seasonalised; and the same with the call's index
    mixed with the series' own (:func:`_toward_group`; all NaN when ``season_group_js`` is 0). NaN where a series
    has negative values.

    Why: a shop's or a spec's own seasonal index comes from a few noisy years, while the series of one call
    (one company's shops x specs) mostly share one pattern: the festival, the summer. The index taken over all
    of them is far less noisy (group seasonal indices, Withycombe 1989). Where the series do not share a
    pattern (retail industries, drugs), the blend learns to give this candidate little weight. Synthetic shop
    panel, horizon 3: MASE 0.972 -> 0.932 x AutoETS (docs/forecasting-engine.md, round 4).
    """
    n = len(starts)
    out = np.full((n, h), np.nan)
    mixed_out = np.full((n, h), np.nan)
    result = (out, mixed_out)
    live = _usable([(rows, mat) for rows, mat in blocks if mat.shape[1] > 2])
    if not live:
        return result
    lo = min(int(starts[rows].min()) for rows, _ in live)
    span = max(int(starts[rows].max()) + mat.shape[1] for rows, mat in live) - lo
    pooled = _pooled_index(live, starts, lo, span, h, settings)
    if pooled is None:
        return result
    index, group, moved = pooled
    for rows, mat in live:
        first = starts[rows][:, None] - lo
        k = mat.shape[1]
        cols = first + np.arange(k + h)[None, :]
        indices = [(out, index[cols])]
        if settings.season_group_js > 0:
            indices.append((mixed_out, _toward_group(mat, starts[rows], index, group, moved, cols, lo, settings)))
        for target, own in indices:
            adjusted = mat / own[:, :k]
            level, alpha = _ses_grid(adjusted)
            theta = level[:, None] + trend_slope(adjusted)[:, None] / 2 * theta_drift(alpha, k, h)
            target[rows] = theta * own[:, k:]
    return result


def _toward_group(
    mat: np.ndarray,
    starts: np.ndarray,
    index: np.ndarray,
    group: np.ndarray,
    moved: bool,
    cols: np.ndarray,
    lo: int,
    settings: Settings,
) -> np.ndarray:
    """Each row's seasonal index (rows x months of ``cols``): the call's ``group`` index plus the James-Stein
    share of the row's own deviation from it, ``k = 1 - (m - 3) v / sum (own - group)^2`` (``v``: the variance
    of a calendar month's mean ratio, from the spread of the row's ratios over the years).

    Why: a shop that follows the company's pattern gets the company's (less noisy) index, one whose own pattern
    differs by more than its noise keeps its own; the pure group index had to be one or the other for all
    series (Miller and Williams 2003, toward the group mean). Where the festival moved the group index, January
    and February stay the group's.
    """
    m = settings.season
    n_rows = len(mat)
    if mat.shape[1] < len(centred_weights(m)) + m:
        return index[cols]
    ratio, off = _trend_ratios(mat, m)
    length = ratio.shape[1]
    pos = (starts[:, None] + off + np.arange(length)[None, :]) % m
    w = np.broadcast_to(settings.season_decay ** ((length - 1 - np.arange(length)) // m), ratio.shape)
    ok = np.isfinite(ratio)
    flat = (np.arange(n_rows)[:, None] * m + pos)[ok]
    r, ww = ratio[ok], w[ok]
    size = n_rows * m
    wsum = np.bincount(flat, weights=ww, minlength=size).reshape(n_rows, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(flat, weights=ww * r, minlength=size).reshape(n_rows, m) / wsum
        wxx = np.bincount(flat, weights=ww * r * r, minlength=size).reshape(n_rows, m)
        w2 = np.bincount(flat, weights=ww * ww, minlength=size).reshape(n_rows, m)
        var = mean_ratio_variance(wsum, wxx, mean, w2)
    found = np.isfinite(mean)
    # each row's mean ratio over its calendar months (the index is normalised to mean 1 like the call's)
    scale = np.where(found, mean, 0.0).sum(axis=1, keepdims=True) / np.maximum(found.sum(axis=1, keepdims=True), 1)
    counts = np.bincount(flat, minlength=size).reshape(n_rows, m)
    use = counts >= 2
    if m == 12 and settings.spring_festival:
        use[:, :2] = False
    good = np.all(counts >= 1, axis=1) & (use.sum(axis=1) >= 3) & (scale[:, 0] > 0)
    out = index[cols].copy()
    if not good.any():
        return out
    own = mean[good] / scale[good]
    v = np.where(use[good], var[good], 0.0).sum(axis=1) / use[good].sum(axis=1) / scale[good, 0] ** 2
    dev = own - group[None, :]
    dist = (dev * dev).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = np.clip(1.0 - settings.season_group_js * (m - 3) * v / dist, 0.0, 1.0)
    keep = np.where(np.isfinite(keep), keep, 0.0)
    cal = group[None, :] + keep[:, None] * dev  # rows x calendar months
    month = (lo + cols[good]) % m
    mixed = np.take_along_axis(cal, month, axis=1)
    if moved:
        jf = month <= 1
        mixed = np.where(jf, index[cols[good]], mixed)
    out[good] = np.where(mixed > 0, mixed, out[good])
    return out


def season_intermittent(values: list[np.ndarray], starts: np.ndarray, targets: list[int], h: int, settings: Settings):
    """Factors (len(targets) x h) that give intermittent series the call's seasonal pattern, or None.

    Why: the forecasts of the intermittent class are flat (an SES level or a Croston-type rate), but a small shop
    that sells a spec now and then still sells more of it around the Spring Festival and in the autumn, like the
    shops around it. One intermittent series cannot show that (its own ratios are mostly 0), and the median over
    series that :func:`pooled_season` uses is 0 for them as well; the **mean over the series of the call**, each
    divided by its own mean, can. Its index (the same decomposition, decay and festival move as
    :func:`_pooled_index`) is raised to the power ``Settings.intermittent_season`` (0.5: half the swing in logs,
    because a sparse series shares the pattern only in part; 0 turns this off). Needs ``intermittent_season_min``
    non-negative series in the call.
    Superstore furniture units per state x sub-category (157 series, 82 % zero months), MASE x AutoETS: h 12
    0.974 -> 0.954, h 3 0.922 -> 0.929 (docs/forecasting-engine.md, round 5).
    """
    power = settings.intermittent_season
    if power <= 0 or not targets:
        return None
    live = [i for i, y in enumerate(values) if len(y) and y.min() >= 0 and y.mean() > 0]
    if len(live) < settings.intermittent_season_min:
        return None
    lo = int(min(starts[i] for i in live))
    span = int(max(starts[i] + len(values[i]) for i in live)) - lo
    total = np.zeros(span)
    count = np.zeros(span)
    for i in live:
        y = values[i]
        a = int(starts[i]) - lo
        total[a : a + len(y)] += y / y.mean()
        count[a : a + len(y)] += 1
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    if mean.min() <= 0:  # a month of the call with no sale at all: no ratio to average over
        return None
    pooled = _pooled_index([(np.zeros(1, dtype=np.int64), mean[None, :])], np.array([lo]), lo, span, h, settings)
    if pooled is None:
        return None
    index = pooled[0]
    ends = np.array([int(starts[i]) + len(values[i]) - lo for i in targets])
    return index[ends[:, None] + np.arange(h)[None, :]] ** power


def _global_candidates(
    raw: Blocks, adjusted: Blocks, future: np.ndarray, mult: np.ndarray, starts: np.ndarray, h: int, settings: Settings
):
    """The candidates computed on all series of one origin at once (series x 7 x h): the pooled
    autoregressions on the raw, seasonally adjusted, log and year-on-year series, the pooled seasonal index,
    the damped Holt of each seasonally adjusted series and the evolving seasonal of each positive seasonal one
    (their own models, but vectorised over the series here).

    ``raw`` and ``adjusted`` hold the same series in the same rows; ``future`` is the seasonal index of the
    forecast months (NaN where the series is not seasonal) and ``mult`` says whether it multiplies; ``starts``
    is each row's first month (months since year 0), which lines the series up by calendar month.
    """
    plain = pooled_ar(raw, h, settings)
    adj = pooled_ar(adjusted, h, settings)
    holt = np.full_like(adj, np.nan)
    for rows, mat in adjusted:
        holt[rows] = holt_damped(mat, h)
    evolving = np.full_like(adj, np.nan)
    m = settings.season
    for (rows, y), (_, mat) in zip(raw, adjusted, strict=True):
        if y.shape[1] < 2 * m or m < 2:
            continue
        ok = mult[rows] & np.isfinite(future[rows, 0]) & (y.min(axis=1) > 0)
        if not ok.any():
            continue
        index = y[ok] / mat[ok]  # the series' own (multiplicative) seasonal index over its history
        use = _calendar_index(index, m)
        evolving[rows[ok][use]] = evolving_season(y[ok][use], index[use], h, m)
    pure, mixed = pooled_season(raw, starts, h, settings)
    seasonal = np.isfinite(future[:, 0])
    times = seasonal & mult
    plus = seasonal & ~mult
    for f in (adj, holt):
        f[times] *= future[times, :h]
        f[plus] += future[plus, :h]
    return np.stack(
        [
            plain,
            adj,
            pooled_ar(raw, h, settings, "log"),
            pooled_yoy(raw, h, settings),
            pure,
            holt,
            evolving,
            mixed,
        ],
        axis=1,
    )


def season_agreement(blocks: Blocks, starts: np.ndarray, settings: Settings) -> float | None:
    """How much the series of a call share one seasonal pattern: the mean correlation between each series' own
    seasonal index and the median of those indices (1 = all alike, about 0 = unrelated), or None.

    Each non-negative series of at least three seasons gets its ratios to the centred moving average averaged
    per calendar month (two years of ratios at least: with fewer, unrelated series look alike by chance —
    36-month sets with the threshold at two seasons: US employment 0.839 -> 0.855 x AutoETS). Fewer than 5
    such series: None.
    """
    m = settings.season
    own = []
    for rows, mat in _usable([(rows, mat) for rows, mat in blocks if mat.shape[1] >= 3 * m]):
        ratio, off = _trend_ratios(mat, m)
        pos = (starts[rows][:, None] + off + np.arange(ratio.shape[1])[None, :]) % m
        finite = np.isfinite(ratio)
        count = np.stack([(finite & (pos == k)).sum(axis=1) for k in range(m)], axis=1)
        total = np.stack([np.where(finite & (pos == k), ratio, 0.0).sum(axis=1) for k in range(m)], axis=1)
        good = (count > 0).all(axis=1)
        index = total[good] / count[good]
        own.append(index / index.mean(axis=1, keepdims=True))
    own_all = np.vstack(own) if own else np.zeros((0, m))
    if len(own_all) < 5:
        return None
    a = own_all - own_all.mean(axis=1, keepdims=True)
    b = np.median(own_all, axis=0)
    b = b - b.mean()
    if float(b @ b) < 1e-12 * m:  # a flat pooled index (indices are about 1): no shared pattern to agree with
        return 0.0
    den = np.sqrt((a * a).sum(axis=1) * float(b @ b))
    return float(np.where(den > 0, (a @ b) / np.where(den > 0, den, 1.0), 0.0).mean())


def call_prior(blocks: Blocks, starts: np.ndarray, settings: Settings) -> np.ndarray:
    """The prior logits of a call: :data:`PRIOR_LOGITS`, the pooled seasonal candidate's raised by
    ``Settings.season_agreement_weight`` times the call's :func:`season_agreement` (when positive).

    Why: the pooled seasonal index is the best single candidate where a call's series share one pattern (one
    company's shops; Texas cities: agreement 0.93-0.98, Superstore furniture 0.66-0.75) and poor where they do
    not (PBS drugs 0.14-0.18, the M-competition sets 0.24-0.45); its fixed prior (-2.0) had to suit both. In
    small calls the learned weights stay near the prior, so the prior is what decides there. Measured
    (docs/forecasting-engine.md, round 5): fresh sets 0.9265 -> 0.9128 x AutoETS, calls of 20 series 0.9790 ->
    0.9768, no group worse.
    """
    logits = PRIOR_LOGITS.copy()
    k = settings.season_agreement_weight
    if k > 0 and settings.season > 1:
        rho = season_agreement(blocks, starts, settings)
        if rho is not None and rho > 0:
            logits[CANDIDATES.index("pooled_season")] += k * rho
    return logits


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=1, keepdims=True)


def blend_weights(z: np.ndarray, beta: float, rel: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """Per-series weights: softmax of ``z - beta * rel`` over the available candidates."""
    return _softmax(np.where(avail, z[None, :] - beta * rel, -np.inf))


def _relative(r: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """Each candidate's backtest error over the mean of the series' available candidates (1 = average)."""
    mask = avail & np.isfinite(r)
    r = np.where(mask, r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = r / (r.sum(axis=1, keepdims=True) / mask.sum(axis=1, keepdims=True))
    return np.where(mask & np.isfinite(rel), rel, 1.0)


def _loss(
    theta: np.ndarray, e: np.ndarray, rel: np.ndarray, avail: np.ndarray, lam: float, prior: np.ndarray = PRIOR_LOGITS
):
    """Mean smoothed |scaled error| of the blended backtest forecasts (plus the pull toward ``prior``), and its
    gradient in (z, log beta)."""
    c = e.shape[1]
    z, beta = theta[:c], float(np.exp(theta[c]))
    w = blend_weights(z, beta, rel, avail)
    r = np.einsum("nc,nch->nh", w, e)
    s = np.sqrt(r * r + _EPS)
    n, hh = r.shape
    dev = z - prior
    dev = dev - dev.mean()
    loss = float(s.mean()) + lam * float(dev @ dev)
    g = np.einsum("nh,nch->nc", r / s / (n * hh), e)
    dlogit = w * (g - (w * g).sum(axis=1, keepdims=True))
    grad_z = dlogit.sum(axis=0) + 2 * lam * dev
    grad_b = -beta * float((dlogit * rel).sum())
    return loss, np.r_[grad_z, grad_b]


def learn_weights(
    e: np.ndarray, rel: np.ndarray, avail: np.ndarray, prior: float, logits: np.ndarray = PRIOR_LOGITS
) -> tuple[np.ndarray, float]:
    """``(z, beta)`` minimising the blended backtest error ``e`` (rows x candidates x steps, in MASE units).

    ``rel`` is each row's relative error per candidate from another origin; ``prior`` pseudo-rows pull ``z``
    toward ``logits`` (the call's prior, :func:`call_prior`). Smooth loss, analytic gradient, L-BFGS-B:
    deterministic for the same input. L-BFGS-B is restarted from where it stopped (a fresh curvature memory, at
    most three runs) while a run still lowers the loss: the loss is not convex in the logits, and from equal
    weights the first run can stall on "relative reduction of f" far from the minimum (15 candidates, one of
    them without error: weight 0.11 on it after one run, 0.99 after the restart). On the tuning sets the
    restart changes no figure in the fourth decimal.
    """
    from scipy.optimize import minimize

    c = e.shape[1]
    e = np.where(avail[:, :, None], np.nan_to_num(e), 0.0)
    lam = prior / max(1, len(e))
    x = np.zeros(c + 1)  # equal weights, no tilt
    best = _loss(x, e, rel, avail, lam, logits)[0]
    for _ in range(3):  # restarts: see the docstring
        res = minimize(
            _loss,
            x,
            args=(e, rel, avail, lam, logits),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-10.0, 10.0)] * c + [(-6.0, 3.0)],
        )
        x = res.x
        if not res.fun < best - 1e-9 * abs(best):
            break
        best = res.fun
    return x[:c], float(np.exp(x[c]))


@dataclass
class _Backtest:
    """The regular series that have origin ``k`` with backtest horizon ``hb``, and their errors there."""

    k: int
    members: np.ndarray  # slots (positions in the blend's order) of these series, ascending
    cands: np.ndarray  # members x candidates x hb, never negative, NaN where unavailable
    actual: np.ndarray  # members x hb
    sigma: np.ndarray  # members x hb: the local sigma on that origin (for the calibration residuals)
    err: np.ndarray  # (cands - actual) / MASE scale
    avail: np.ndarray  # members x candidates
    usable: np.ndarray  # members: the MASE scale is positive
    r: np.ndarray  # members x candidates: mean |err|, NaN where unavailable or unusable


def _cap(cands: np.ndarray, histories: list[np.ndarray], settings: Settings) -> np.ndarray:
    """The candidate forecasts (series x candidates x months) of the series whose histories are the rows of
    ``histories`` (one matrix per history length, in order), none above ``blend_cap`` times the highest month of
    that series' last season (NaN stays NaN).

    Why: the grown seasonal naives multiply last year's months by last year's growth, and the log and
    year-on-year pooled models and the evolving seasonal extrapolate ratios; after a level shift inside the last
    year, or a seasonal trough near zero, they can forecast several times anything the series has done (drug
    scripts cut to 48 months: 2,388 against a last year that peaked at 1,273; 855 against a peak of 69). A blend
    is a weighted mean, so one such candidate moves it far whatever its weight, and in the backtests it teaches
    the call's weights with errors no forecast should make. Capped at three times last season's peak, the
    candidates still grow (a year's growth of 200 % passes) but no longer explode. Measured (MASE x AutoETS,
    docs/forecasting-engine.md round 8): PBS cut to 48 months 1.067 -> 1.056, cut to 36 0.963 -> 0.956, 48
    sets: 6 better by more than 0.001, none worse; noise, other horizons and intermittent groups unchanged.
    ``blend_cap`` <= 0 leaves them as they are.
    """
    k = settings.blend_cap
    if k <= 0 or not cands.size:
        return cands
    # every history here has at least 3 months (regular and short series, backtest cuts of 25 or more)
    top = np.concatenate([mat[:, -settings.season :].max(axis=1) for mat in histories])
    limit = np.where(top > 0, top * k, np.inf)[:, None, None]
    return np.where(np.isfinite(cands), np.minimum(cands, limit), cands)


@dataclass
class _OriginPlan:
    """One backtest origin before its global candidates: which groups have it, their series and histories."""

    k: int
    chosen: list[int]  # positions of the groups that have origin k with this backtest horizon
    members: np.ndarray
    histories: list[np.ndarray]  # the raw histories up to the cut, one matrix per chosen group
    args: tuple  # the arguments of _global_candidates for this origin


def _origin_plans(
    groups: list[Group], slots: list[np.ndarray], raw: list[np.ndarray], first: np.ndarray, settings: Settings
) -> list[_OriginPlan]:
    """The backtest origins of a call, grouped by origin number and backtest horizon, each with the inputs of its
    global candidates (computed by :func:`blend_regular`, side by side with the forecast's)."""
    keys = sorted({(k, g.actual[k].shape[1]) for g in groups for k in range(len(g.cuts))})
    plans = []
    for k, hb in keys:
        chosen = [j for j, g in enumerate(groups) if len(g.cuts) > k and g.actual[k].shape[1] == hb]
        fits = [groups[j].origins[k] for j in chosen]
        members = np.concatenate([slots[j] for j in chosen])
        # rows of the candidate matrix: the chosen groups one after the other
        starts = np.cumsum([0, *(len(slots[j]) for j in chosen)])
        rows = [np.arange(starts[i], starts[i + 1]) for i in range(len(chosen))]
        raw_blocks = [(r, raw[j][:, : groups[j].cuts[k]]) for r, j in zip(rows, chosen, strict=True)]
        adj_blocks = [(r, f.adjusted) for r, f in zip(rows, fits, strict=True)]
        future = np.concatenate([f.future for f in fits])
        mult = np.concatenate([f.multiplicative for f in fits])
        args = (raw_blocks, adj_blocks, future, mult, first[members], hb, settings)
        plans.append(_OriginPlan(k, chosen, members, [m for _, m in raw_blocks], args))
    return plans


def _backtest(plan: _OriginPlan, pooled: np.ndarray, groups: list[Group], settings: Settings) -> _Backtest:
    """One origin's candidates (local and global, capped) and their scaled errors."""
    fits = [groups[j].origins[plan.k] for j in plan.chosen]
    cands = np.maximum(np.concatenate([np.concatenate([f.cands for f in fits]), pooled], axis=1), 0.0)
    cands = _cap(cands, plan.histories, settings)
    actual = np.concatenate([groups[j].actual[plan.k] for j in plan.chosen])
    scale = np.concatenate([groups[j].scale[plan.k] for j in plan.chosen])
    avail = np.isfinite(cands).all(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = (cands - actual[:, None, :]) / np.where(scale > 0, scale, np.nan)[:, None, None]
    usable = scale > 0
    r = np.where(avail & usable[:, None], np.abs(err).mean(axis=2), np.nan)
    sigma = np.concatenate([f.sigma for f in fits])
    return _Backtest(plan.k, plan.members, cands, actual, sigma, err, avail, usable, r)


def _global_candidates_all(jobs: list[tuple], threads: int) -> list[np.ndarray]:
    """:func:`_global_candidates` of each argument tuple in ``jobs``, in ``threads`` threads, with the BLAS held
    to one thread meanwhile.

    Why: the pooled autoregressions sum large matrix products, whose last bits depend on how many threads the
    BLAS splits them over (1e-11 apart on 20,000 shops). The forecast's candidates and each backtest origin's are
    independent, so they run side by side in threads instead; with one BLAS thread, one thread or several give
    the same bits, and local, forked and Dask runs stay identical. The limit is set once around all of them: it
    is process-wide, and a thread that lifted it on its way out would lift it under the others.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        if threads > 1 and len(jobs) > 1:
            with ThreadPoolExecutor(max_workers=min(threads, len(jobs))) as pool:
                return list(pool.map(lambda args: _global_candidates(*args), jobs))
        return [_global_candidates(*args) for args in jobs]


def _learn(
    full: list[_Backtest], settings: Settings, h: int, logits: np.ndarray = PRIOR_LOGITS
) -> tuple[np.ndarray, float]:
    """Blend parameters from the backtests ``full`` of one length (the prior when there are too few rows).

    Learning rows: every (series, origin) with a usable scale; the loss counts their first ``h`` months only
    (at least ``blend_min_months``), the months the forecast is for (48-month series, horizon 3: MASE 0.991 ->
    0.979 x AutoETS, geometric mean of 8 sets), while the tilt still comes from the whole season. The tilt of
    a row comes from the same series' next older origin (the one after it for the oldest), never from the
    errors the row is judged on.
    """
    c = len(CANDIDATES)
    if not settings.blend:
        return PRIOR_LOGITS.copy(), 0.0
    if not full:
        return logits.copy(), 0.0
    errs, rels, avails = [], [], []
    for j, bt in enumerate(full):
        rel = np.ones((len(bt.members), c))
        other = j + 1 if j + 1 < len(full) else j - 1
        if 0 <= other != j:
            ot = full[other]
            common = np.intersect1d(bt.members, ot.members)
            rel[np.searchsorted(bt.members, common)] = _relative(ot.r, ot.avail)[np.searchsorted(ot.members, common)]
        keep = bt.usable & bt.avail.any(axis=1)
        errs.append(bt.err[keep])
        rels.append(rel[keep])
        avails.append(bt.avail[keep])
    err = np.concatenate(errs)[:, :, : max(h, settings.blend_min_months)]
    rel, avail = np.concatenate(rels), np.concatenate(avails)
    if len(err) < settings.blend_min_rows:
        return logits.copy(), 0.0
    if len(err) > settings.blend_max_rows:
        pick = np.linspace(0, len(err) - 1, settings.blend_max_rows).round().astype(int)
        err, rel, avail = err[pick], rel[pick], avail[pick]
    return learn_weights(_cap_rows(err, avail, settings.blend_row_cap), rel, avail, settings.blend_prior, logits)


def _cap_rows(err: np.ndarray, avail: np.ndarray, cap: float) -> np.ndarray:
    """The learning rows (rows x candidates x steps of scaled errors), each row whose typical error is above
    ``cap`` times the median row's scaled down to count as that much.

    Why: a row's typical error is the median over its candidates of their mean |error|; a series that broke at
    a backtest origin (a launch, a lost customer, a reclassification) has every candidate wrong by many times
    the usual error, and in an absolute-error loss it then steers the weights of every other series toward
    whatever happened to fit the break. Capped, it still counts, as much as a bad but ordinary row. Measured
    (MASE x AutoETS, geometric means; docs/forecasting-engine.md, round 5): cut to 48 months 0.9703 -> 0.9682,
    calls of 20 series 0.9806 -> 0.9790, the other groups 0.0000-0.0003 better; 2 and 5 instead of 3 alike.
    ``cap`` <= 0 leaves the rows as they are.
    """
    if cap <= 0 or not len(err):
        return err
    typical = np.where(avail, np.abs(np.nan_to_num(err)).mean(axis=2), np.nan)
    size = np.nanmedian(typical, axis=1)  # every learning row has an available candidate (see _learn)
    size = np.where(np.isfinite(size), size, 0.0)
    limit = cap * float(np.median(size))
    factor = np.where(size > limit, limit / np.maximum(size, 1e-12), 1.0)
    return err * factor[:, None, None]


def blend_regular(
    values: list[np.ndarray],
    starts: np.ndarray,
    groups: list[Group],
    h: int,
    settings: Settings,
    threads: int = 1,
) -> list[SeriesForecast]:
    """Finish the regular and short series of a call: global candidates, learned weights, blended forecasts.

    ``values[i]`` is the history of the i-th packed regular series; the result comes in that order, finished
    (as :func:`models.finish` would, vectorised). ``threads`` > 1 computes the global candidates of the forecast
    and of the backtest origins side by side; the result is the same bits either way.
    """
    c = len(CANDIDATES)
    # slots: the series in group order; members of every group are contiguous and ascending
    sizes = [len(g.rows) for g in groups]
    offsets = np.cumsum([0, *sizes])
    slots = [np.arange(offsets[j], offsets[j + 1]) for j in range(len(groups))]
    n = int(offsets[-1])
    raw = [np.stack([values[i] for i in g.rows.tolist()]) for g in groups]
    slot_starts = np.concatenate([np.asarray(starts)[g.rows] for g in groups]).astype(np.int64)
    final_local = np.concatenate([g.final.cands for g in groups])
    final_args = (
        list(zip(slots, raw, strict=True)),
        [(slots[j], g.final.adjusted) for j, g in enumerate(groups)],
        np.concatenate([g.final.future for g in groups]),
        np.concatenate([g.final.multiplicative for g in groups]),
        slot_starts,
        h,
        settings,
    )
    plans = _origin_plans(groups, slots, raw, slot_starts, settings)
    # the global candidates of the forecast and of each backtest origin: the largest part of the work done after
    # the chunks are back (1.4 s of a 20,000-series call), in threads when the run has cores for them
    pooled, *pooled_at = _global_candidates_all([final_args, *(p.args for p in plans)], threads)
    final = _cap(np.concatenate([final_local, pooled], axis=1), raw, settings)
    backtests = [_backtest(p, c, groups, settings) for p, c in zip(plans, pooled_at, strict=True)]
    # whole-season backtests teach weights and tilt (see models.origins_of) when there are enough of them; the
    # others still give residuals for the interval calibration
    full = [bt for bt in backtests if bt.cands.shape[2] == settings.select_horizon]
    if sum(int(bt.usable.sum()) for bt in full) < settings.blend_min_rows:
        # histories of 2-3 years have no whole-season origin: learn from the h-month ones rather than fall
        # back on the prior (36-month series, horizon 3: MASE 1.20 -> 0.92 x AutoETS, geometric mean of 8 sets)
        full = [bt for bt in backtests if bt.cands.shape[2] == min(h, settings.select_horizon)]
        if sum(int(bt.usable.sum()) for bt in full) < settings.blend_min_rows and backtests:
            # nor those: the shorter backtests of histories with room for neither (models.origins_of), the
            # longest of them (36-month series, horizon 12: MASE 0.991 -> 0.935 x AutoETS, 8 sets)
            longest = max(bt.cands.shape[2] for bt in backtests)
            full = [bt for bt in backtests if bt.cands.shape[2] == longest]
    z, beta = _learn(full, settings, h, call_prior(list(zip(slots, raw, strict=True)), slot_starts, settings))

    # each series' tilt: its relative backtest error per candidate, averaged over the origins that taught the
    # weights
    total = np.zeros((n, c))
    count = np.zeros((n, c))
    for bt in full:
        ok = np.isfinite(bt.r)
        total[bt.members] += np.where(ok, bt.r, 0.0)
        count[bt.members] += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_r = np.where(count > 0, total / count, np.nan)
    avail_final = np.isfinite(final).all(axis=2)
    rel_final = _relative(mean_r, avail_final & (count > 0))
    w = blend_weights(z, beta, rel_final, avail_final)
    means, sigmas = finish_arrays(
        np.einsum("nc,nch->nh", w, np.nan_to_num(final)), np.concatenate([g.final.sigma for g in groups]), settings
    )
    scale = settings.interval_scale

    resid_rows: list[list[np.ndarray]] = [[] for _ in range(n)]
    for bt in backtests:  # ordered by origin: each series' residual rows come latest origin first
        wk = blend_weights(z, beta, rel_final[bt.members], bt.avail & avail_final[bt.members])
        combined = np.einsum("nc,nch->nh", wk, np.nan_to_num(bt.cands))
        # a zero sigma gives NaN (dividing by NaN raises no warning), left out by the calibration
        resid = (bt.actual - combined) / np.where(bt.sigma > 0, bt.sigma * scale, np.nan)
        for slot, row in zip(bt.members.tolist(), resid, strict=True):
            resid_rows[slot].append(row)
    out: list = [None] * n
    order = np.concatenate([g.rows for g in groups])
    for slot, i in enumerate(order.tolist()):
        rows = resid_rows[slot]
        resid = np.vstack(rows) if rows and scale > 0 else None
        out[i] = SeriesForecast(means[slot], sigmas[slot], "blend", resid, "regular")
    return out


ETS_MAX_SEASON = 24  # statsforecast's ETS has no seasonal component beyond this season length


def mix_auto_ets(
    values: list[np.ndarray], blended: list[SeriesForecast], h: int, settings: Settings
) -> list[SeriesForecast]:
    """The blended forecasts of a small call, each with ``small_call_ets`` of statsforecast's AutoETS mixed in.

    Why: a call of a few series has too few backtest rows to learn blend weights (fewer than
    ``blend_min_rows``) or learns them from a handful, so each series gets about the prior combination, fitted
    to no one; AutoETS chooses its model for that one series. Their errors differ enough that a fifth of
    AutoETS in the mean beats either (round 14, MASE x AutoETS's: the 32 harness runs of calls of at most 10
    series 0.9437 -> 0.9286, the goal met on 16 -> 18; the sales sets cut into calls of one series 0.8872 ->
    0.8861; larger calls unchanged by construction). Only series with two whole seasons (a shorter one gets a
    non-seasonal AutoETS) and only the mean: the interval stays the blend's, calibrated on its backtests. The
    AutoETS forecast is held under the blend's cap (``blend_cap`` x last season's peak) like every candidate.
    Its ~30 ms a series are nothing in a call this small; the mix runs after the chunks, in the calling process,
    so local, process and Dask runs stay identical. Not for weeks: statsforecast's ETS has no seasonal model
    beyond a season of 24 periods, so a weekly AutoETS forecasts without the year's pattern (US gasoline, one
    weekly series, h 13: 0.720 -> 0.735 x AutoETS's MASE with the mix, and five times the time).
    """
    w = settings.small_call_ets
    if w <= 0 or settings.season > ETS_MAX_SEASON:
        return blended
    out = []
    for y, res in zip(values, blended, strict=True):
        if len(y) < 2 * settings.season or res.model != "blend":
            out.append(res)
            continue
        ets = np.maximum(np.nan_to_num(auto_ets_forecast(y, h, settings.season).mean), 0.0)
        ets = _cap(ets[None, None, :], [y[None, :]], settings)[0, 0]
        out.append(replace(res, mean=(1 - w) * res.mean + w * ets, model="blend_ets"))
    return out
