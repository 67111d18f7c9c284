"""Working days in mainland China: weekends and public holidays are off, make-up working days (调休) are on.

Opening SLAs in the catalog are counted in working days (e.g. 22 / 11 / 5), so a quote made just before Spring
Festival must skip the whole holiday and count the Saturday that is worked in exchange. The official calendar
comes from the ``chinese_calendar`` package (updated each year when the State Council publishes the holidays).
Plain Python, no Django: any module may import these functions.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


class CalendarError(ValueError):
    """The date lies outside the years the installed holiday calendar knows."""


def is_working_day(day: dt.date) -> bool:
    """True on a working day: a weekday that is not a public holiday, or a make-up working Saturday/Sunday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarError(
            f"{day.isoformat()}: 节假日历未覆盖该年份 / the holiday calendar does not cover {day.year}"
        ) from exc


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
