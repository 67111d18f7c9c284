"""Working days in mainland China: weekends and public holidays are off, make-up working days (调休) are on.

Opening SLAs in the catalog are counted in working days (e.g. 22 / 11 / 5), so a quote made just before Spring
Festival must skip the whole holiday and count the Saturday that is worked in exchange. The official calendar
comes from the ``chinese_calendar`` package, which holds each year's schedule once the State Council has published
it (late in the year before). Plain Python, no Django: any module may import these functions.

**Years after the official calendar.** A 22-working-day SLA quoted in December ends in January, and the next
year's schedule may not be published, or not installed, yet. Refusing the quote then (as Kejing did until
November 2026, for every opening date past 2026) stops the CMs' quoting for weeks each winter. Such a year is
instead *estimated* from the statutory holidays by rule — New Year's Day, the Spring Festival (its eve and first
three days by the lunar calendar), Qingming, Labour Day (two days), the Dragon Boat and Mid-Autumn festivals,
National Day (three days), each moved to a weekday when it falls on a weekend — as the ``holidays`` package
computes them; its make-up Saturdays are unknown and not counted. On 2004–2026, where both exist, the estimate
agrees with the official calendar on 8,400 of 8,401 days, but only because ``holidays`` also carries the published
schedules of those years; a year it computes by rule alone misses the 调休. :func:`is_official` tells which, and
the catalog's quotes say "estimated" for such a date. Years before the official calendar (2004) stay an error:
nothing in Kejing looks that far back.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


class CalendarError(ValueError):
    """The date lies before the years the installed holiday calendar knows."""


@lru_cache(maxsize=64)
def is_official(year: int) -> bool:
    """Whether the installed ``chinese_calendar`` holds the published schedule of ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=16)
def _statutory(year: int):
    import holidays

    return holidays.China(years=year)


def _estimate(day: dt.date):
    """The estimated calendar of ``day``'s year (a year the official calendar does not hold); before the
    official calendar's first year (2004) :class:`CalendarError`."""
    if day.year < 2004:
        raise CalendarError(f"{day.isoformat()}: 节假日历未覆盖该年份 / the holiday calendar does not cover {day.year}")
    return _statutory(day.year)


def is_working_day(day: dt.date) -> bool:
    """True on a working day: a weekday that is not a public holiday, or a make-up working Saturday/Sunday.

    From the official calendar where it holds the year, else estimated (module docstring); a year before the
    official calendar raises :class:`CalendarError`.
    """
    if is_official(day.year):
        return bool(chinese_calendar.is_workday(day))
    return bool(_estimate(day).is_working_day(day))


def is_public_holiday(day: dt.date) -> bool:
    """True on a day of a public holiday period (国庆, 春节 …, its weekend days included), not on an ordinary
    weekend nor on a make-up working day. Official where the calendar holds the year, else the statutory days of
    the estimate (module docstring); before 2004 :class:`CalendarError`."""
    if is_official(day.year):
        off, name = chinese_calendar.get_holiday_detail(day)
        return bool(off and name)
    return day in _estimate(day)


def first_working_day_from(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def estimated_years(start: dt.date, end: dt.date) -> list[int]:
    """The years from ``start`` to ``end`` whose working days are estimated, not official."""
    return [y for y in range(start.year, end.year + 1) if not is_official(y)]


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted; 0 returns ``start``).

    An order placed on a holiday therefore starts counting from the first working day after it.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
