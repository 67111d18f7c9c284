"""Lunar-calendar helpers: where the Spring Festival falls, as a month of the Gregorian calendar.

Why: cigarette sales peak around the Spring Festival, whose date moves between 21 January and 20 February. A
seasonal model that only knows calendar months smears that peak over January and February; the forecasting
engine needs to know, for any year, which month holds the festival so that it can move the peak to it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from lunardate import LunarDate


@lru_cache(maxsize=512)
def spring_festival(year: int) -> dt.date:
    """Gregorian date of the first day of the first lunar month of ``year`` (春节)."""
    return LunarDate(year, 1, 1).to_solar_date()


@lru_cache(maxsize=4096)
def festival_month(year: int, lead_days: int = 0) -> int:
    """Month (1 or 2) that holds the festival peak of ``year``.

    ``lead_days`` moves the peak earlier: shops stock up in the days before the holiday, so with ``lead_days=10``
    a festival on 5 February puts the peak in January.
    """
    return (spring_festival(year) - dt.timedelta(days=lead_days)).month


@lru_cache(maxsize=4096)
def festival_january_share(year: int, window_days: int = 0, lead_days: int = 0) -> float:
    """How much of ``year``'s festival buying falls in January: the share of the ``window_days`` before the
    festival (moved ``lead_days`` earlier) that lie in January; with no window, 1 or 0 by :func:`festival_month`.

    Why: shops buy for the festival in the weeks before it, so a festival on 10 February puts about half of
    that buying in January (21 days before it: 12 in January, 9 in February), while the festival month alone
    would give all of it to February; the share lets the January/February split follow the date smoothly.
    """
    if window_days <= 0:
        return 1.0 if festival_month(year, lead_days) == 1 else 0.0
    end = spring_festival(year) - dt.timedelta(days=lead_days)
    start = end - dt.timedelta(days=window_days)
    feb1 = dt.date(year, 2, 1)
    in_january = (min(end, feb1) - start).days
    return min(1.0, max(0.0, in_january / window_days))


def month_index(year: int, month: int) -> int:
    """Months since year 0: consecutive months differ by one, which makes month arithmetic plain integers."""
    return year * 12 + month - 1


def month_of_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`month_index`: ``(year, month)``."""
    return index // 12, index % 12 + 1
