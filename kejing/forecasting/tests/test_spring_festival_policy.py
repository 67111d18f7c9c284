"""The Spring Festival switch: auto / on / off from the engine's settings, the command line and the tobacco policy
(``[model] spring_festival``) through to the model forecast of a round, its audit and the round's page."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from kejing.cli import main
from kejing.core.models import AuditLog
from kejing.forecasting import services
from kejing.forecasting.engine import Settings, festival_month, forecast
from kejing.forecasting.engine.calendar import festival_january_share
from kejing.forecasting.engine.models import festival_mode, festival_word
from kejing.forecasting.models import ForecastLine, Round

from . import cycle_fixtures

cycle_data, on = cycle_fixtures.cycle_data, cycle_fixtures.on

JAN, FEB = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")


def _festival_series() -> pd.DataFrame:
    # 7 years of 100 a month, 200 in the month that holds the festival (it fell in January in 2020, 2023 and
    # 2025, in February in the other four) and 120 in July and August, so that the series is seasonal
    ds = pd.date_range("2019-01-01", "2025-12-01", freq="MS")
    y = [200.0 if d.month == festival_month(d.year) else (120.0 if d.month in (7, 8) else 100.0) for d in ds]
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": y})


def test_the_words_of_the_switch():
    assert [festival_mode(v) for v in ("auto", "on", "off", " ON ", True, False)] == [
        "auto",
        True,
        False,
        True,
        True,
        False,
    ]
    assert [festival_word(v) for v in ("auto", True, False, " ON ")] == ["auto", "on", "off", "on"]
    assert Settings(spring_festival="off").spring_festival is False  # a truthy word that means "never"
    with pytest.raises(ValueError, match="auto, on, off"):
        festival_mode("sometimes")
    with pytest.raises(ValueError, match="auto, on, off"):
        forecast(_festival_series(), horizon=2, spring_festival="yes")


def test_off_means_never_and_on_means_always():
    df = _festival_series()
    yhat = {m: forecast(df, horizon=2, spring_festival=m).set_index("ds")["yhat"] for m in ("on", "off")}
    # festival on 17 Feb 2026: moved, February carries the peak; not moved, it does not
    assert yhat["on"][FEB] > 1.5 * yhat["on"][JAN]
    assert not yhat["off"][FEB] > 1.5 * yhat["off"][JAN]
    pd.testing.assert_series_equal(yhat["off"], forecast(df, horizon=2, spring_festival=False).set_index("ds")["yhat"])


def _run_command(tmp_path, src, flag: str, values: tuple[str, ...]) -> dict[str, pd.Series]:
    """``kejing forecast run`` on ``src`` with ``flag`` at each of ``values``: the 2-month forecasts by value."""
    out = {}
    for value in values:
        dst = tmp_path / f"{flag.strip('-')}-{value}.csv"
        args = ["forecast", "run", "--input", str(src), "--horizon", "2", "--output", str(dst)]
        assert main([*args, flag, value]) == 0
        out[value] = pd.read_csv(dst).set_index("ds")["yhat"]
    return out


def test_command_line_switch(tmp_path, capsys):
    src = tmp_path / "sales.csv"
    _festival_series().to_csv(src, index=False)
    out = _run_command(tmp_path, src, "--spring-festival", ("on", "off"))
    assert out["on"]["2026-02-01"] > 1.5 * out["on"]["2026-01-01"]
    assert not out["off"]["2026-02-01"] > 1.5 * out["off"]["2026-01-01"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:  # argparse refuses a word it does not know
        main(["forecast", "backtest", "--input", str(src), "--horizon", "2", "--folds", "1", "--spring-festival", "x"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _with_model(monkeypatch, key: str, value):
    """The forecasting policy with ``[model] key = value``."""
    real = services.policy

    def patched():
        data = dict(real())
        data["model"] = {**data["model"], key: value}
        return data

    monkeypatch.setattr(services, "policy", patched)


def _with_festival(monkeypatch, value):
    _with_model(monkeypatch, "spring_festival", value)


def _spy(monkeypatch, read=lambda kwargs: kwargs.get("spring_festival")) -> list:
    """Record what the model run hands to the engine (``read`` picks it from the keyword arguments; by default
    the ``spring_festival`` word); the engine still runs."""
    from kejing.forecasting import engine

    seen: list = []

    class Spy:
        @staticmethod
        def forecast(*args, **kwargs):
            seen.append(read(kwargs))
            return engine.forecast(*args, **kwargs)

    monkeypatch.setattr(services, "_engine", lambda: Spy)
    return seen


def test_policy_switch_reaches_the_model_run_and_its_audit(cycle_data, monkeypatch):
    seen = _spy(monkeypatch)
    assert services.run_model(cycle_data.round)["spring_festival"] == "on"  # the shipped policy
    _with_festival(monkeypatch, "auto")
    assert services.run_model(cycle_data.round)["spring_festival"] == "auto"
    _with_festival(monkeypatch, "off")
    assert services.run_model(cycle_data.round)["spring_festival"] == "off"
    assert seen == ["on", "auto", "off"]  # the words, which the engine reads with festival_mode
    notes = list(AuditLog.objects.filter(action="forecast_model").order_by("pk").values_list("note", flat=True))
    assert [n.split(", ")[3] for n in notes] == [f"spring festival {w}" for w in ("on", "auto", "off")]
    assert all(n.endswith(", festival window 21 days") for n in notes)  # the shipped window


def test_a_bad_policy_word_stops_the_model_run_before_anything_is_written(cycle_data, monkeypatch):
    _with_festival(monkeypatch, "sometimes")
    with pytest.raises(services.ForecastError, match=r"\[model\] spring_festival"):
        services.run_model(cycle_data.round)
    assert Round.objects.get(pk=cycle_data.round.pk).model_ran_at is None
    assert not ForecastLine.objects.filter(round=cycle_data.round, model_qty__isnull=False).exists()
    assert not AuditLog.objects.filter(action="forecast_model").exists()


def test_the_round_page_says_what_the_policy_does(cycle_data, login, monkeypatch):
    org = cycle_data.org
    page = login(org.mm1).get("/forecasting/").content.decode()
    assert 'id="festival-setting"' in page and "始终按春节日期调整" in page  # the shipped policy
    _with_festival(monkeypatch, "auto")
    assert "历史数据显示春节效应时才调整" in login(org.mm1).get("/forecasting/").content.decode()
    _with_festival(monkeypatch, "sometimes")
    page = login(org.mm1).get("/forecasting/").content.decode()
    assert "[model] spring_festival" in page and "auto, on, off" in page
    # a CM's page has no model button and no festival line
    assert 'id="festival-setting"' not in login(org.cm1).get("/forecasting/").content.decode()


def test_the_model_job_page_says_what_the_run_did(cycle_data, login, monkeypatch):
    org = cycle_data.org
    client = login(org.mm1)
    resp = client.post("/forecasting/model/", {"month": "2026-12"})
    page = client.get(resp["Location"]).content.decode()
    # the fixture's shops C1, C2, C3 sit in three units: C1 JF01, TH04 + C2 JF01, YL01 + C3 JF01 = 5 unit x spec
    # series; 5 shop lines, none with a CM or shop figure, none locked on 2026-11-02
    assert 'id="job-summary"' in page
    assert "2026-12 的模型预测:共预测 5 个区域单元×规格序列;5 条客户行" in page and ";0 条已提交" in page
    assert "始终按春节日期调整" in page and 'href="/forecasting/?month=2026-12"' in page
    assert "公司销量显示出星期效应时才调整(政策:true) — 本次运行未发现" in page
    _with_festival(monkeypatch, "sometimes")
    resp = client.post("/forecasting/model/", {"month": "2026-12"})
    page = client.get(resp["Location"]).content.decode()
    assert "未写入任何数据" in page and "[model] spring_festival" in page


def test_the_trading_day_switch_reaches_the_model_run_its_audit_and_the_pages(cycle_data, login, monkeypatch):
    seen = _spy(monkeypatch, lambda kwargs: kwargs["settings"].trading_days)
    first = services.run_model(cycle_data.round)
    assert first["trading_days"] is True  # the shipped policy
    # the fixture's five series are too few and too short for the test to find a weekday effect
    assert first["weekday_effect"] == {"found": False}
    _with_model(monkeypatch, "trading_days", False)
    assert services.run_model(cycle_data.round)["trading_days"] is False
    assert seen == [True, False]
    notes = list(AuditLog.objects.filter(action="forecast_model").order_by("pk").values_list("note", flat=True))
    assert ["trading days on" in notes[0], "trading days off" in notes[1]] == [True, True]
    page = login(cycle_data.org.mm1).get("/forecasting/").content.decode()
    assert 'id="trading-days-setting"' in page and "不调整(政策:false)" in page
    # a word where true/false belongs stops the run before anything is written, and the page names the field
    _with_model(monkeypatch, "trading_days", "yes")
    with pytest.raises(services.ForecastError, match=r"\[model\] trading_days must be true or false"):
        services.run_model(cycle_data.round)
    assert AuditLog.objects.filter(action="forecast_model").count() == 2
    assert "[model] trading_days" in login(cycle_data.org.mm1).get("/forecasting/").content.decode()


def _window_series(start: str = "2019-01-01") -> pd.DataFrame:
    """100 a month up to December 2025 plus 300 of festival buying spread over the 21 days before each festival,
    shared between January and February by the days each holds, and 120 in July and August (seasonal)."""
    ds = pd.date_range(start, "2025-12-01", freq="MS")
    y = []
    for d in ds:
        x = festival_january_share(d.year, 21)
        extra = 300 * x if d.month == 1 else 300 * (1 - x) if d.month == 2 else 0.0
        y.append(100.0 + extra + (20.0 if d.month in (7, 8) else 0.0))
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": y})


def test_festival_buying_spread_over_the_days_before_it():
    # by hand, 21 days before the festival: 10 Feb 2024 -> 20 Jan .. 9 Feb, 12 of the 21 days in January;
    # 29 Jan 2025 -> 8 .. 28 Jan, all in January; 17 Feb 2026 -> 27 Jan .. 16 Feb, 5 days in January
    assert festival_january_share(2024, 21) == pytest.approx(12 / 21)
    assert festival_january_share(2025, 21) == 1.0
    assert festival_january_share(2026, 21) == pytest.approx(5 / 21)
    # no window: the festival's month decides, 1 for January, 0 for February
    assert [festival_january_share(y) for y in (2024, 2025, 2026)] == [0.0, 1.0, 0.0]
    # 2026: 100 + 300 x 5/21 = 171.4 in January and 100 + 300 x 16/21 = 328.6 in February
    df = _window_series()
    truth = {JAN: 100 + 300 * 5 / 21, FEB: 100 + 300 * 16 / 21}
    win = forecast(df, horizon=2, settings=Settings(festival_windows=(0, 21))).set_index("ds")["yhat"]
    month = forecast(df, horizon=2).set_index("ds")["yhat"]
    err_win = sum(abs(win[d] - v) for d, v in truth.items())
    err_month = sum(abs(month[d] - v) for d, v in truth.items())
    assert err_win < 0.25 * err_month, (err_win, err_month)
    # a series whose peak sits in the festival's month keeps that reading: the window does not change it
    binary = _festival_series()
    pd.testing.assert_frame_equal(
        forecast(binary, horizon=2, settings=Settings(festival_windows=(0, 21))), forecast(binary, horizon=2)
    )


def test_the_festival_window_from_the_policy_and_the_command_line(cycle_data, login, monkeypatch, tmp_path, capsys):
    seen = _spy(monkeypatch, lambda kwargs: kwargs["settings"].festival_windows)
    first = services.run_model(cycle_data.round)
    assert first["festival_window_days"] == 21  # the shipped tobacco policy
    _with_model(monkeypatch, "festival_window_days", 0)
    assert services.run_model(cycle_data.round)["festival_window_days"] == 0
    assert seen == [(0, 21), (0,)]
    # the round's month named: monkeypatch.undo() below also undoes the fixture's "today"
    page = login(cycle_data.org.mm1).get("/forecasting/?month=2026-12").content.decode()
    assert "节前 21 天" not in page
    monkeypatch.undo()
    page = login(cycle_data.org.mm1).get("/forecasting/?month=2026-12").content.decode()
    assert "按节前 21 天的集中购买拆分一、二月" in page
    for bad in (-1, 60, "21", True, 2.5):
        _with_model(monkeypatch, "festival_window_days", bad)
        with pytest.raises(
            services.ForecastError, match=r"\[model\] festival_window_days .*must be whole days from 0 to 45"
        ):
            services.run_model(cycle_data.round)
    assert (
        "[model] festival_window_days" in login(cycle_data.org.mm1).get("/forecasting/?month=2026-12").content.decode()
    )
    # the command line: --festival-window DAYS (0 by default)
    src = tmp_path / "sales.csv"
    _window_series().to_csv(src, index=False)
    out = _run_command(tmp_path, src, "--festival-window", ("0", "21"))
    assert abs(out["21"]["2026-01-01"] - (100 + 300 * 5 / 21)) < abs(out["0"]["2026-01-01"] - (100 + 300 * 5 / 21))
    capsys.readouterr()
    for bad in ("99", "-3", "three"):
        with pytest.raises(SystemExit) as exc:
            main(
                [
                    "forecast",
                    "backtest",
                    "--input",
                    str(src),
                    "--horizon",
                    "2",
                    "--folds",
                    "1",
                    "--festival-window",
                    bad,
                ]
            )
        assert exc.value.code == 2 and "whole days from 0 to 45" in capsys.readouterr().err


def test_a_short_history_reads_its_festival_from_every_january_and_february():
    # 26 months (November 2023 to December 2025) of the window series: the centred moving average keeps only
    # May 2024 .. June 2025, so its ratios hold one January/February pair (2025) and cannot tell the festival from
    # the calendar; the months themselves hold two (2024: 12/21 of the buying in January, 2025: all of it)
    df = _window_series(start="2023-11-01")
    truth_jan, truth_feb = 100 + 300 * 5 / 21, 100 + 300 * 16 / 21  # 2026: 171.4 and 328.6
    settings = Settings(festival_windows=(0, 21))
    raw = forecast(df, horizon=2, settings=settings).set_index("ds")["yhat"]
    ratios = forecast(df, horizon=2, settings=replace(settings, festival_raw_shares=False)).set_index("ds")["yhat"]
    # read from the months, the peak moves to February 2026 (measured 215 / 293); from the ratios it stays in
    # January (383 / 121), where 2024 and 2025 had most of their buying
    assert raw[FEB] > raw[JAN] and ratios[JAN] > ratios[FEB]
    assert abs(raw[JAN] - truth_jan) + abs(raw[FEB] - truth_feb) < 0.3 * (
        abs(ratios[JAN] - truth_jan) + abs(ratios[FEB] - truth_feb)
    )
