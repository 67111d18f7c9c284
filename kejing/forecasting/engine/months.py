"""Reading the month of each row of a sales file, whatever way the file writes it.

Why a module of its own: a ledger exported from a Chinese ERP writes ``202401`` (often as a number) or
``2024年1月``, a statistics office ``2024M01``, a European spreadsheet ``01.01.2024`` and an American one
``1/1/2024``, a spreadsheet ``Jan-24`` or, when the column lost its date format, the day serial ``45292``
(2024-01-01). Pandas reads the number ``202401`` as nanoseconds after 1970, so every row fell in January 1970 and
was summed into one month; and it reads ``01/02/2024`` month first, so a European file of first-of-month dates
became twelve Januaries a year. Both gave numbers without an error. Here every form is read on purpose, a
day/month order that the column does not settle is chosen by which reading keeps the months of each series apart,
and anything else is an error naming the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

# year first: 2024-01, 2024-1-15, 2024/01/15, 2024.01, 202401, 20240115, 2024M01, 2024年1月, 2024年1月份,
# 2024年1月15日, 2024-01-15 00:00:00, 2024-01-15T00:00:00Z
_YEAR_FIRST = (
    r"^(?P<y>\d{4})\s*(?:[-/.年Mm]\s*)?(?P<m>\d{1,2})\s*(?:月份?)?"
    r"(?:\s*[-/.]?\s*(?P<d>\d{1,2})\s*日?)?(?:[ T].*)?$"
)
# a quarter (1998 Q1, 1998Q1, 1998-Q1, 2024年第1季度) is its first month; an ISO week (1991 W06, 2024-W01) its Monday
_QUARTER = r"^(?P<y>\d{4})\s*(?:[-/ ]?\s*[Qq](?P<q>[1-4])|年\s*第?\s*(?P<cq>[1-4])\s*季度?)$"
_ISO_WEEK = r"^(?P<y>\d{4})\s*-?\s*[Ww](?P<w>\d{1,2})$"
# day and month first, year last: 15/01/2024, 01.02.2024, 1/15/2024, 1-15-2024 00:00
_YEAR_LAST = r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})(?:[ T].*)?$"
# a month name and a two-digit year, as a spreadsheet's "mmm-yy" format writes it: Jan-24, Sep 23, March-24
_NAME_YY = r"^(?P<name>[A-Za-z]{3,9})\.?[-\s/']?(?P<yy>\d{2})$"
_MONTH_NAMES = {
    name: i + 1
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for name in names
}
# the years a sales file can mean; a year outside is a misread (45292, an Excel date serial, is not 4529-2)
YEARS = (1800, 2200)
# whole numbers from 25569 to 73050 are spreadsheet date serials (days after 1899-12-30): 1970-01-01 to
# 2099-12-31; below, 20241 stays January 2024 (YYYYM), as it was read before serials were
_SERIALS = (25_569, 73_051)

HINT = "写成 2024-01、202401 或 2024-01-15 / write it as 2024-01, 202401 or 2024-01-15"


class MonthError(ValueError):
    """A value is not a month; ``row`` is its 0-based position in the column."""

    def __init__(self, row: int, value: object, reason: str = "") -> None:
        self.row, self.value = row, value
        shown = "空 / empty" if _missing(value) else repr(str(value))
        super().__init__(f"第 {row + 2} 行 ds {shown} 不是月份 / row {row + 2}: ds {shown} is not a month{reason}")


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _first_bad(bad: np.ndarray, raw: pd.Series, reason: str = "") -> MonthError:
    row = int(np.flatnonzero(bad)[0])
    return MonthError(row, raw.iloc[row], reason)


Parts = tuple[np.ndarray, np.ndarray, np.ndarray]  # year, month, day (1 where the form has no day)


def _checked(raw: pd.Series, year: np.ndarray, month: np.ndarray, day: np.ndarray | None = None) -> Parts:
    bad = (month < 1) | (month > 12)
    if day is not None:
        bad |= (day < 1) | (day > 31)
    if bad.any():
        raise _first_bad(bad, raw)
    bad = (year < YEARS[0]) | (year > YEARS[1])
    if bad.any():
        raise _first_bad(bad, raw, f"; 年份应在 {YEARS[0]}–{YEARS[1]} 之间 / the year must be {YEARS[0]}–{YEARS[1]}")
    return year, month, (np.ones(len(year), dtype=np.int64) if day is None else day)


def _from_serials(raw: pd.Series, n: np.ndarray) -> Parts:
    """Spreadsheet date serials (days after 1899-12-30, as Excel and WPS count) as dates."""
    days = pd.to_datetime(n, unit="D", origin="1899-12-30")
    return _checked(
        raw, days.year.to_numpy(dtype=np.int64), days.month.to_numpy(dtype=np.int64), days.day.to_numpy(dtype=np.int64)
    )


def _from_numbers(raw: pd.Series) -> Parts:
    """``202401`` or ``20240115`` as a number (spreadsheets and ERPs store them so), or a column of spreadsheet
    date serials (``45292`` = 2024-01-01: a date column saved without its date format)."""
    v = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v) | (v != np.round(v))
    if bad.any():
        raise _first_bad(bad, raw, f"; {HINT}")
    n = v.astype(np.int64)
    if ((n >= _SERIALS[0]) & (n < _SERIALS[1])).all():
        return _from_serials(raw, n)
    yyyymm = (n >= 100_001) & (n <= 999_912)
    yyyymmdd = (n >= 10_000_101) & (n <= 99_991_231)
    if yyyymm.all():
        return _checked(raw, n // 100, n % 100)
    if yyyymmdd.all():
        return _checked(raw, n // 10_000, n // 100 % 100, n % 100)
    bad = ~yyyymm & ~yyyymmdd
    if bad.any():
        raise _first_bad(bad, raw, f"; {HINT}")
    mixed = "; 同一列里混有 YYYYMM 和 YYYYMMDD / the column mixes YYYYMM and YYYYMMDD"
    raise _first_bad(yyyymm != yyyymm[0], raw, mixed)


def _day_month(raw: pd.Series, a: np.ndarray, b: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> Parts:
    """``a/b/yyyy``: which of a and b is the month? A number above 12 settles it; otherwise the reading that
    gives each series more distinct months (monthly data on the 1st read the wrong way round puts a whole year
    into January), and month first when both give as many."""
    day_first, month_first = (a > 12).any(), (b > 12).any()
    if day_first and month_first:
        raise _first_bad(b > 12, raw, "; 同一列里日/月顺序不一致 / the column mixes day-first and month-first dates")
    if not day_first and not month_first:
        g = np.zeros(len(a), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        as_month_first = pd.unique(g * 1_000_000 + y * 12 + a).size
        as_day_first = pd.unique(g * 1_000_000 + y * 12 + b).size
        day_first = as_day_first > as_month_first
    return _checked(raw, y, b, a) if day_first else _checked(raw, y, a, b)


@dataclass(frozen=True)
class Dates:
    """A ``ds`` column read once: year, month and day of each row (day 1 where the form has none). Why a value
    and not two functions: telling a daily file from a monthly one needs both the months and the days, and the
    reading (regular expressions over every distinct text) is the expensive part."""

    raw: pd.Series
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray

    def months(self) -> np.ndarray:
        """``year * 12 + month - 1`` of each row."""
        return self.year * 12 + self.month - 1

    def days(self) -> np.ndarray:
        """Days after 1970-01-01 of each row; a day its month does not have (``2024-02-30``) is an error naming
        the row."""
        dates = pd.to_datetime(pd.DataFrame({"year": self.year, "month": self.month, "day": self.day}), errors="coerce")
        bad = dates.isna().to_numpy()
        if bad.any():
            raise _first_bad(bad, self.raw, "; 该月没有这一天 / the month has no such day")
        return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def read_dates(raw: pd.Series, groups: np.ndarray | None = None, periods: bool = False) -> Dates:
    """Read every value of ``raw`` (the ``ds`` column of a long-format frame); see :func:`month_numbers`."""
    raw = raw.reset_index(drop=True)
    return Dates(raw, *_parts(raw, groups, periods))


def month_numbers(raw: pd.Series, groups: np.ndarray | None = None, periods: bool = False) -> np.ndarray:
    """``year * 12 + month - 1`` for each value of ``raw`` (the ``ds`` column of a long-format frame).

    ``groups`` (an integer code of each row's series) only helps to settle ``01/02/2024``-style columns. Raises
    :class:`MonthError` naming the first row that is not a month. ``periods`` also takes quarters (``1998 Q1``,
    its first month) and ISO weeks (``2024-W01``, its Monday's month): only where the caller reads the file's
    period from the dates (``core.to_panel``); a monthly ledger refuses them, a week is not a month.
    """
    return read_dates(raw, groups, periods).months()


def day_numbers(raw: pd.Series, groups: np.ndarray | None = None, periods: bool = False) -> np.ndarray:
    """Days after 1970-01-01 of each value of ``raw``, read as :func:`month_numbers` reads it; a form without a
    day (``2024-01``, ``202401``, ``Jan-24``) is the 1st. Why: a file of daily or weekly rows must be told from a
    monthly one with repeated months (``to_panel``)."""
    return read_dates(raw, groups, periods).days()


def bare_years(raw: pd.Series) -> np.ndarray | None:
    """The years of a column of bare years (``2019``, as text or whole numbers, all within :data:`YEARS`), or
    ``None`` when the column is anything else. A yearly file is written so; a monthly reading refuses it (pandas
    would take ``2019`` for its January). Each distinct value is looked at once."""
    if not (raw.dtype == object or pd.api.types.is_integer_dtype(raw)):
        return None
    codes, uniq = pd.factorize(raw)
    text = pd.Series(uniq, dtype=object).astype(str).str.strip()
    if (codes < 0).any() or not text.str.fullmatch(r"\d{4}").all():
        return None
    years = text.astype(np.int64).to_numpy()
    if not ((years >= YEARS[0]) & (years <= YEARS[1])).all():
        return None
    return years[codes]


def _parts(raw: pd.Series, groups: np.ndarray | None, periods: bool) -> Parts:
    """Year, month and day of each value (see the module docstring for the forms)."""
    if len(raw) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if pd.api.types.is_datetime64_any_dtype(raw):
        if raw.isna().any():
            raise _first_bad(raw.isna().to_numpy(), raw)
        return tuple(getattr(raw.dt, k).to_numpy(dtype=np.int64) for k in ("year", "month", "day"))
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return _from_numbers(raw)
    # a monthly file repeats a few dozen dates over thousands of series: read each distinct text once
    codes, uniq = pd.factorize(raw)
    if (codes < 0).any():
        raise _first_bad(codes < 0, raw)
    # full-width digits and signs (２０２６－１１, typed with a Chinese input method) read as their ASCII forms
    text = pd.Series(uniq, dtype=object).astype(str).str.normalize("NFKC").str.strip()
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5}")), errors="coerce")
    if ((number >= _SERIALS[0]) & (number < _SERIALS[1])).all():  # serials written as text ("45292")
        return _from_serials(raw, number.to_numpy(dtype=np.int64)[codes])
    parts = text.str.extract(_QUARTER)
    quarter = pd.to_numeric(parts["q"]).fillna(pd.to_numeric(parts["cq"]))
    if quarter.notna().any() and not periods:
        raise _first_bad(
            quarter.notna().to_numpy()[codes], raw, "; 这是季度 / a quarter is not a month (--freq quarter)"
        )
    if quarter.notna().all():
        year, q = (pd.to_numeric(v).to_numpy(dtype=np.int64)[codes] for v in (parts["y"], quarter))
        return _checked(raw, year, 3 * q - 2)
    parts = text.str.extract(_ISO_WEEK)
    if parts["w"].notna().any() and not periods:
        raise _first_bad(parts["w"].notna().to_numpy()[codes], raw, "; 这是周 / a week is not a month (--freq week)")
    if parts["w"].notna().all():
        mondays = []
        for i, (a, b) in enumerate(zip(parts["y"].astype(int), parts["w"].astype(int), strict=True)):
            try:
                mondays.append(dt.date.fromisocalendar(a, b, 1))
            except ValueError:  # week 0 or 54, or 53 in a year of 52
                raise _first_bad(codes == i, raw) from None
        monday = pd.to_datetime(pd.Series(mondays))
        return _checked(raw, *(getattr(monday.dt, k).to_numpy(dtype=np.int64)[codes] for k in ("year", "month", "day")))
    parts = text.str.extract(_YEAR_FIRST)
    if parts["m"].notna().all():
        year, month, day = (pd.to_numeric(parts[k]).fillna(1).to_numpy(dtype=np.int64)[codes] for k in "ymd")
        return _checked(raw, year, month, day)
    parts = text.str.extract(_YEAR_LAST)
    if parts["a"].notna().all():
        a, b, year = (pd.to_numeric(parts[k]).to_numpy(dtype=np.int64)[codes] for k in "aby")
        return _day_month(raw, a, b, year, groups)
    parts = text.str.extract(_NAME_YY)
    if parts["yy"].notna().all():
        month = parts["name"].str.lower().map(_MONTH_NAMES)
        if month.notna().all():
            # two-digit years as Python's %y reads them: 69-99 are 1969-1999, 00-68 are 2000-2068
            yy = pd.to_numeric(parts["yy"]).to_numpy(dtype=np.int64)
            year = np.where(yy >= 69, 1900 + yy, 2000 + yy)
            return _checked(raw, year[codes], month.to_numpy(dtype=np.int64)[codes])
    # anything else with a year that pandas can read alone ("Jan 2024", "January 2024"); without a year
    # ("today", "3") it would take this year's, which no sales file means
    year_only = text.str.fullmatch(r"\d{4}").to_numpy()[codes]
    if year_only.any():  # pandas reads "2024" as its January; a yearly file is read as such by to_panel
        raise _first_bad(year_only, raw, "; 只有年份 / a year alone is not a month (--freq year)")
    ds = pd.to_datetime(text.where(text.str.contains(r"\d{4}")), errors="coerce", format="mixed")
    bad = ds.isna().to_numpy()[codes]
    if bad.any():
        raise _first_bad(bad, raw, f"; {HINT}")
    return _checked(raw, *(getattr(ds.dt, k).to_numpy(dtype=np.int64)[codes] for k in ("year", "month", "day")))
