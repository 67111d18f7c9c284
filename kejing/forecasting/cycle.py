"""The month's working calendar: which phase a day falls in, deadlines, the target month of a round.

Plain Python (no Django) so that it is easy to test with hand-worked dates. Phase days come from the policy
(``[cycle].phases``); a negative day counts from the end of the month (``-5`` = the fifth-last day).
"""

from __future__ import annotations

import calendar as _cal  # the standard library module
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after (or before) ``month``."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, later: dt.date) -> int:
    """How many months ``later`` lies after ``first`` (their days ignored): November to February is 3."""
    return (later.year - first.year) * 12 + later.month - first.month


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=_cal.monthrange(month.year, month.month)[1])


def parse_month(text: object) -> dt.date | None:
    """``2026-03``, ``2026-03-01``, ``202603``, ``2026年3月``, a date … to the first of that month; ``None`` when
    it is not a month. The same reading as the forecast commands' ``ds`` column (``engine.months``), so a ledger
    file is read the way ``kejing forecast`` reads it.

    Each distinct value is read once (``_parse_month``, cached): a reading costs about 0.65 ms, and the ledger
    import calls this for every row of a file that repeats a few months over hundreds of thousands of rows."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        return _parse_month(text)
    except TypeError:  # not hashable (a list, a dict): no month
        return None


@functools.lru_cache(maxsize=4096, typed=True)
def _parse_month(text: object) -> dt.date | None:
    import pandas as pd

    from .engine.months import MonthError, month_numbers

    try:
        n = int(month_numbers(pd.Series([text], dtype=object))[0])
    except MonthError:
        return None
    return dt.date(n // 12, n % 12 + 1, 1)


def target_of(day: dt.date) -> dt.date:
    """The month being forecast while working on ``day``: the next month."""
    return add_months(month_start(day), 1)


def working_month(target: dt.date) -> dt.date:
    return add_months(target, -1)


def _day(month: dt.date, n: int) -> dt.date:
    last = month_end(month).day
    return month.replace(day=max(1, min(last, n if n > 0 else last + 1 + n)))


@dataclass(frozen=True)
class Phase:
    code: str
    zh: str
    en: str
    start: dt.date
    end: dt.date

    def label(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def phases(month: dt.date, cycle: dict[str, Any]) -> list[Phase]:
    """The phases of working month ``month`` with their real dates (the last five days move with the month)."""
    month = month_start(month)
    out = []
    for p in cycle["phases"]:
        out.append(Phase(p["code"], p["zh"], p["en"], _day(month, int(p["start"])), _day(month, int(p["end"]))))
    return out


def phase_on(day: dt.date, cycle: dict[str, Any]) -> Phase | None:
    """The phase ``day`` falls in (None on a day between phases, e.g. the 26th of a 31-day month)."""
    for p in phases(day, cycle):
        if p.contains(day):
            return p
    return None


HOLIDAY_RULES = ("after_holiday", "next_working_day", "keep")


def holiday_rule(cycle: dict[str, Any]) -> str:
    """The policy's ``[cycle] holiday_rule`` (missing: ``after_holiday``), checked: any other word is an error
    naming the three."""
    rule = cycle.get("holiday_rule", "after_holiday")
    if rule not in HOLIDAY_RULES:
        raise ValueError(f"[cycle] holiday_rule = {rule!r}: 应为 / must be one of {', '.join(HOLIDAY_RULES)}")
    return rule


def due_day(day: dt.date, cycle: dict[str, Any]) -> dt.date:
    """A deadline or a task's due day as the policy's holiday rule moves it.

    Why: the cycle names days of the month (by the 8th, the 6th, each Friday) and some fall in a public holiday —
    the 6th and the 8th of February 2027 lie in the Spring Festival, the 6th of October in National Day — when
    nobody is at work to submit or report. ``after_holiday`` (the default) moves a day inside a public holiday to
    the first working day after it, as Chinese law counts a time limit whose last day is a holiday
    (法定节假日顺延); ordinary weekends stay, since the cycle's days run through them. ``next_working_day`` moves
    weekend days too; ``keep`` leaves every day as the policy names it.
    """
    from kejing.core import workdays

    rule = holiday_rule(cycle)
    if rule == "keep":
        return day
    if rule == "after_holiday" and not workdays.is_public_holiday(day):
        return day
    return workdays.first_working_day_from(day)


def named_submit_day(target: dt.date, cycle: dict[str, Any]) -> dt.date:
    """The submission day as the policy names it (the 8th of the working month), before the holiday rule."""
    return _day(working_month(target), int(cycle["submit_day"]))


def submit_deadline(target: dt.date, cycle: dict[str, Any]) -> dt.date:
    """The last day a CM may hand in (and change) the forecast for ``target`` (moved by :func:`due_day`)."""
    return due_day(named_submit_day(target, cycle), cycle)


def self_report_deadline(target: dt.date, cycle: dict[str, Any]) -> dt.date:
    """The last day a shop's POS may report its own forecast for ``target`` (moved by :func:`due_day`)."""
    return due_day(_day(working_month(target), int(cycle["self_report_until_day"])), cycle)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
