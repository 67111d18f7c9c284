"""Synthetic calls shared by the engine's tests (not a test module: pytest collects only test_*.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def seasonal_shops(
    levels: Sequence[float],
    months: int,
    *,
    amplitude: float,
    noise: float,
    seed: int,
    start: str,
    edit: Callable[[int, np.ndarray], None] | None = None,
) -> pd.DataFrame:
    """One monthly series per level, ids ``s00``, ``s01`` …: ``level x (1 + amplitude sin(2 pi t / 12))`` times a
    log-normal noise of sd ``noise``, drawn series after series from one generator. ``edit(i, y)`` may change
    series i's months in place before they are written (a launch, a collapse), so the draws stay the same with
    or without it."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=months, freq="MS")
    t = np.arange(months)
    frames = []
    for i, level in enumerate(levels):
        y = level * (1 + amplitude * np.sin(2 * np.pi * t / 12)) * rng.lognormal(0, noise, months)
        if edit is not None:
            edit(i, y)
        frames.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)
