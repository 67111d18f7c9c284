"""Recruitment by competition, against hand-worked examples (tobacco policy, manual L2713-L2723)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kejing.appraisal.engine import (
    Applicant,
    CorpsPolicy,
    PanelTooSmallError,
    RuleError,
    check_basic_conditions,
    grading_eligible_from,
    interview_score,
    rank_candidates,
    score_candidate,
    written_score,
)

from .helpers import raw_policy, tobacco


def test_written_score_weights_the_three_categories_40_40_20_then_scales_to_80():
    # 80×40% + 70×40% + 90×20% = 32 + 28 + 18 = 78 of 100; 78 × 80/100 = 62.40 points.
    fig = written_score(tobacco(), {"general": 80, "trade": 70, "practice": 90})
    assert fig.value == Decimal("62.40")
    assert fig.explain("en")[-1] == "written test 78.00 of 100 × 80/100 = 62.40 points"


def test_written_score_rounds_half_up_to_two_places():
    # 77×40% + 66×40% + 55×20% = 30.8 + 26.4 + 11 = 68.2; × 0.8 = 54.56 exactly.
    assert written_score(tobacco(), {"general": 77, "trade": 66, "practice": 55}).value == Decimal("54.56")
    # 81.5×40% + 0 + 0 = 32.6; × 0.8 = 26.08.
    assert written_score(tobacco(), {"general": "81.5", "trade": 0, "practice": 0}).value == Decimal("26.08")


def test_written_score_refuses_missing_or_out_of_range_marks():
    with pytest.raises(RuleError, match="practice"):
        written_score(tobacco(), {"general": 80, "trade": 70})
    with pytest.raises(RuleError, match="outside"):
        written_score(tobacco(), {"general": 101, "trade": 70, "practice": 90})
    with pytest.raises(RuleError, match="unknown"):
        written_score(tobacco(), {"general": 1, "trade": 1, "practice": 1, "music": 1})


def test_interview_needs_ten_panelists():
    with pytest.raises(PanelTooSmallError, match="at least 10"):
        interview_score(tobacco(), [90] * 9)


def test_interview_score_is_mean_scaled_to_20():
    # Ten marks summing to 855 → mean 85.5 → 85.5/100 × 20 = 17.10.
    marks = [90, 80, 85, 88, 82, 86, 84, 87, 83, 90]
    assert sum(marks) == 855
    assert interview_score(tobacco(), marks).value == Decimal("17.10")


def test_interview_trim_is_selectable():
    marks = [100, 40] + [80] * 8
    # Default (no trim): (100 + 40 + 8×80) / 10 = 780 / 10 = 78 → 78/100 × 20 = 15.60.
    assert interview_score(tobacco(), marks).value == Decimal("15.60")
    # With interview_trim: 100 and 40 dropped, eight marks of 80 → 80/100 × 20 = 16.00.
    data = raw_policy()
    data["recruitment"]["interview_trim"] = True
    assert interview_score(CorpsPolicy.from_dict(data), marks).value == Decimal("16.00")


def test_combined_score_and_ranking_with_deterministic_ties():
    p = tobacco()
    ten = [80] * 10  # interview 80/100 × 20 = 16.00
    nine = [90] * 10  # 18.00
    # A: written 80,80,80 → 80 × 0.8 = 64.00; + 16.00 = 80.00
    a = score_candidate(p, "A", "甲", {"general": 80, "trade": 80, "practice": 80}, ten)
    # B: written 77.5 → 62.00; + 18.00 = 80.00 (same total as A, lower written part)
    b = score_candidate(p, "B", "乙", {"general": 77.5, "trade": 77.5, "practice": 77.5}, nine)
    # C: exactly the same marks as A → a full tie, broken by applicant id and flagged
    c = score_candidate(p, "C", "丙", {"general": 80, "trade": 80, "practice": 80}, ten)
    # D: 90s → 72.00 + 18.00 = 90.00
    d = score_candidate(p, "D", "丁", {"general": 90, "trade": 90, "practice": 90}, nine)
    assert (a.combined.value, b.combined.value, d.combined.value) == (
        Decimal("80.00"),
        Decimal("80.00"),
        Decimal("90.00"),
    )
    ranked = rank_candidates([c, b, a, d])
    assert [(r.rank, r.candidate.applicant_id, r.tied) for r in ranked] == [
        (1, "D", False),
        (2, "A", True),
        (3, "C", True),
        (4, "B", False),
    ]
    assert rank_candidates([c, b, a, d]) == ranked  # same input in another order → same ranking


def test_basic_conditions():
    p = tobacco()
    on = dt.date(2026, 5, 1)
    ok = check_basic_conditions(p, Applicant("A1", "甲", dt.date(1990, 5, 1), "college"), on)
    assert ok.ok and not ok.problems
    young = check_basic_conditions(p, Applicant("A2", "乙", dt.date(2008, 5, 2), "high_school"), on)
    assert not young.ok and "age 17" in young.problems[0].text("en")
    low = check_basic_conditions(p, Applicant("A3", "丙", dt.date(1990, 1, 1), "below_high_school", False), on)
    assert len(low.problems) == 2
    assert low.problems[1].text("en") == "has a disciplinary record, which the policy excludes"


def test_grading_eligibility_date():
    p = tobacco()
    assert grading_eligible_from(p, dt.date(2025, 3, 10)) == dt.date(2026, 3, 10)
    assert grading_eligible_from(p, dt.date(2025, 3, 10), Decimal("1")) == dt.date(2025, 3, 10)
    assert grading_eligible_from(p, dt.date(2025, 3, 10), Decimal("0.9")) == dt.date(2026, 3, 10)
    # 29 February: a full year has passed only on 1 March of the next year.
    assert grading_eligible_from(p, dt.date(2024, 2, 29)) == dt.date(2025, 3, 1)
