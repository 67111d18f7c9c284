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

import numpy as np
import pandas as pd

# year first: 2024-01, 2024-1-15, 2024/01/15, 2024.01, 202401, 20240115, 2024M01, 2024年1月, 2024年1月15日,
# 2024-01-15 00:00:00, 2024-01-15T00:00:00Z
_YEAR_FIRST = (
    r"^(?P<y>\d{4})\s*(?:[-/.年Mm]\s*)?(?P<m>\d{1,2})\s*月?"
    r"(?:\s*[-/.]?\s*(?P<d>\d{1,2})\s*日?)?(?:[ T].*)?$"
)
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


def _checked(raw: pd.Series, year: np.ndarray, month: np.ndarray, day: np.ndarray | None = None) -> np.ndarray:
    bad = (month < 1) | (month > 12)
    if day is not None:
        bad |= (day < 1) | (day > 31)
    if bad.any():
        raise _first_bad(bad, raw)
    bad = (year < YEARS[0]) | (year > YEARS[1])
    if bad.any():
        raise _first_bad(bad, raw, f"; 年份应在 {YEARS[0]}–{YEARS[1]} 之间 / the year must be {YEARS[0]}–{YEARS[1]}")
    return year * 12 + month - 1


def _from_serials(raw: pd.Series, n: np.ndarray) -> np.ndarray:
    """Spreadsheet date serials (days after 1899-12-30, as Excel and WPS count) as months."""
    days = pd.to_datetime(n, unit="D", origin="1899-12-30")
    return _checked(raw, days.year.to_numpy(dtype=np.int64), days.month.to_numpy(dtype=np.int64))


def _from_numbers(raw: pd.Series) -> np.ndarray:
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


def _day_month(raw: pd.Series, a: np.ndarray, b: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
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


def month_numbers(raw: pd.Series, groups: np.ndarray | None = None) -> np.ndarray:
    """``year * 12 + month - 1`` for each value of ``raw`` (the ``ds`` column of a long-format frame).

    ``groups`` (an integer code of each row's series) only helps to settle ``01/02/2024``-style columns. Raises
    :class:`MonthError` naming the first row that is not a month.
    """
    raw = raw.reset_index(drop=True)
    if len(raw) == 0:
        return np.zeros(0, dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(raw):
        if raw.isna().any():
            raise _first_bad(raw.isna().to_numpy(), raw)
        return (raw.dt.year * 12 + raw.dt.month - 1).to_numpy(dtype=np.int64)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return _from_numbers(raw)
    # a monthly file repeats a few dozen dates over thousands of series: read each distinct text once
    codes, uniq = pd.factorize(raw)
    if (codes < 0).any():
        raise _first_bad(codes < 0, raw)
    text = pd.Series(uniq, dtype=object).astype(str).str.strip()
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5}")), errors="coerce")
    if ((number >= _SERIALS[0]) & (number < _SERIALS[1])).all():  # serials written as text ("45292")
        return _from_serials(raw, number.to_numpy(dtype=np.int64)[codes])
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
    ds = pd.to_datetime(text.where(text.str.contains(r"\d{4}")), errors="coerce", format="mixed")
    bad = ds.isna().to_numpy()[codes]
    if bad.any():
        raise _first_bad(bad, raw, f"; {HINT}")
    return _checked(raw, ds.dt.year.to_numpy(dtype=np.int64)[codes], ds.dt.month.to_numpy(dtype=np.int64)[codes])
