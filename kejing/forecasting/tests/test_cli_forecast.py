"""``kejing forecast …``, ``kejing allocate`` and the two benches, run in-process on tiny files."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest

from kejing.cli import main


def _write_series(path):
    # two seasonal series of 36 months and one brand-new series of 2 months
    ds = pd.date_range("2023-01-01", periods=36, freq="MS")
    t = np.arange(36)
    frames = [
        pd.DataFrame({"unique_id": "a", "ds": ds, "y": 50 + t + 10 * (ds.month == 7)}),
        pd.DataFrame({"unique_id": "b", "ds": ds, "y": 20 + 5 * (ds.month.isin([1, 2]))}),
        pd.DataFrame({"unique_id": "c", "ds": ds[-2:], "y": [3, 4]}),
    ]
    pd.concat(frames).to_csv(path, index=False)


def test_backtest_json(tmp_path, capsys):
    src = tmp_path / "sales.csv"
    _write_series(src)
    assert main(["forecast", "backtest", "--input", str(src), "--horizon", "3", "--folds", "2", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    # progress on stderr, one line per method and fold (3 x 2), stdout only the JSON
    steps = captured.err.strip().splitlines()
    assert len(steps) == 6 and steps[0].startswith("[1/6] kejing") and steps[-1].startswith("[6/6] auto_ets")
    assert "fold 2 of 2: 2 条序列 / series" in steps[-1]  # a and b; the 2-month c has nothing left to train on
    assert set(out["methods"]) == {"kejing", "seasonal_naive", "auto_ets"}
    for m in out["methods"].values():
        assert set(m) == {"mase", "wape", "seconds"}
        assert m["wape"] >= 0
    # a, b take part in both folds; c (2 months) cannot be cut 3 or 6 months back
    assert out["windows"] == 4
    # one row per series and month: nothing filled or summed, so nothing to say; 36 months from January 2023
    assert out["input"] == {
        "rows": 74,
        "series": 3,
        "frequency": "month",
        "periods_filled": 0,
        "rows_summed": 0,
        "first": "2023-01-01",
        "last": "2025-12-01",
    }


def test_backtest_and_run_say_what_they_did_with_gaps_and_repeated_months(tmp_path, capsys):
    src = tmp_path / "sales.csv"
    _write_series(src)
    df = pd.read_csv(src)
    # series a loses its months 11-13 (3 gaps, read as 0); series b's first 2 rows come twice (2 rows summed)
    a_rows = df.index[df["unique_id"] == "a"][10:13]
    b_rows = df[df["unique_id"] == "b"].iloc[:2]
    pd.concat([df.drop(index=a_rows), b_rows]).to_csv(src, index=False)
    assert main(["forecast", "backtest", "--input", str(src), "--horizon", "3", "--folds", "2", "--json"]) == 0
    reading = json.loads(capsys.readouterr().out)["input"]
    # 74 - 3 + 2 = 73 rows
    assert {k: reading[k] for k in ("rows", "periods_filled", "rows_summed")} == {
        "rows": 73,
        "periods_filled": 3,
        "rows_summed": 2,
    }
    assert main(["forecast", "backtest", "--input", str(src), "--horizon", "3", "--folds", "2", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "3 month(s) missing inside a series counted as 0" in text and "2 row(s) added" in text
    dst = tmp_path / "fc.csv"
    assert main(["forecast", "run", "--input", str(src), "--horizon", "2", "--output", str(dst)]) == 0
    assert "3 个序列内缺失的月按 0 计" in capsys.readouterr().out


def test_run_writes_forecasts(tmp_path, capsys):
    src, dst = tmp_path / "sales.csv", tmp_path / "fc.csv"
    _write_series(src)
    assert main(["forecast", "run", "--input", str(src), "--horizon", "2", "--output", str(dst)]) == 0
    fc = pd.read_csv(dst)
    assert list(fc.columns) == ["unique_id", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]
    assert len(fc) == 6 and fc["ds"].iloc[0] == "2026-01-01"
    assert "3" in capsys.readouterr().out


def test_allocate_cli(tmp_path, capsys):
    lines, supply, dst = tmp_path / "lines.csv", tmp_path / "supply.csv", tmp_path / "out.csv"
    pd.DataFrame(
        {"customer_id": [1, 2, 3], "spec": "P1", "area": "A1", "forecast": [2, 3, 5], "demand": [2, 3, 5]}
    ).to_csv(lines, index=False)
    pd.DataFrame({"spec": ["P1"], "area": ["A1"], "supply": [12]}).to_csv(supply, index=False)
    args = ["allocate", "--input", str(lines), "--supply", str(supply), "--output", str(dst), "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    # demand 2+3+5 = 10 < supply 12: everyone full, 2 units reported with their reason
    assert out["placed"] == 10 and out["unplaced"] == 2
    assert out["remainders"][0]["reason"] == "demand_exhausted"
    assert pd.read_csv(dst)["allocated"].tolist() == [2, 3, 5]


def test_allocate_cli_bad_row(tmp_path, capsys):
    lines, supply = tmp_path / "lines.csv", tmp_path / "supply.csv"
    pd.DataFrame({"spec": ["P1"], "area": ["A1"], "forecast": ["many"]}).to_csv(lines, index=False)
    pd.DataFrame({"spec": ["P1"], "area": ["A1"], "supply": [1]}).to_csv(supply, index=False)
    args = ["allocate", "--input", str(lines), "--supply", str(supply), "--output", str(tmp_path / "o.csv"), "--json"]
    assert main(args) == 2
    assert "forecast" in json.loads(capsys.readouterr().out)["error"]


def test_benches_small(capsys):
    assert main(["bench", "allocate", "--lines", "3000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["identical"] is True and out["placed"] == out["supply"]
    # tier mode against its exact reference on the same (here: all) lines
    assert out["tier_baseline"]["identical"] is True and out["tier_baseline"]["lines"] == 3000
    assert (
        main(["bench", "forecast", "--series", "40", "--ets-series", "3", "--n-jobs", "1", "--repeats", "1", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert {"series", "seconds", "series_per_second", "auto_ets_series_per_second"} <= set(out)


def test_backtest_reads_tab_and_semicolon_files_and_names_bad_cells(tmp_path, capsys):
    src = tmp_path / "sales.csv"
    _write_series(src)
    frame = pd.read_csv(src)
    expected = None
    for sep, name in ((",", "comma.csv"), ("\t", "tab.tsv"), (";", "semi.csv")):
        path = tmp_path / name
        frame.to_csv(path, index=False, sep=sep)
        args = ["forecast", "backtest", "--input", str(path), "--horizon", "3", "--folds", "2", "--json", "--quiet"]
        assert main(args) == 0
        captured = capsys.readouterr()
        assert captured.err == ""  # --quiet: no progress lines
        methods = json.loads(captured.out)["methods"]
        scores = {k: (v["mase"], v["wape"]) for k, v in methods.items()}
        expected = expected or scores
        assert scores == expected  # same data, same scores, whatever the separator
    # an empty y cell is a month without a figure: the file scores exactly as the same file without that row
    # (series a's 5th month then counts as 0 inside the series, the documented rule for a missing month), and
    # the reading says so; series b's last two cells empty just end it two months earlier
    args = ["forecast", "backtest", "--horizon", "3", "--folds", "1", "--json", "--quiet", "--input"]
    gap = frame.copy()
    gap.loc[4, "y"] = None
    b_rows = gap.index[gap.unique_id == "b"]
    gap.loc[b_rows[-2:], "y"] = None
    gap.to_csv(tmp_path / "gap.csv", index=False)
    gap.dropna(subset=["y"]).to_csv(tmp_path / "rows_out.csv", index=False)
    assert main([*args, str(tmp_path / "gap.csv")]) == 0
    with_empty = json.loads(capsys.readouterr().out)
    assert main([*args, str(tmp_path / "rows_out.csv")]) == 0
    without_rows = json.loads(capsys.readouterr().out)
    for method in ("kejing", "seasonal_naive", "auto_ets"):
        for score in ("mase", "wape"):
            assert with_empty["methods"][method][score] == without_rows["methods"][method][score]
    # 74 rows in the file, 3 of them empty: 71 figures read, one month filled inside series a
    assert with_empty["input"]["rows"] == 71 and with_empty["input"]["rows_empty"] == 3
    assert with_empty["input"]["periods_filled"] == 1
    assert "3 row(s) with an empty y left out" in with_empty["input"]["note"]
    assert "rows_empty" not in without_rows["input"]
    # a file of empty figures only has nothing to forecast: refused with a reason
    frame.assign(y=None).to_csv(tmp_path / "none.csv", index=False)
    assert main([*args, str(tmp_path / "none.csv")]) == 2
    assert "every y is empty" in json.loads(capsys.readouterr().out)["error"]
    # a column name that is no name of the figures: the message lists what the file has and the option to use
    frame.rename(columns={"y": "figure"}).to_csv(tmp_path / "cols.csv", index=False)
    assert main([*args, str(tmp_path / "cols.csv")]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "missing column(s): y" in error and "found: unique_id, ds, figure" in error and "--value-col" in error


def test_allocation_output_is_the_same_csv_by_either_writer(tmp_path, monkeypatch):
    from kejing.forecasting.cli import _write_csv
    from kejing.forecasting.engine.synth import allocation_lines

    pytest.importorskip("pyarrow")
    lines, _ = allocation_lines(3000)  # text, integer and float columns, missing caps
    lines["allocated"] = np.arange(len(lines))
    fast, plain = tmp_path / "fast.csv", tmp_path / "plain.csv"
    lines.to_csv(plain, index=False)
    with monkeypatch.context() as m:  # prove the fast path wrote it: pandas may not
        m.setattr(pd.DataFrame, "to_csv", lambda *a, **k: pytest.fail("pandas wrote the lines"))
        _write_csv(lines, str(fast))
    assert lines["cap"].isna().any() and fast.read_bytes() == plain.read_bytes()
    # a column of numbers and text mixed, and a column of booleans: pandas writes them, as before
    odd = pd.DataFrame({"customer_id": [1, "C2", 3.5], "ok": [True, False, True]})
    _write_csv(odd, str(fast))
    odd.to_csv(plain, index=False)
    assert fast.read_text() == plain.read_text() == "customer_id,ok\n1,True\nC2,False\n3.5,True\n"


def test_backtest_says_why_there_is_nothing_to_score(tmp_path, capsys):
    # the longest series has 36 months; horizon 30 and 2 folds of step 6 cut 30 and 30 + 6 = 36 months back,
    # which leaves 6 and 0 months to train on: one window. Horizon 36 cuts 36 and 42: none; a series would need
    # more than 36 months for the newer fold and more than 36 + 6 = 42 for both
    src = tmp_path / "sales.csv"
    _write_series(src)
    args = ["forecast", "backtest", "--input", str(src), "--folds", "2", "--step", "6", "--methods", "kejing"]
    assert main([*args, "--horizon", "30", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["windows"] == 2 and "note" not in out  # a and b in the newer fold
    assert main([*args, "--horizon", "36", "--quiet"]) == 0
    assert "needs more than 36 months for the newest fold and more than 42 for all 2" in capsys.readouterr().out
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"unique_id": "f", "ds": pd.date_range("2023-01-01", periods=30, freq="MS"), "y": 0}).to_csv(flat)
    assert main(["forecast", "backtest", "--input", str(flat), "--horizon", "3", "--folds", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["methods"]["kejing"]["mase"] is None and "MASE undefined" in out["note"]


def test_backtest_reads_an_excel_workbook_as_its_csv(tmp_path, capsys):
    # the same three series as a CSV and as the first sheet of a workbook (ds as date cells): the same figures
    src = tmp_path / "sales.csv"
    _write_series(src)
    book = tmp_path / "sales.xlsx"
    frame = pd.read_csv(src)
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame.to_excel(book, index=False)
    args = ["forecast", "backtest", "--horizon", "3", "--folds", "2", "--json", "--quiet", "--methods", "kejing"]
    assert main([*args, "--input", str(src)]) == 0
    from_csv = json.loads(capsys.readouterr().out)
    assert main([*args, "--input", str(book)]) == 0
    from_book = json.loads(capsys.readouterr().out)
    assert from_book["windows"] == from_csv["windows"] == 4
    assert from_book["methods"]["kejing"]["mase"] == from_csv["methods"]["kejing"]["mase"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(SystemExit, match="cannot read the workbook"):
        main([*args, "--input", str(broken)])


def test_numbers_written_with_separators_are_read_as_numbers(tmp_path, capsys):
    # a history saved from a spreadsheet keeps its number format: "1,017.5" in a comma file, "1.017,5" or
    # "17,5" in a semicolon file (decimal comma); both give the same figures as the plain file
    rng = np.random.default_rng(3)
    ds = pd.date_range("2022-01-01", periods=36, freq="MS").strftime("%Y-%m")
    frame = pd.concat(
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": np.round(900 + 300 * rng.random(36), 1)}) for i in range(3)
    )
    frame.to_csv(tmp_path / "plain.csv", index=False)
    grouped = frame.assign(y=frame["y"].map(lambda v: f"{v:,.1f}"))  # 1,017.5 (and 953.2)
    grouped.to_csv(tmp_path / "grouped.csv", index=False)
    european = frame.assign(
        y=frame["y"].map(lambda v: f"{v:,.1f}".replace(",", " ").replace(".", ",").replace(" ", "."))
    )
    european.to_csv(tmp_path / "european.csv", index=False, sep=";")
    assert european["y"].str.contains(r"^\d\.\d{3},\d$").any()  # 1.017,5 is in the file
    args = ["forecast", "backtest", "--horizon", "3", "--folds", "2", "--json", "--quiet", "--methods", "kejing"]
    scores = []
    for name in ("plain.csv", "grouped.csv", "european.csv"):
        assert main([*args, "--input", str(tmp_path / name)]) == 0
        scores.append(json.loads(capsys.readouterr().out)["methods"]["kejing"])
    assert scores[0]["mase"] > 0 and scores[0] == {**scores[1], "seconds": scores[0]["seconds"]}
    assert scores[0] == {**scores[2], "seconds": scores[0]["seconds"]}
    # one cell of another shape: refused, that cell's row named (line 5 = the 4th row), nothing guessed
    odd = grouped.copy()
    odd.iloc[3, 2] = "1,01.5"
    odd.to_csv(tmp_path / "odd.csv", index=False)
    assert main([*args, "--input", str(tmp_path / "odd.csv")]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "row 5: y '1,01.5' is not written like the other numbers of the column" in error
    # in a semicolon file a dot is a thousands separator only in groups of three: 1017.5 beside 17,5 is refused,
    # not read as 10175
    mixed = european.copy()
    mixed.iloc[1, 2] = "1017.5"
    mixed.to_csv(tmp_path / "mixed.csv", index=False, sep=";")
    assert main([*args, "--input", str(tmp_path / "mixed.csv")]) == 2
    assert "row 3: y '1017.5' is not written like" in json.loads(capsys.readouterr().out)["error"]
    # a column with no separator anywhere is the engine's to judge, as before
    plain_bad = frame.astype({"y": object})
    plain_bad.iloc[0, 2] = "many"
    plain_bad.to_csv(tmp_path / "bad.csv", index=False)
    assert main([*args, "--input", str(tmp_path / "bad.csv")]) == 2
    assert "row 2: y 'many' is not a number" in json.loads(capsys.readouterr().out)["error"]


def test_allocation_reads_grouped_numbers_but_leaves_codes_alone(tmp_path, capsys):
    lines, supply, dst = tmp_path / "lines.csv", tmp_path / "supply.csv", tmp_path / "out.csv"
    # customer codes that look like grouped numbers stay as written; demand "1,200" is 1200
    pd.DataFrame(
        {
            "customer_id": ["1,001", "1,002"],
            "spec": "P1",
            "area": "A1",
            "forecast": ["1,200", "800"],
            "demand": ["1,200", "800"],
        }
    ).to_csv(lines, index=False)
    pd.DataFrame({"spec": ["P1"], "area": ["A1"], "supply": ["1,500"]}).to_csv(supply, index=False)
    args = ["allocate", "--input", str(lines), "--supply", str(supply), "--output", str(dst), "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    # 1,500 shared 1,200 : 800 -> 900 and 600 exactly (no remainder)
    assert out["placed"] == 1500 and out["unplaced"] == 0
    result = pd.read_csv(dst, dtype={"customer_id": str})
    assert result["customer_id"].tolist() == ["1,001", "1,002"]
    assert result["allocated"].tolist() == [900, 600]


def test_a_quarterly_file_is_scored_by_quarters_with_its_own_season(tmp_path, capsys):
    # 12 quarters written "2021 Q1" ... "2023 Q4": before, "2021 Q1" was no month, and quarters written as dates
    # became one month of sales and two of zeros
    rows = [("a", f"{2021 + i // 4} Q{i % 4 + 1}", [10, 20, 30, 40][i % 4] + i) for i in range(12)]
    src = tmp_path / "quarters.csv"
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(src, index=False)
    args = ["forecast", "backtest", "--input", str(src), "--horizon", "4", "--folds", "1", "--json", "--quiet"]
    assert main([*args, "--methods", "seasonal_naive"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["season"] == 4 and out["input"]["frequency"] == "quarter" and out["input"]["periods_filled"] == 0
    # the seasonal naive repeats 2022's quarters 14, 25, 36, 47 against 2023's 18, 29, 40, 51: every error 4;
    # the MASE scale is its in-sample error on 2021-2022, also 4 each, so MASE = 1 and WAPE = 16 / 138
    assert out["methods"]["seasonal_naive"]["mase"] == pytest.approx(1.0)
    assert out["methods"]["seasonal_naive"]["wape"] == pytest.approx(round(16 / 138, 4))
    # told to read months, the file is refused with its first row named: a quarter is not a month
    dst = tmp_path / "fc.csv"
    assert (
        main(["forecast", "run", "--input", str(src), "--horizon", "2", "--output", str(dst), "--freq", "month"]) == 2
    )
    assert "row 2: ds '2021 Q1' is not a month" in capsys.readouterr().err
    assert main(["forecast", "run", "--input", str(src), "--horizon", "2", "--output", str(dst)]) == 0
    assert pd.read_csv(dst)["ds"].tolist() == ["2024-01-01", "2024-04-01"]
    assert "read as one value a quarter" in capsys.readouterr().out


SCORE_ARGS = ["forecast", "backtest", "--horizon", "3", "--folds", "1", "--json", "--quiet", "--input"]


def _scored(capsys, path, *extra) -> tuple[dict, dict, int]:
    """The (MASE, WAPE) of each method on a file at 3 months and 1 fold, the reading and the number of series:
    what the tests of layouts compare with the clean long file."""
    assert main([*SCORE_ARGS, str(path), *extra]) == 0
    out = json.loads(capsys.readouterr().out)
    return {m: (d["mase"], d["wape"]) for m, d in out["methods"].items()}, out["input"], out["series"]


def _clean_file(tmp_path, capsys):
    """The three series of :func:`_write_series` as a frame, a scorer of files (:func:`_scored`) and the clean
    long file's own scores, reading and series, which the other ways of writing them must give."""
    src = tmp_path / "long.csv"
    _write_series(src)
    scored = functools.partial(_scored, capsys)
    return pd.read_csv(src), scored, scored(src)


