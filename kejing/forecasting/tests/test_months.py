"""Reading the ``ds`` column: every way a sales file writes a month, and the two forms that used to be misread
without an error (the number 202401 read as nanoseconds after 1970; 01/02/2024 read month first in a file of
first-of-month dates written day first)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from kejing.forecasting.cycle import parse_month
from kejing.forecasting.engine import ForecastInputError, backtest
from kejing.forecasting.engine.core import to_panel
from kejing.forecasting.engine.months import MonthError, month_numbers

# month numbers are year * 12 + month - 1: January 2024 = 2024 * 12 + 0 = 24288, March 2024 = 24290
JAN24, MAR24 = 24288, 24290


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01", "2024-03"],
        ["2024-1", "2024-3"],
        ["2024-01-01", "2024-03-31"],
        ["2024/01/15", "2024/3/1"],
        ["2024.01", "2024.03"],
        ["202401", "202403"],
        ["20240115", "20240301"],
        ["2024M01", "2024m3"],
        ["2024年1月", "2024年3月"],
        ["2024年1月5日", "2024年3月31日"],
        ["2024年1月份", "2024年03月份"],  # 月份, as Chinese reports often write it
        ["２０２４－０１", "２０２４年３月"],  # full-width, typed with a Chinese input method
        ["2024-01-15 00:00:00", "2024-03-01T08:00:00Z"],
        [" 2024-01 ", "2024-03"],
        ["Jan 2024", "March 2024"],
        [202401, 202403],
        [20240115, 20240301],
        [dt.date(2024, 1, 9), dt.date(2024, 3, 9)],
        [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-03-01")],
        ["31/01/2024", "01/03/2024"],  # day first: 31 cannot be a month
        ["01/31/2024", "03/01/2024"],  # month first: 31 cannot be a month
        ["31.01.2024", "1.3.2024"],
        ["Jan-24", "Mar-24"],  # a spreadsheet's mmm-yy
        ["jan 24", "March-24"],
        [45292, 45352],  # date serials: 45292 days after 1899-12-30 is 2024-01-01, 45352 is 2024-03-01
        ["45292", "45352"],
    ],
)
def test_each_form_is_january_and_march_2024(values):
    raw = pd.Series(values)
    assert month_numbers(raw).tolist() == [JAN24, MAR24]


def test_numbers_are_months_not_nanoseconds():
    # pandas alone reads 202401 as 1970-01-01 00:00:00.000202401: every row in one month
    assert pd.to_datetime(pd.Series([202401, 202402])).dt.month.tolist() == [1, 1]
    assert month_numbers(pd.Series([202401, 202402, 202512])).tolist() == [24288, 24289, 2025 * 12 + 11]


def test_day_first_or_month_first_is_settled_by_the_series():
    # 36 first-of-month dates written day first: 01/01/2024, 01/02/2024, ... Read month first they would be
    # 1 to 12 January three times over (3 distinct months); read day first, 36 distinct months. Day first wins.
    days = pd.date_range("2024-01-01", periods=36, freq="MS")
    raw = pd.Series(days.strftime("%d/%m/%Y"))
    assert month_numbers(raw, np.zeros(36, dtype=int)).tolist() == list(range(JAN24, JAN24 + 36))
    # the same dates written month first (01/01, 02/01, ...): month first gives 36 months, day first 3
    raw = pd.Series(days.strftime("%m/%d/%Y"))
    assert month_numbers(raw, np.zeros(36, dtype=int)).tolist() == list(range(JAN24, JAN24 + 36))


def test_a_day_first_file_gives_the_same_backtest_as_iso():
    rng = np.random.default_rng(3)
    days = pd.date_range("2021-01-01", periods=40, freq="MS")
    frames = [
        pd.DataFrame(
            {"unique_id": f"s{k}", "ds": days, "y": 50 + 10 * np.sin(np.arange(40) / 1.9) + rng.normal(0, 2, 40)}
        )
        for k in range(3)
    ]
    iso = pd.concat(frames, ignore_index=True)
    european = iso.assign(ds=iso["ds"].dt.strftime("%d.%m.%Y"))
    erp = iso.assign(ds=iso["ds"].dt.strftime("%Y%m").astype(int))
    a = backtest(iso, 3, 2, methods=("kejing",))["methods"]["kejing"]
    for other in (european, erp):
        b = backtest(other, 3, 2, methods=("kejing",))["methods"]["kejing"]
        assert (b["mase"], b["wape"]) == (a["mase"], a["wape"])


@pytest.mark.parametrize(
    ("values", "row", "shown"),
    [
        (["2024-01", "2024-13"], 3, "'2024-13'"),  # no 13th month
        ([202401, 2024], 3, "'2024'"),  # a year is not a month
        ([202401, 20240201], 3, "'20240201'"),  # YYYYMM and YYYYMMDD mixed
        (["2024-01", None], 3, "空 / empty"),
        (["2024-01", "today"], 3, "'today'"),  # pandas would read it as this year
        (["2024-01", "3"], 3, "'3'"),
        (["13/01/2024", "01/13/2024"], 3, "'01/13/2024'"),  # day first and month first in one column
        ([202401.5, 202402], 2, "'202401.5'"),
        (["45292", "2024-01"], 2, "'45292'"),  # not a serial beside other forms, and not the year 4529
        (["1900-01", "0024-01"], 3, "'0024-01'"),  # years outside 1800-2200 are misreads
        (["24-Jan", "24-Feb"], 2, "'24-Jan'"),  # the 24th of January of no year, or January 2024: not guessed
        ([25_568, 45_292], 2, "'25568'"),  # 1969-12-31: below the serials' range (1970-2099), and no YYYYMM
    ],
)
def test_what_is_not_a_month_is_named_by_its_row(values, row, shown):
    with pytest.raises(MonthError) as caught:
        month_numbers(pd.Series(values))
    assert f"row {row}: ds {shown}" in str(caught.value)


def test_two_digit_years_and_serials_over_a_whole_history():
    # Dec-99 is 1999 and Jan-00 is 2000 (Python's %y: 69-99 -> 19xx, 00-68 -> 20xx)
    assert month_numbers(pd.Series(["Dec-99", "Jan-00", "Jun-68", "Jan-69"])).tolist() == [
        1999 * 12 + 11,
        2000 * 12,
        2068 * 12 + 5,
        1969 * 12,
    ]
    # 36 first-of-month dates as serials read back as their 36 months
    days = pd.date_range("2023-01-01", periods=36, freq="MS")
    serials = pd.Series((days - pd.Timestamp("1899-12-30")).days)
    assert serials.iloc[12] == 45292  # 2024-01-01
    assert month_numbers(serials).tolist() == list(range(2023 * 12, 2023 * 12 + 36))
    # below the serials' range a five-digit text is year and month, as before: 20241 is January 2024
    assert month_numbers(pd.Series(["20241", "202410"])).tolist() == [2024 * 12, 2024 * 12 + 9]
    assert parse_month("20241") == dt.date(2024, 1, 1) and parse_month("45292") == dt.date(2024, 1, 1)


def test_header_case_and_spaces_and_empty_ids():
    df = pd.DataFrame({"Unique_ID": ["a", "a"], " DS": ["2024-01", "2024-02"], "Y": [1.0, 2.0]})
    panel = to_panel(df)
    assert panel.ids == ["a"] and panel.starts.tolist() == [JAN24] and panel.values[0].tolist() == [1.0, 2.0]
    with pytest.raises(ForecastInputError, match="row 3: unique_id is empty"):
        to_panel(pd.DataFrame({"unique_id": ["a", None], "ds": ["2024-01", "2024-02"], "y": [1, 2]}))


def test_the_cli_reads_an_erp_file(tmp_path, capsys):
    from kejing.cli import main

    rows = ["unique_id,ds,y"] + [
        f"s{k},{2021 + m // 12}{m % 12 + 1:02d},{40 + (m % 12) * 3 + k}" for k in range(2) for m in range(36)
    ]
    path = tmp_path / "erp.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert (
        main(
            [
                "forecast",
                "backtest",
                "--input",
                str(path),
                "--horizon",
                "3",
                "--folds",
                "2",
                "--json",
                "--quiet",
                "--methods",
                "kejing",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["series"] == 2 and out["windows"] == 4  # before, every row fell in January 1970: no window at all


def test_the_ledger_reads_months_the_same_way():
    assert parse_month("2026-3") == dt.date(2026, 3, 1)
    assert parse_month("202603") == parse_month("2026年3月") == parse_month(dt.date(2026, 3, 9)) == dt.date(2026, 3, 1)
    assert parse_month("x") is None and parse_month("") is None and parse_month(None) is None
    assert parse_month("2026-13") is None


def test_the_ledger_reads_each_distinct_month_once():
    # an import calls parse_month for every row; each distinct text is read by the engine once, then cached
    from kejing.forecasting import cycle

    cycle._parse_month.cache_clear()
    for _ in range(1000):
        assert parse_month("2026-04") == dt.date(2026, 4, 1)
    info = cycle._parse_month.cache_info()
    assert (info.misses, info.hits) == (1, 999)
    assert parse_month(["2026-05"]) is None  # not a month, and no cache key either


def test_quarters_and_iso_weeks_as_statistics_offices_write_them():
    from kejing.forecasting.engine.months import day_numbers

    # a quarter is its first month: 1998 Q1 = January 1998 = 1998 * 12 + 0; Q4 = October = + 9
    quarters = pd.Series(["1998 Q1", "1998Q4", "1998-Q2", "1998年第3季度"])
    assert month_numbers(quarters, periods=True).tolist() == [
        1998 * 12,
        1998 * 12 + 9,
        1998 * 12 + 3,
        1998 * 12 + 6,
    ]
    # an ISO week is its Monday: 2024-W01 begins on Monday 1 January 2024, 1991 W06 on 4 February 1991
    days = day_numbers(pd.Series(["2024-W01", "1991 W06"]), periods=True)
    assert pd.to_datetime(days, unit="D").strftime("%Y-%m-%d").tolist() == ["2024-01-01", "1991-02-04"]
    # 2023 has 52 ISO weeks: week 53 is refused with its row
    with pytest.raises(MonthError, match="row 3"):
        month_numbers(pd.Series(["2023 W52", "2023 W53"]), periods=True)
    with pytest.raises(MonthError, match="row 2"):
        month_numbers(pd.Series(["1998 Q5"]), periods=True)
    # where months are asked for (the ledger, a monthly call), a quarter or a week is no month
    with pytest.raises(MonthError, match="row 2: ds '1998 Q1' is not a month; .*a quarter is not a month"):
        month_numbers(quarters)
    with pytest.raises(MonthError, match="a week is not a month"):
        month_numbers(pd.Series(["2024-01", "2024-W05"]))
    assert parse_month("2024-W05") is None and parse_month("2024 Q1") is None
