"""Monthly pay against hand-worked examples, exact to the fen (tobacco policy, manual L2731-L2741)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kejing.appraisal.engine import CorpsPolicy, GradeSpell, pay_month, seniority_amount

from .helpers import raw_policy, staff, tobacco

MARCH = dt.date(2026, 3, 1)


def graded(level: str, tier: str, since: dt.date = dt.date(2025, 1, 1), **kw):
    return staff(grades=(GradeSpell(level, tier, since),), **kw)


def test_formal_rural_intermediate_b_is_paid_at_intermediate_a():
    # Rural: b → a, coefficient of intermediate a 1.35 × base 800 = 1080.00; + post 650 + floating 100 = 1830.00.
    slip = pay_month(tobacco(), graded("intermediate", "b", area="rural"), MARCH)
    assert slip.paid_tier == "a"
    assert [(pl.code, pl.amount) for pl in slip.lines] == [
        ("post", Decimal("650.00")),
        ("floating", Decimal("100.00")),
        ("seniority", Decimal("0.00")),
        ("performance", Decimal("1080.00")),
    ]
    assert slip.total == Decimal("1830.00")
    assert slip.lines[3].lines[-1].text("en") == (
        "performance wage: Formal staff Intermediate base 800 × Intermediate a coefficient 1.35 = 1080.00"
    )


@pytest.mark.parametrize(
    "level,tier,area,expected",
    [
        # formal: 650 + floating + 800 × coefficient
        ("junior", "c", "urban", "1580.00"),  # 650 + 50 + 880 (800 × 1.10)
        ("junior", "c", "rural", "1620.00"),  # 650 + 50 + 920 (800 × 1.15, one tier up)
        ("senior", "a", "urban", "2050.00"),  # 650 + 200 + 1200 (800 × 1.50)
        ("senior", "a", "rural", "2050.00"),  # already at a: no bump
        ("senior", "b", "rural", "2050.00"),  # b → a: 1.50
        ("intermediate", "c", "urban", "1750.00"),  # 650 + 100 + 1000 (800 × 1.25)
    ],
)
def test_formal_staff_grid(level, tier, area, expected):
    assert pay_month(tobacco(), graded(level, tier, area=area), MARCH).total == Decimal(expected)


@pytest.mark.parametrize(
    "level,tier,area,performance",
    [
        ("junior", "b", "urban", "345.00"),  # 300 × 1.15
        ("intermediate", "b", "urban", "520.00"),  # 400 × 1.30
        ("intermediate", "b", "rural", "540.00"),  # 400 × 1.35
        ("senior", "c", "urban", "700.00"),  # 500 × 1.40
        ("senior", "c", "rural", "725.00"),  # 500 × 1.45
    ],
)
def test_contract_performance_uses_the_level_base(level, tier, area, performance):
    s = graded(level, tier, area=area, staff_type="contract", cm_start=dt.date(2025, 1, 1))
    slip = pay_month(tobacco(), s, MARCH)
    assert slip.amount("performance") == Decimal(performance)
    assert slip.amount("post") == Decimal("550.00")
    assert slip.amount("seniority") == Decimal("0.00")  # one year as CM only


@pytest.mark.parametrize(
    "years,marginal,flat",
    [
        (0, "0.00", "0.00"),
        (2, "0.00", "0.00"),  # under 3 years: nothing
        (3, "12.00", "12.00"),  # 3 × 4
        (10, "40.00", "40.00"),  # 10 × 4
        (11, "46.00", "66.00"),  # marginal 10×4 + 1×6; flat 11×6
        (12, "52.00", "72.00"),  # 10×4 + 2×6 ; 12×6
        (15, "70.00", "90.00"),  # 10×4 + 5×6 ; 15×6
        (16, "78.00", "128.00"),  # 10×4 + 5×6 + 1×8 ; 16×8
        (20, "110.00", "160.00"),  # 40 + 30 + 5×8 ; 20×8
    ],
)
def test_seniority_both_readings(years, marginal, flat):
    sen = tobacco().pay.seniority
    assert seniority_amount(sen, years, "marginal")[0] == Decimal(marginal)
    assert seniority_amount(sen, years, "flat")[0] == Decimal(flat)


def test_seniority_in_a_payslip_and_the_reading_switch():
    # Contract, urban, junior a, CM since 2014-01-15: 12 full years by 2026-03-31.
    # marginal: 550 + 50 + (10×4 + 2×6 = 52) + 300 × 1.20 (360) = 1012.00
    s = graded("junior", "a", staff_type="contract", cm_start=dt.date(2014, 1, 15))
    slip = pay_month(tobacco(), s, MARCH)
    assert slip.amount("seniority") == Decimal("52.00") and slip.total == Decimal("1012.00")
    assert slip.lines[2].lines[1].text("en") == "each band at its own rate: 10×4 + 2×6 = 52.00"
    # flat: 12×6 = 72 → 1032.00, either chosen per run or in the policy
    assert pay_month(tobacco(), s, MARCH, "flat").total == Decimal("1032.00")
    data = raw_policy()
    data["pay"]["seniority"]["reading"] = "flat"
    assert pay_month(CorpsPolicy.from_dict(data), s, MARCH).total == Decimal("1032.00")


def test_formal_staff_have_no_seniority_wage():
    s = graded("junior", "a", staff_type="formal", cm_start=dt.date(2000, 1, 1))
    assert pay_month(tobacco(), s, MARCH).amount("seniority") == Decimal("0.00")


def test_three_years_count_from_the_month_the_anniversary_falls_in():
    s = graded("junior", "c", staff_type="contract", cm_start=dt.date(2023, 3, 31))
    # By 2026-02-28: 2 full years (the third completes on 2026-03-31) → nothing.
    assert pay_month(tobacco(), s, dt.date(2026, 2, 1)).amount("seniority") == Decimal("0.00")
    # By 2026-03-31: 3 full years → 3 × 4 = 12.00.
    assert pay_month(tobacco(), s, dt.date(2026, 3, 1)).amount("seniority") == Decimal("12.00")


def test_grade_change_applies_from_its_effective_month():
    # Formal rural CM: intermediate b from 2025-01, senior c from 2026-07.
    s = staff(
        area="rural",
        grades=(GradeSpell("senior", "c", dt.date(2026, 7, 1)), GradeSpell("intermediate", "b", dt.date(2025, 1, 1))),
    )
    june = pay_month(tobacco(), s, dt.date(2026, 6, 1))
    july = pay_month(tobacco(), s, dt.date(2026, 7, 1))
    assert (june.level, june.tier, june.total) == ("intermediate", "b", Decimal("1830.00"))
    # July: floating 200 (level moved); senior c rural → senior b, 800 × 1.45 = 1160; 650 + 200 + 1160 = 2010.00
    assert (july.level, july.tier, july.paid_tier, july.total) == ("senior", "c", "b", Decimal("2010.00"))
    # A date inside the month gives the same month.
    assert pay_month(tobacco(), s, dt.date(2026, 7, 31)).total == Decimal("2010.00")


def test_ungraded_and_not_yet_started_cms():
    # Not graded yet: paid as junior c. Contract urban: 550 + 50 + 0 + 300 × 1.10 (330) = 930.00.
    new = staff(staff_type="contract", cm_start=dt.date(2025, 9, 1))
    slip = pay_month(tobacco(), new, MARCH)
    assert (slip.level, slip.tier, slip.grade_from, slip.total) == ("junior", "c", None, Decimal("930.00"))
    assert slip.notes[0].text("en") == "no grade yet: the policy pays Junior c"
    later = pay_month(tobacco(), staff(cm_start=dt.date(2026, 4, 1)), MARCH)
    assert (later.paid, later.total, later.lines) == (False, Decimal("0.00"), ())


def test_amounts_round_half_up_to_the_fen():
    data = raw_policy()
    data["pay"]["performance_base"]["contract"]["junior"] = "333"
    data["pay"]["coefficients"]["junior"]["c"] = "1.125"
    data["pay"]["coefficients"]["junior"]["b"] = "1.126"  # keep the tiers rising
    policy = CorpsPolicy.from_dict(data)
    s = graded("junior", "c", staff_type="contract", cm_start=dt.date(2025, 1, 1))
    # 333 × 1.125 = 374.625 → 374.63 (half-up, not banker's 374.62)
    assert pay_month(policy, s, MARCH).amount("performance") == Decimal("374.63")


def test_payslip_as_dict():
    slip = pay_month(tobacco(), graded("intermediate", "b", area="rural"), MARCH)
    d = slip.as_dict(tobacco(), "zh")
    assert d["total"] == "1830.00" and d["month"] == "2026-03"
    assert d["grade"] == {"level": "intermediate", "tier": "b", "label": "中级b档", "since": "2025-01"}
    assert d["lines"][3]["explain"][1] == "农村客户经理上浮一档:b档 → a档"


def test_a_grade_dated_inside_a_month_applies_to_the_whole_month():
    s = staff(grades=(GradeSpell("senior", "a", dt.date(2026, 3, 15)),))
    assert pay_month(tobacco(), s, MARCH).level == "senior"


def test_unknown_codes_are_refused_before_computing():
    from kejing.appraisal.engine import RuleError

    with pytest.raises(RuleError, match="staff type"):
        pay_month(tobacco(), staff(staff_type="intern"), MARCH)
    with pytest.raises(RuleError, match="area"):
        pay_month(tobacco(), staff(area="mountain"), MARCH)
    with pytest.raises(RuleError, match="unknown grade"):
        pay_month(tobacco(), graded("master", "a"), MARCH)
    with pytest.raises(RuleError, match="reading"):
        pay_month(tobacco(), staff(), MARCH, "average")
