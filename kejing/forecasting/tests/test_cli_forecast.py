"""``kejing forecast …``, ``kejing allocate`` and the two benches, run in-process on tiny files."""

from __future__ import annotations

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
    # an empty y cell: refused, row named (header = line 1, so the 5th data row is line 6)
    frame.loc[4, "y"] = None
    frame.to_csv(tmp_path / "gap.csv", index=False)
    args = ["forecast", "backtest", "--horizon", "3", "--folds", "1", "--json", "--input"]
    assert main([*args, str(tmp_path / "gap.csv")]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "row 6: y 空 / empty is not a number" in error
    # wrong column names: the message lists what the file has
    frame.rename(columns={"y": "sales"}).to_csv(tmp_path / "cols.csv", index=False)
    assert main([*args, str(tmp_path / "cols.csv")]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "missing column(s): y" in error and "found: unique_id, ds, sales" in error


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
