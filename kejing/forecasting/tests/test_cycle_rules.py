"""Hand-worked checks of the pure parts: the month's calendar, the formula language, the merge rule, charts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kejing.core.policy import load_policy
from kejing.forecasting import charts, cycle, metrics
from kejing.forecasting.models import ForecastLine

CYCLE = load_policy("tobacco", "forecasting")["cycle"]


def test_phases_of_february_and_march():
    feb = {p.code: (p.start.day, p.end.day) for p in cycle.phases(dt.date(2026, 2, 1), CYCLE)}
    # February 2026 has 28 days: the last five are 24-28
    assert feb == {
        "forecast": (1, 6),
        "submit": (7, 8),
        "visits": (9, 16),
        "balance": (17, 20),
        "feedback": (21, 25),
        "summary": (24, 28),
    }
    assert cycle.phases(dt.date(2026, 3, 1), CYCLE)[-1].start == dt.date(2026, 3, 27)  # 31 - 5 + 1
    assert cycle.phase_on(dt.date(2026, 3, 26), CYCLE) is None  # between feedback and summary
    assert cycle.phase_on(dt.date(2026, 3, 8), CYCLE).code == "submit"


def test_targets_and_deadlines():
    assert cycle.target_of(dt.date(2026, 12, 20)) == dt.date(2027, 1, 1)
    assert cycle.submit_deadline(dt.date(2027, 1, 1), CYCLE) == dt.date(2026, 12, 8)
    assert cycle.self_report_deadline(dt.date(2027, 1, 1), CYCLE) == dt.date(2026, 12, 6)
    assert cycle.add_months(dt.date(2026, 1, 1), -2) == dt.date(2025, 11, 1)
    assert cycle.parse_month("2026-3") == dt.date(2026, 3, 1) and cycle.parse_month("x") is None
    assert cycle.week_start(dt.date(2026, 11, 27)) == dt.date(2026, 11, 23)  # a Friday -> its Monday


def test_a_deadline_in_a_public_holiday_moves_to_the_first_working_day_after(official_to_2026):
    # National Day 2026 (official calendar): 1-7 October off, Thursday 8 October worked. The round for November
    # 2026 is worked in October: the shops' reports are due on the 6th, a Tuesday of the holiday -> Thursday 8th;
    # the CMs' submission on the 8th stays where it is
    nov = dt.date(2026, 11, 1)
    assert cycle.self_report_deadline(nov, CYCLE) == dt.date(2026, 10, 8)
    assert cycle.submit_deadline(nov, CYCLE) == dt.date(2026, 10, 8)
    assert cycle.named_submit_day(nov, CYCLE) == dt.date(2026, 10, 8)
    # Spring Festival 2046 (estimated: the eve Monday 5 February, the festival Tuesday 6th to Thursday 8th off):
    # the round for March 2046, worked in February: the 6th and the 8th both -> Friday 9th
    mar = dt.date(2046, 3, 1)
    assert cycle.self_report_deadline(mar, CYCLE) == dt.date(2046, 2, 9)
    assert cycle.submit_deadline(mar, CYCLE) == dt.date(2046, 2, 9)
    assert cycle.named_submit_day(mar, CYCLE) == dt.date(2046, 2, 8)
    # an ordinary weekend is not moved: Sunday 8 November 2026 stays (the cycle's days run through weekends) ...
    dec = dt.date(2026, 12, 1)
    assert cycle.submit_deadline(dec, CYCLE) == dt.date(2026, 11, 8)
    # ... unless the policy says next_working_day (Monday 9th); "keep" leaves a holiday as it is too
    assert cycle.submit_deadline(dec, {**CYCLE, "holiday_rule": "next_working_day"}) == dt.date(2026, 11, 9)
    assert cycle.self_report_deadline(nov, {**CYCLE, "holiday_rule": "keep"}) == dt.date(2026, 10, 6)
    with pytest.raises(ValueError, match="after_holiday, next_working_day, keep"):
        cycle.due_day(dt.date(2026, 10, 6), {**CYCLE, "holiday_rule": "monday"})


@pytest.mark.parametrize(
    "cm,self_,model,expected",
    [
        (5, 7, 9, (5, "cm")),
        (None, 7, 9, (7, "self")),
        (None, None, 9, (9, "model")),
        (None, None, None, (0, "")),
        (0, 7, 9, (0, "cm")),
    ],  # a CM's 0 is a figure, not "no figure"
)
def test_merge_rule_default_order(cm, self_, model, expected):
    line = ForecastLine(cm_qty=cm, self_qty=self_, model_qty=model)
    line.merge(["cm", "self", "model"])
    assert (line.merged_qty, line.source) == expected


def test_merge_rule_is_configurable():
    line = ForecastLine(cm_qty=5, self_qty=7, model_qty=9)
    line.merge(["self", "cm", "model"])
    assert (line.merged_qty, line.source) == (7, "self")


FRAME = pd.DataFrame(
    {
        "unit": ["A", "A", "B", "B"],
        "month": ["m"] * 4,
        "forecast": [10, 5, 8, 0],
        "demand": [12, 4, 8, 0],
        "supplied": [12, 3, 6, 0],
        "balanced": [10, 5, 6, 0],
    }
)


def test_formulas_by_hand():
    acc = metrics.evaluate("1 - sum(abs(forecast - demand)) / sum(demand)", FRAME, ["unit", "month"])
    # A: |10-12| + |5-4| = 3 over 16 -> 1 - 3/16 = 0.8125; B: 0 over 8 -> 1.0
    assert acc[("A", "m")] == pytest.approx(0.8125) and acc[("B", "m")] == pytest.approx(1.0)
    ful = metrics.evaluate("sum(supplied) / sum(demand)", FRAME, ["unit", "month"])
    assert ful[("A", "m")] == pytest.approx(15 / 16) and ful[("B", "m")] == pytest.approx(6 / 8)
    take = metrics.evaluate("sum(min(demand, balanced)) / sum(balanced)", FRAME, [])
    # min(12,10) + min(4,5) + min(8,6) + 0 = 10 + 4 + 6 = 20 over 10+5+6 = 21
    assert take["all"] == pytest.approx(20 / 21)
    bias = metrics.evaluate("sum(forecast - demand) / sum(demand)", FRAME, ["unit"])
    assert bias["A"] == pytest.approx(-1 / 16)


def test_zero_denominator_gives_no_figure():
    empty = FRAME.assign(demand=0)
    assert pd.isna(metrics.evaluate("sum(supplied) / sum(demand)", empty, ["unit"])["A"])


@pytest.mark.parametrize(
    "formula,word",
    [
        ("sum(demand", "syntax"),
        ("sum(price)", "unknown column"),
        ("demand / 2", "inside sum"),
        ("__import__('os')", "unsupported"),
        ("sum(sum(demand))", "unsupported"),
        ("demand.real", "unsupported"),
    ],
)
def test_formula_language_is_closed(formula, word):
    with pytest.raises(metrics.FormulaError, match=word):
        metrics.check(formula)


def test_policy_formulas_are_valid():
    for m in load_policy("tobacco", "forecasting")["metrics"].values():
        metrics.check(m["formula"])


def test_charts_are_svg_and_escape_labels():
    svg = charts.line_chart(["2026-09", "2026-10"], [("准确率", [0.8, None]), ("<b>", [0.9, 0.95])])
    assert svg.startswith("<svg") and "&lt;b&gt;" in svg and "<b>" not in svg
    assert charts.line_chart([], []) == ""
    bars = charts.bar_chart([("一区", 0.9), ("二区", None), ("三区", -0.1)])
    assert bars.count("<rect") == 2 and "90%" in bars


def test_spring_festival_moves_the_demo_peak():
    from kejing.forecasting.demo import season_factors

    # 2026's festival is on 17 February (lunar 1/1): most of the three weeks before it fall in February;
    # 2027's is on 6 February: the weeks before it fall mostly in January.
    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)]
    f = season_factors(months)
    assert f[1] > f[0] and f[2] > f[3]
