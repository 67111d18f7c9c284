"""Working days across the 2026 Spring Festival and National Day, with their make-up working days; a year whose
schedule is not installed (2027) estimated from its statutory holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from kejing.catalog.engine import load_catalog, quote
from kejing.core import workdays
from kejing.core.workdays import CalendarError, add_working_days, is_working_day, working_days_between

D = dt.date


def test_holidays_and_make_up_days_2026():
    assert not is_working_day(D(2026, 2, 17))  # 春节 (Tuesday)
    assert is_working_day(D(2026, 2, 14))  # Saturday worked in exchange
    assert is_working_day(D(2026, 2, 28))  # Saturday worked in exchange
    assert not is_working_day(D(2026, 10, 5))  # 国庆 (Monday)
    assert is_working_day(D(2026, 10, 10))  # Saturday worked in exchange
    assert not is_working_day(D(2026, 3, 7))  # an ordinary Saturday


def test_across_spring_festival():
    # Thu 12 Feb + 5: Fri 13 (1), Sat 14 make-up (2), 15–23 off, Tue 24 (3), Wed 25 (4), Thu 26 (5)
    assert add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 26)
    assert working_days_between(D(2026, 2, 12), D(2026, 2, 26)) == 5


def test_across_national_day():
    # Tue 29 Sep + 5: Wed 30 (1), Oct 1–7 off, Thu 8 (2), Fri 9 (3), Sat 10 make-up (4), Mon 12 (5)
    assert add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 12)


def test_order_on_a_holiday_and_zero_days():
    # ordered on 16 Feb (holiday): the first working day counted is Tue 24 Feb
    assert add_working_days(D(2026, 2, 16), 1) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 16), 0) == D(2026, 2, 16)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 2, 16), -1)


def test_outside_the_calendar_is_a_clear_error():
    with pytest.raises(CalendarError):
        is_working_day(D(1990, 1, 2))


def test_quote_opening_date_uses_the_level():
    cat = load_catalog()
    # 企信通 5 / 3 / 1 working days from Thu 12 Feb 2026
    assert quote(cat, "QXT", {}, start=D(2026, 2, 12)).opening["date"] == "2026-02-26"
    # urgent 3: Fri 13, Sat 14 (make-up), Tue 24
    assert quote(cat, "QXT", {}, start=D(2026, 2, 12), level="urgent").opening["date"] == "2026-02-24"
    # extra urgent 1: Fri 13
    assert quote(cat, "QXT", {}, start=D(2026, 2, 12), level="extra_urgent").opening["date"] == "2026-02-13"
    # 专线 has no SLA, but the FAQ's project lead time: 7 working days with transmission resources
    o = quote(cat, "ZXFW", {}, start=D(2026, 9, 29)).opening
    # Wed 30 (1), Thu 8 (2), Fri 9 (3), Sat 10 (4), Mon 12 (5), Tue 13 (6), Wed 14 (7)
    assert (o["basis"], o["date"]) == ("with_resources", "2026-10-14")


def test_a_year_after_the_official_calendar_is_estimated_from_its_statutory_holidays(official_to_2026):
    # 2041, far from any published schedule: its Spring Festival falls on Friday 1 February; the eve (Thu 31 Jan)
    # and the three days (Fri 1 - Sun 3 Feb) are off, the two weekend days moved to Mon 4 and Tue 5; Wed 6 works
    days = [D(2041, 1, 30) + dt.timedelta(days=k) for k in range(8)]
    assert [is_working_day(d) for d in days] == [True] + [False] * 6 + [True]
    assert not is_working_day(D(2041, 1, 1)) and not is_working_day(D(2041, 10, 1))  # New Year, National Day
    assert is_working_day(D(2041, 3, 4)) and not is_working_day(D(2041, 3, 2))  # a Monday, a Saturday
    # Mon 17 Dec 2040 + 22: 18-21 (4), 24-28 (9), Mon 31 (10), Tue 1 Jan 2041 off, 2-4 Jan (13), 7-11 (18),
    # 14-17 Jan (22)
    assert add_working_days(D(2040, 12, 17), 22) == D(2041, 1, 17)
    assert workdays.estimated_years(D(2026, 12, 15), D(2027, 1, 15)) == [2027]
    assert workdays.estimated_years(D(2026, 2, 12), D(2026, 2, 26)) == []


def test_the_calendar_in_use_today_knows_2026_and_says_what_it_estimates():
    # the real installed release, not pinned: 2026 is official; a year it does not hold is counted from the
    # statutory holidays (1 January is never a working day)
    assert workdays.is_official(2026)
    later = next(y for y in range(2027, 2100) if not workdays.is_official(y))
    assert not is_working_day(D(later, 1, 1))


def test_the_estimate_agrees_with_the_official_calendar_where_both_exist():
    """The fallback's library against the official one, day by day over 2024-2026 (3 years, 1,096 days)."""
    for year in (2024, 2025, 2026):
        day = D(year, 1, 1)
        while day.year == year:
            assert workdays._statutory(year).is_working_day(day) == is_working_day(day), day
            day += dt.timedelta(days=1)


def test_a_quote_into_an_estimated_year_says_so_and_a_start_before_the_calendar_names_the_field(official_to_2026):
    cat = load_catalog()
    o = quote(cat, "GDKD", {"bandwidth_mbps": 10}, start=D(2040, 12, 17)).opening
    assert (o["days"], o["date"], o["estimated"]) == (22, "2041-01-17", True) and "2041" in o["calendar_note"]
    assert quote(cat, "GDKD", {"bandwidth_mbps": 10}, start=D(2026, 11, 2)).opening["estimated"] is False
    from kejing.catalog.engine import QuoteError

    with pytest.raises(QuoteError) as err:
        quote(cat, "GDKD", {"bandwidth_mbps": 10}, start=D(1999, 12, 1))
    assert err.value.field == "start"