def test_other_column_names_and_layouts_score_as_the_long_file(tmp_path, capsys):
    # The same three series written five ways must give the very same scores as the long file with the
    # canonical names, and the reading must say what it did with the columns.
    long, scored, (expected, reading, _) = _clean_file(tmp_path, capsys)
    args = SCORE_ARGS
    assert "columns" not in reading
    # a sales export's own English or Chinese headers
    long.rename(columns={"unique_id": "item", "ds": "date", "y": "sales"}).to_csv(tmp_path / "en.csv", index=False)
    long.rename(columns={"unique_id": "规格", "ds": "月份", "y": "销量"}).to_csv(tmp_path / "zh.csv", index=False)
    for name, note in (
        ("en", "item → unique_id, date → ds, sales → y"),
        ("zh", "规格 → unique_id, 月份 → ds, 销量 → y"),
    ):
        scores, reading, _ = scored(tmp_path / f"{name}.csv")
        assert scores == expected and reading["columns"] == f"列 / columns: {note}"
    # two columns together name a series: store + item, "S1/a" ...
    two = long.assign(store="S1").rename(columns={"unique_id": "item", "y": "qty"})[["store", "item", "ds", "qty"]]
    two.to_csv(tmp_path / "two.csv", index=False)
    scores, reading, _ = scored(tmp_path / "two.csv")
    assert scores == expected and reading["columns"] == "列 / columns: store + item → unique_id, qty → y"
    # names given on the command line, for headers no list knows
    long.rename(columns={"unique_id": "k", "ds": "t", "y": "v"}).to_csv(tmp_path / "odd.csv", index=False)
    scores, _, _ = scored(tmp_path / "odd.csv", "--id-col", "k", "--date-col", "t", "--value-col", "v")
    assert scores == expected
    # one column per series (the wide layout): c's 34 empty cells before its first figure are no figures
    long.pivot(index="ds", columns="unique_id", values="y").reset_index().to_csv(tmp_path / "wide.csv", index=False)
    scores, reading, _ = scored(tmp_path / "wide.csv")
    assert scores == expected and reading["columns"] == "宽表:3 列各为一个序列 / wide layout: 3 columns read as series"
    # the period as a year and a month number (年份, 月份), long or wide
    t = pd.to_datetime(long["ds"])
    ym = long.assign(年份=t.dt.year, 月份=t.dt.month).rename(columns={"unique_id": "规格", "y": "销量"})
    ym[["年份", "月份", "规格", "销量"]].to_csv(tmp_path / "ym.csv", index=False)
    scores, reading, _ = scored(tmp_path / "ym.csv")
    assert scores == expected and reading["columns"] == "年份 + 月份 → ds; 列 / columns: 规格 → unique_id, 销量 → y"
    wide = long.pivot(index="ds", columns="unique_id", values="y").reset_index()
    w = pd.to_datetime(wide["ds"])
    wide.assign(year=w.dt.year, month=w.dt.month).drop(columns="ds").to_csv(tmp_path / "ym_wide.csv", index=False)
    scores, reading, _ = scored(tmp_path / "ym_wide.csv")
    assert scores == expected and reading["columns"].startswith("year + month → ds; 宽表:3 列")
    # one row per series and one column per month (规格 | 2023-01 | 2023-02 …), with a remark column left out;
    # and the same with 2023年1月 headers and no id-like name, where the other column names the series
    m = t.dt.strftime("%Y-%m")
    across = long.assign(m=m).pivot(index="unique_id", columns="m", values="y").reset_index()
    across = across.rename(columns={"unique_id": "规格"})
    across.insert(1, "备注", "x")
    across.to_csv(tmp_path / "across.csv", index=False)
    scores, reading, _ = scored(tmp_path / "across.csv")
    assert scores == expected and reading["columns"] == (
        "宽表:36 个月份列,序列名取自 规格 / wide layout: 36 period columns, series named by 规格; "
        "未用的列 / columns not used: 备注"
    )
    zh = long.assign(m=t.dt.year.astype(str) + "年" + t.dt.month.astype(str) + "月")
    zh.pivot(index="unique_id", columns="m", values="y").reset_index().rename(columns={"unique_id": "name"}).to_csv(
        tmp_path / "across_zh.csv", index=False
    )
    scores, reading, _ = scored(tmp_path / "across_zh.csv")
    assert scores == expected and "series named by name" in reading["columns"]
    # the ledger as the 动销台帐 page exports it: customer and spec codes and names, several figures. The figure
    # must be named (demand and sales are both figures); the series are customer code + spec code + spec.
    from kejing.forecasting.views import LEDGER_HEADERS

    ledger = pd.DataFrame(
        {
            LEDGER_HEADERS[0]: "C001",
            LEDGER_HEADERS[1]: "某烟酒店",
            LEDGER_HEADERS[2]: long["unique_id"].map({"a": "S1", "b": "S2", "c": "S3"}),
            LEDGER_HEADERS[3]: long["unique_id"],
            LEDGER_HEADERS[4]: t.dt.strftime("%Y-%m"),
            **{h: long["y"] for h in LEDGER_HEADERS[5:]},
        }
    )
    ledger.to_csv(tmp_path / "ledger.csv", index=False)
    assert main([*args, str(tmp_path / "ledger.csv")]) == 2
    assert "name one with --value-col" in json.loads(capsys.readouterr().out)["error"]
    scores, reading, _ = scored(tmp_path / "ledger.csv", "--value-col", "需求量")
    assert scores == expected
    assert reading["columns"] == "列 / columns: 客户编码 + 规格编码 + 规格 → unique_id, 月份 → ds, 需求量 → y"
    # what stays ambiguous or absent is refused, naming the columns and the option that settles it
    long.assign(value=1).rename(columns={"y": "sales"}).to_csv(tmp_path / "two_y.csv", index=False)
    assert main([*args, str(tmp_path / "two_y.csv")]) == 2
    assert (
        "several columns could be y (sales, value): name one with --value-col"
        in json.loads(capsys.readouterr().out)["error"]
    )
    assert main([*args, str(tmp_path / "odd.csv"), "--id-col", "kk"]) == 2
    assert "no column 'kk'" in json.loads(capsys.readouterr().out)["error"]
    # a text column beside the figures may well name the series: refused, not added up into one series
    long.rename(columns={"unique_id": "网点代码"}).to_csv(tmp_path / "text.csv", index=False)
    assert main([*args, str(tmp_path / "text.csv")]) == 2
    assert "若 网点代码 是序列名,请用 --id-col 指定" in json.loads(capsys.readouterr().out)["error"]
    scores, _, _ = scored(tmp_path / "text.csv", "--id-col", "网点代码")
    assert scores == expected
    # a wide file with a text column is no wide file
    wide = long.pivot(index="ds", columns="unique_id", values="y").reset_index()
    wide.assign(remark="x").to_csv(tmp_path / "wide_text.csv", index=False)
    assert main([*args, str(tmp_path / "wide_text.csv")]) == 2
    assert "columns without numbers: remark" in json.loads(capsys.readouterr().out)["error"]
    # the run command reads them alike and names the series by the wide file's columns
    out = tmp_path / "fc.csv"
    assert main(["forecast", "run", "--input", str(tmp_path / "wide.csv"), "--horizon", "2", "--output", str(out)]) == 0
    assert "wide layout: 3 columns read as series" in capsys.readouterr().out
    assert sorted(pd.read_csv(out)["unique_id"].unique()) == ["a", "b", "c"]


