"""Rolling-origin backtest: the Kejing method and its baselines measured on the same folds in the same run.

Folds: for fold ``k`` (1 = the most recent) each series is cut ``horizon + step * (k - 1)`` months before its
own end; the months after the cut (``horizon`` of them) are the held-out actuals. A series too short for a
fold (nothing left to train on) sits that fold out, for every method alike.

Metrics:

* **MASE** — per series and fold, the mean absolute error over the horizon divided by the in-sample MAE of the
  seasonal naive forecast on that fold's training months (lag ``season``; lag 1 when the training part is not
  longer than a season). Aggregate: the plain mean over all (series, fold) pairs, as in the M4 competition.
  Pairs whose scale is zero (flat or all-zero history) cannot be scaled and are left out of MASE only.
* **WAPE** — the sum of absolute errors over the sum of absolute actuals, over all series, folds and months.
  It weighs big sellers more, which is what a supply planner feels.
* **seconds** — wall time of that method's forecasts over all folds (model choice included).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .core import Panel, call_settings, forecast_panel, to_panel
from .models import METHODS, Settings


def _scale(train: np.ndarray, season: int) -> float:
    lag = season if len(train) > season else 1
    if len(train) <= lag:
        return 0.0
    return float(np.mean(np.abs(train[lag:] - train[:-lag])))


def folds_of(panel: Panel, horizon: int, folds: int, step: int | None = None) -> list[tuple[Panel, list[np.ndarray]]]:
    """Training panels and held-out actuals of each fold (oldest first)."""
    step = step or horizon
    out = []
    for k in range(folds, 0, -1):
        back = horizon + step * (k - 1)
        ids, starts, train, actual = [], [], [], []
        for uid, start, y in zip(panel.ids, panel.starts.tolist(), panel.values, strict=True):
            cut = len(y) - back
            if cut < 1:
                continue
            ids.append(uid)
            starts.append(start)
            train.append(y[:cut])
            actual.append(y[cut : cut + horizon])
        out.append((replace(panel, ids=ids, starts=np.asarray(starts, dtype=np.int64), values=train), actual))
    return out


def _names(groups: Mapping[Any, str | tuple[str, ...]] | None, uid: Any) -> tuple[str, ...]:
    """The groups a series is in: none, one (a name) or several (a tuple of names)."""
    name = groups.get(uid) if groups is not None else None
    if name is None:
        return ()
    return name if isinstance(name, tuple) else (name,)


def backtest(
    df: Any,
    horizon: int,
    folds: int,
    season: int | None = None,
    methods: tuple[str, ...] = ("kejing", "seasonal_naive", "auto_ets"),
    *,
    step: int | None = None,
    n_jobs: int = 1,
    dask_client: Any = None,
    spring_festival: str | bool = "auto",
    settings: Settings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    groups: Mapping[Any, str | tuple[str, ...]] | None = None,
    freq: str = "month",
) -> dict:
    """MASE, WAPE and seconds of each method on the same rolling-origin folds (see the module docstring).

    ``progress(done, total, message)`` is called after each (method, fold): AutoETS takes about 30 ms a series,
    so a file of a few thousand series runs for minutes, and the command line says where it is.

    ``groups`` (series id -> a group name, or a tuple of them for a series in several groupings) adds
    ``"groups": {name: {"series", "windows", method: {"mase", "wape"}, "kejing_vs_auto_ets"}}``: the same
    measures over each group's series only (a series not in the mapping is in none), so that a planner sees where
    a method does badly — a price class, a region — and not only the total. The series are still forecast
    together, as one call.

    ``freq`` and ``season`` as for :func:`.core.forecast` (``"auto"`` tells quarters, years, weeks and days from
    the dates; the season then defaults to theirs); horizon, folds and step count periods.
    """
    if horizon < 1 or folds < 1:
        raise ValueError("horizon 和 folds 必须 ≥ 1 / horizon and folds must be at least 1")
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"未知预测方法 / unknown method {m!r}; use one of {', '.join(METHODS)}")
    panel = to_panel(df, freq)
    settings = call_settings(panel, settings, season, spring_festival)
    season = settings.season
    fold_data = folds_of(panel, horizon, folds, step)
    scales = [[_scale(t, season) for t in p.values] for p, _ in fold_data]
    result: dict[str, Any] = {
        "horizon": horizon,
        "folds": folds,
        "season": season,
        "step": step or horizon,
        "series": len(panel.ids),
        "windows": sum(len(p.ids) for p, _ in fold_data),
        "mase_windows": sum(1 for sc in scales for s in sc if s > 0),
        "input": panel.reading(),
        "methods": {},
    }
    by_group: dict[str, dict[str, Any]] = {}
    if groups is not None:
        for p, _ in fold_data:
            for uid in p.ids:
                for name in _names(groups, uid):
                    g = by_group.setdefault(name, {"series": set(), "windows": 0})
                    g["series"].add(uid)
                    g["windows"] += 1
    for method in methods:
        abs_err = abs_act = 0.0
        mase_terms: list[float] = []
        # per group: absolute errors, absolute actuals, MASE terms
        sums = {name: [0.0, 0.0, []] for name in by_group}
        models: Counter = Counter()
        started = time.perf_counter()
        outputs = []
        for k, (p, _) in enumerate(fold_data):
            t0 = time.perf_counter()
            outputs.append(
                forecast_panel(p, horizon, method, settings, n_jobs=n_jobs, dask_client=dask_client, details=True)
            )
            if progress is not None:
                done = methods.index(method) * len(fold_data) + k + 1
                progress(
                    done,
                    len(methods) * len(fold_data),
                    f"{method} 第 {k + 1}/{len(fold_data)} 折 / fold {k + 1} of {len(fold_data)}: "
                    f"{len(p.ids)} 条序列 / series, {time.perf_counter() - t0:.1f} s",
                )
        seconds = time.perf_counter() - started
        if method == "kejing" and panel.freq == "month" and settings.trading_days:
            # where the Kejing method took a weekday effect out, fold by fold (each fold fits its own)
            found = [out[-1] for out in outputs]
            result["weekday_effect"] = {
                "folds": len(found),
                "found": sum(d is not None for d in found),
                "p_values": [None if d is None else float(f"{d.p_value:.3g}") for d in found],
            }
        for (means, _sig, names, *_rest), (p, actual), sc in zip(outputs, fold_data, scales, strict=True):
            models.update(names)
            for uid, f, a, s in zip(p.ids, means, actual, sc, strict=True):
                e = np.abs(f[: len(a)] - a)
                abs_err += float(e.sum())
                abs_act += float(np.abs(a).sum())
                term = float(e.mean()) / s if s > 0 and len(a) else None
                if term is not None:
                    mase_terms.append(term)
                for name in _names(groups, uid):
                    acc = sums[name]
                    acc[0] += float(e.sum())
                    acc[1] += float(np.abs(a).sum())
                    if term is not None:
                        acc[2].append(term)
        result["methods"][method] = {
            "mase": round(float(np.mean(mase_terms)), 4) if mase_terms else None,
            "wape": round(abs_err / abs_act, 4) if abs_act > 0 else None,
            "seconds": round(seconds, 3),
            "models": dict(sorted(models.items())),
        }
        for name, (err, act, terms) in sums.items():
            by_group[name][method] = {
                "mase": round(float(np.mean(terms)), 4) if terms else None,
                "wape": round(err / act, 4) if act > 0 else None,
            }
    if result["windows"] == 0:
        need = horizon + result["step"] * (folds - 1)
        result["note"] = (
            f"没有可评估的窗口:序列须长于 {horizon} 个月(全部 {folds} 折须长于 {need} 个月)/ no window to "
            f"score: a series needs more than {horizon} months for the newest fold and more than {need} for all "
            f"{folds} (horizon {horizon} + (folds {folds} - 1) x step {result['step']})"
        )
    elif result["mase_windows"] == 0:
        result["note"] = (
            "MASE 无定义:每个窗口的季节性尺度都是 0(历史不变或全为 0)/ MASE undefined: every window's seasonal "
            "scale is 0 (a flat or all-zero history)"
        )
    if groups is not None:
        result["groups"] = {
            name: {**g, "series": len(g["series"])} for name, g in sorted(by_group.items(), key=lambda kv: str(kv[0]))
        }
    # the ratio of the whole backtest sits beside "methods"; a group's, in the group
    for scored, into in ((result["methods"], result), *((g, g) for g in result.get("groups", {}).values())):
        ratio = _vs_auto_ets(scored)
        if ratio is not None:
            into["kejing_vs_auto_ets"] = ratio
    return result


def _vs_auto_ets(figures: Mapping[str, Any]) -> dict[str, float] | None:
    """Kejing's MASE and WAPE over AutoETS's, where both methods ran and AutoETS's are not 0 (the whole backtest's
    and each group's alike)."""
    k, a = figures.get("kejing"), figures.get("auto_ets")
    if not k or not a or not a["mase"] or not a["wape"] or k["mase"] is None or k["wape"] is None:
        return None
    return {"mase_ratio": round(k["mase"] / a["mase"], 4), "wape_ratio": round(k["wape"] / a["wape"], 4)}