def test_rows_and_columns_of_totals_are_left_out_and_named(tmp_path, capsys):
    # A report's 合计 row (or a Total column) read as data would be one more series, the sum of the others. The
    # same three series with totals written four ways score exactly as the clean long file, and the note says
    # what was left out.
    long, scored, (expected, _, _) = _clean_file(tmp_path, capsys)
    # long: a 合计 row at the end, with no month (it used to refuse the whole file at that row)
    total = long.groupby("ds", as_index=False)["y"].sum()
    zh = long.rename(columns={"unique_id": "规格", "ds": "月份", "y": "销量"})
    pd.concat([zh, pd.DataFrame({"规格": ["合  计"], "销量": [long["y"].sum()]})]).to_csv(
        tmp_path / "a.csv", index=False
    )
    scores, reading, series = scored(tmp_path / "a.csv")
    assert (scores, series) == (expected, 3)
    assert reading["note"].endswith("totals left out (values): 合  计 (1)")
    # long, the totals as a series per month ("Total" in the item column, with its months)
    pd.concat([long, total.assign(unique_id="Total")]).to_csv(tmp_path / "b.csv", index=False)
    scores, reading, series = scored(tmp_path / "b.csv")
    assert (scores, series) == (expected, 3) and reading[
        "note"
    ] == "合计或小计已略去(值的个数)/ totals left out (values): Total (36)"
    # a month per column: a 合计 row below the series and a 合计 column at the right
    t = pd.to_datetime(long["ds"]).dt.strftime("%Y-%m")
    across = long.assign(m=t).pivot(index="unique_id", columns="m", values="y")
    across.loc["合计"] = across.sum()
    across["合计"] = across.sum(axis=1)
    across.reset_index().rename(columns={"unique_id": "规格"}).to_csv(tmp_path / "c.csv", index=False)
    scores, reading, series = scored(tmp_path / "c.csv")
    assert (scores, series) == (expected, 3)
    assert "columns not used: 合计" in reading["note"] and "totals left out (values): 合计 (36)" in reading["note"]
    # one column per series: a Total column and a Grand Total: row below the months
    wide = long.pivot(index="ds", columns="unique_id", values="y")
    wide["Total"] = wide.sum(axis=1)
    wide.loc["Grand Total:"] = wide.sum()
    wide.reset_index().to_csv(tmp_path / "d.csv", index=False)
    scores, reading, series = scored(tmp_path / "d.csv")
    assert (scores, series) == (expected, 3)
    # the Grand Total row holds a value for each of the 3 series
    assert "columns not used: Total" in reading["note"] and "3 value(s) of a row of totals left out" in reading["note"]


def test_a_title_above_the_header_and_remarks_below_the_data_are_skipped(tmp_path, capsys):
    # Reports saved from a sales system start with a title, a blank line and the unit above the header, and may
    # end with who made them. The same three series so written (workbook and CSV) score exactly as the clean
    # file, and the note says how many lines were skipped; a header with one blank cell is still the header.
    long, scored, (expected, _, _) = _clean_file(tmp_path, capsys)
    zh = long.rename(columns={"unique_id": "规格", "ds": "月份", "y": "销量"})
    book = tmp_path / "report.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame([["2023—2025 年分规格月度销量"], [None], ["单位:条"]]).to_excel(writer, index=False, header=False)
        zh.to_excel(writer, index=False, startrow=3)
    scores, reading, _ = scored(book)
    assert scores == expected
    assert reading["note"].startswith("表头前的 3 行标题已跳过 / 3 line(s) of a title above the header skipped; 列")
    # a CSV with the title above and two remarks below the data
    text = "2023—2025 年分规格月度销量\n单位:条\n" + zh.to_csv(index=False) + "\n制表人:张三\n数据来源:营销中心\n"
    (tmp_path / "report.csv").write_text(text, encoding="gbk")
    scores, reading, _ = scored(tmp_path / "report.csv")
    assert scores == expected
    assert reading["note"].startswith(
        "表头前的 2 行标题已跳过 / 2 line(s) of a title above the header skipped; "
        "表尾的 2 行说明已略去 / 2 line(s) below the data left out; 列"
    )
    # a month per column: the last spec, launched two months before the end, fills two months of its row; that
    # narrow last row is data (series c), not a remark, and the scores are the clean file's
    t = pd.to_datetime(long["ds"]).dt.strftime("%Y-%m")
    across = long.assign(m=t).pivot(index="unique_id", columns="m", values="y").reset_index()
    assert across.iloc[-1].notna().sum() == 3  # c: its name and its 2 months
    across.to_csv(tmp_path / "across.csv", index=False)
    scores, reading, _ = scored(tmp_path / "across.csv")
    assert scores == expected and "below the data" not in reading["note"]
    # the same with the title written by a spreadsheet as a row of commas
    (tmp_path / "commas.csv").write_text("销量月报,,\n" + zh.to_csv(index=False), encoding="utf-8")
    scores, reading, _ = scored(tmp_path / "commas.csv")
    assert scores == expected and reading["note"].startswith("表头前的 1 行标题已跳过")
    # a header with a blank first cell (an index column) is read as the header, nothing skipped
    zh.to_csv(tmp_path / "index.csv", index=True)
    scores, reading, _ = scored(tmp_path / "index.csv", "--id-col", "规格", "--date-col", "月份", "--value-col", "销量")
    assert scores == expected and "skipped" not in reading.get("note", "")


def test_merged_brand_cells_are_filled_down_and_a_region_names_the_series(tmp_path, capsys):
    # A report groups its specs under a merged brand cell, with a 小计 row per brand and a 合计 row whose spec cell
    # is merged away. Read as brand/spec series, filled down, the subtotals and the total left out; the figures
    # are those of the same series written plainly.
    import openpyxl

    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    a = [50 + t + 10 * (t % 12 == 6) for t in range(36)]
    b = [20 + 5 * (t % 12 in (0, 1)) for t in range(36)]
    c = [30 + (t % 3) for t in range(36)]
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["品牌", "规格", *months])
    ws.append(["黄河源", "硬", *a])
    ws.append([None, "软", *b])
    ws.append([None, "小计", *[x + y for x, y in zip(a, b, strict=True)]])
    ws.append(["泰山", "红", *c])
    ws.append(["合计", None, *[x + y + z for x, y, z in zip(a, b, c, strict=True)]])
    ws.merge_cells("A2:A4")
    ws.merge_cells("A6:B6")
    book.save(tmp_path / "report.xlsx")
    plain = pd.DataFrame(
        {
            "unique_id": [name for name in ("黄河源/硬", "黄河源/软", "泰山/红") for _ in months],
            "ds": months * 3,
            "y": a + b + c,
        }
    )
    plain.to_csv(tmp_path / "plain.csv", index=False)
    args = ["forecast", "backtest", "--horizon", "3", "--folds", "2", "--json", "--quiet", "--input"]
    assert main([*args, str(tmp_path / "plain.csv")]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert main([*args, str(tmp_path / "report.xlsx")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["series"] == 3
    figures = {m: (d["mase"], d["wape"]) for m, d in out["methods"].items()}
    assert figures == {m: (d["mase"], d["wape"]) for m, d in expected["methods"].items()}
    note = out["input"]["note"]
    assert "series named by 品牌 + 规格" in note and "merged cells filled down: 品牌" in note
    assert "totals left out (values): 黄河源/小计 (36), 合计/ (36)" in note
    # the same workbook opening on a sheet of explanations: the sheet with the figures is read
    cover = book.create_sheet("说明", 0)
    cover.append(["本表为分规格月度销量"])
    cover.append(["单位:条"])
    book.save(tmp_path / "cover.xlsx")
    assert main([*args, str(tmp_path / "cover.xlsx")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {m: (d["mase"], d["wape"]) for m, d in out["methods"].items()} == figures
    assert out["input"]["note"].startswith("读取数据最多的工作表 Sheet (2 / 2) / the sheet with the most cells read")
    # a long file with a region column: region/spec series, not two regions' sales added together
    long = plain.assign(区域="东区").rename(columns={"unique_id": "规格", "ds": "月份", "y": "销量"})
    two = pd.concat([long, long.assign(区域="西区", 销量=long["销量"] * 2)])[["区域", "规格", "月份", "销量"]]
    two.to_csv(tmp_path / "regions.csv", index=False)
    assert main([*args, str(tmp_path / "regions.csv")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["series"] == 6 and out["input"]["rows_summed"] == 0
    assert out["input"]["columns"] == "列 / columns: 区域 + 规格 → unique_id, 月份 → ds, 销量 → y"
