"""Grading (三级九档) against hand-worked examples (tobacco policy, manual L2743-L2765)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kejing.appraisal.engine import (
    CorpsPolicy,
    Review,
    ReviewGroupError,
    RuleError,
    basic_score,
    close_group,
    eligibility,
    exam_score,
    grade_cm,
    objection_in_time,
    propose_grade,
    publication_window,
    review_score,
)
from kejing.appraisal.engine.grading import form_total

from .helpers import raw_policy, staff, tobacco

ROUND = dt.date(2026, 6, 30)


def reviews(**groups: list[int]) -> list[Review]:
    return [Review(g, Decimal(m), f"{g}{i}") for g, marks in groups.items() for i, m in enumerate(marks)]


FULL = dict(
    leader=[90, 80, 85, 70, 95],
    peer=[80, 90, 70, 100],
    staff=[88, 92, 84, 90, 86],
    customer=[95, 90, 85, 80, 100, 60, 90, 90, 85, 95],
)


# -- basic conditions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "education,major,cert,points",
    [
        ("high_school", "", "", 10),
        ("vocational", "中文", "", 10),  # non-matching vocational counts as high school
        ("vocational", "经济", "", 12),
        ("college", "law", "", 12),
        ("college", "economics", "", 13),
        ("bachelor", "law", "", 13),
        ("bachelor", "Economics", "", 15),
        ("high_school", "", "junior", 12),  # junior economics certificate = matching vocational
        ("high_school", "", "intermediate", 13),  # = matching college
        ("college", "law", "senior", 15),  # = matching bachelor, better than the degree's 12
        ("bachelor", "economics", "junior", 15),  # the degree is better than the certificate: keep it
    ],
)
def test_education_points_take_the_better_of_degree_and_certificate(education, major, cert, points):
    s = staff(education=education, major=major, econ_cert=cert)
    assert basic_score(tobacco(), s, ROUND).education.value == points


@pytest.mark.parametrize(
    "start,prior_cm,prior_other,points",
    [
        (dt.date(2025, 7, 1), 0, 0, 0),  # 11 full months: under a year, no points
        (dt.date(2025, 6, 30), 0, 0, 3),  # exactly one year: 3
        (dt.date(2021, 6, 30), 0, 0, 7),  # 5 years: 3 + 4 = 7
        (dt.date(2025, 12, 31), Decimal("1.5"), 0, 3),  # 5 full months (30 < 31) + 1.5 = 1.92 → 1 year → 3
        (dt.date(2013, 6, 30), 0, 0, 15),  # 13 years: 3 + 12 = 15, the cap
        (dt.date(2000, 1, 1), 0, 0, 15),  # 26 years: 28, capped at 15
        (dt.date(2024, 1, 1), 0, 3, 7),  # 2.5 + 3 other qualifying years = 5.5 → 5 years → 7
    ],
)
def test_year_points(start, prior_cm, prior_other, points):
    s = staff(cm_start=start, prior_cm_years=Decimal(prior_cm), prior_other_years=Decimal(prior_other))
    assert basic_score(tobacco(), s, ROUND).years.value == points


def test_basic_score_is_capped_at_30():
    # Bachelor in economics 15 + 20 years (capped 15) = 30; the cap of 30 holds even if a policy allowed more.
    s = staff(education="bachelor", major="economics", cm_start=dt.date(2006, 1, 1))
    assert basic_score(tobacco(), s, ROUND).total.value == Decimal("30.00")
    data = raw_policy()
    data["grading"]["years"]["max_points"] = 20
    assert basic_score(CorpsPolicy.from_dict(data), s, ROUND).total.value == Decimal("30.00")


def test_unknown_education_is_a_rule_error():
    with pytest.raises(RuleError, match="unknown education"):
        basic_score(tobacco(), staff(education="phd"), ROUND)


# -- exam ---------------------------------------------------------------------------------------------------------


def test_exam_is_paper_times_40_percent():
    assert exam_score(tobacco(), 85).value == Decimal("34.00")  # 85 × 40% = 34
    assert exam_score(tobacco(), "88.5").value == Decimal("35.40")  # 88.5 × 0.4 = 35.4
    assert exam_score(tobacco(), "77.33").value == Decimal("30.93")  # 30.932 → 30.93
    assert exam_score(tobacco(), "77.35").value == Decimal("30.94")  # 30.940
    with pytest.raises(RuleError, match="outside"):
        exam_score(tobacco(), 101)


# -- review -------------------------------------------------------------------------------------------------------


def test_trimming_drops_one_highest_and_one_lowest():
    # Leaders: 90, 80, 85, 70, 95 → drop 95 and 70 → (90 + 80 + 85)/3 = 85 → 85 × 6/100 = 5.10.
    g = close_group(tobacco(), "leader", [90, 80, 85, 70, 95])
    assert (g.dropped_high, g.dropped_low) == ((Decimal(95),), (Decimal(70),))
    assert g.mean == 85 and g.figure.value == Decimal("5.10")
    assert g.figure.explain("en") == [
        "Leaders: 5 forms: 90, 80, 85, 70, 95",
        "highest 95 and lowest 70 dropped",
        "mean of the remaining 3: 85.00",
        "85.00 × 6/100 = 5.10 points",
    ]


def test_trimming_with_ties_drops_only_one_copy():
    # Staff: 90, 90, 90, 60 → drop one 90 and the 60 → (90 + 90)/2 = 90 → × 10/100 = 9.00.
    g = close_group(tobacco(), "staff", [90, 90, 90, 60])
    assert g.kept == (Decimal(90), Decimal(90)) and g.figure.value == Decimal("9.00")


def test_group_mean_rounds_half_up():
    # Customers: 60, 100 dropped; remaining 80,85,85,90,90,90,95,95 sum 710 / 8 = 88.75 → × 10/100 = 8.875 → 8.88.
    g = close_group(tobacco(), "customer", FULL["customer"])
    assert g.mean == Decimal("88.75") and g.figure.value == Decimal("8.88")
    # Peers: 70, 71, 72, 100 → keep 71, 72 → 71.5 × 4/100 = 2.86.
    assert close_group(tobacco(), "peer", [70, 71, 72, 100]).figure.value == Decimal("2.86")
    # Leaders: 70, 71, 71, 72, 99 → keep 71, 71, 72 → 71.3333… × 6/100 = 4.28
    assert close_group(tobacco(), "leader", [70, 71, 71, 72, 99]).figure.value == Decimal("4.28")


def test_fewer_than_ten_customer_reviews_cannot_be_closed():
    with pytest.raises(ReviewGroupError, match="at least 10"):
        close_group(tobacco(), "customer", [90] * 9)
    assert close_group(tobacco(), "customer", [90] * 10).figure.value == Decimal("9.00")
    short = reviews(**{**FULL, "customer": [90] * 9})
    with pytest.raises(ReviewGroupError, match="Customers: 9 forms"):
        review_score(tobacco(), short)


def test_review_score_sums_the_four_groups():
    # 5.10 (leaders) + 3.40 (peers: 80, 90 kept → 85 × 4%) + 8.80 (staff: 88, 90, 86 → 88 × 10%) + 8.88 = 26.18.
    r = review_score(tobacco(), reviews(**FULL))
    assert [g.figure.value for g in r.groups] == [Decimal("5.10"), Decimal("3.40"), Decimal("8.80"), Decimal("8.88")]
    assert r.total.value == Decimal("26.18")


def test_review_marks_are_checked():
    with pytest.raises(RuleError, match="outside"):
        close_group(tobacco(), "leader", [90, 80, 101])
    with pytest.raises(RuleError, match="unknown reviewer group"):
        review_score(tobacco(), [Review("friends", Decimal(90))])


def test_form_total_from_the_ten_items():
    items = dict(
        conduct_rules=9,
        dedication=9,
        attitude=9,
        ethics=9,
        discipline=9,
        results=18,
        expression=4,
        communication=9,
        computer=9,
        mandarin=5,
    )
    assert form_total(tobacco(), items) == 90  # 9×5 + 18 + 4 + 9 + 9 + 5 = 90
    with pytest.raises(RuleError, match="expression"):
        form_total(tobacco(), {**items, "expression": 5})  # its maximum is 4
    with pytest.raises(RuleError, match="mandarin"):
        form_total(tobacco(), {k: v for k, v in items.items() if k != "mandarin"})


# -- thresholds, certificates and publication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "total,grade",
    [
        ("100", ("senior", "a")),
        ("92", ("senior", "a")),
        ("91.99", ("senior", "b")),
        ("86", ("senior", "c")),
        ("85.99", ("intermediate", "a")),
        ("78", ("intermediate", "b")),
        ("74", ("intermediate", "c")),
        ("70", ("junior", "a")),
        ("65", ("junior", "b")),
        ("60", ("junior", "c")),
        ("59.99", (None, None)),
        ("0", (None, None)),
    ],
)
def test_thresholds(total, grade):
    p = propose_grade(tobacco(), Decimal(total))
    assert (p.level, p.tier) == grade


def test_eligibility():
    p = tobacco()
    assert not eligibility(p, staff(cm_start=dt.date(2025, 7, 1)), ROUND).ok
    assert eligibility(p, staff(cm_start=dt.date(2025, 6, 30)), ROUND).ok
    early = eligibility(p, staff(cm_start=dt.date(2026, 3, 1), prior_cm_years=Decimal(1)), ROUND)
    assert early.ok and early.eligible_from == dt.date(2026, 3, 1)
    assert not eligibility(p, staff(cm_start=dt.date(2026, 7, 1), prior_cm_years=Decimal(2)), ROUND).ok


def _senior_candidate(**kw):
    # Bachelor in economics (15) + 8 full years (3 + 7 = 10) → basic 25; exam 88 → 35.20; reviews 26.18.
    # Total 25 + 35.20 + 26.18 = 86.38 ≥ 86 → senior c.
    values = dict(education="bachelor", major="economics", cm_start=dt.date(2018, 3, 1))
    values.update(kw)
    return staff(**values)


def test_full_grading_of_one_cm_with_advisory_certificate_warning():
    s = _senior_candidate(marketer_cert="intermediate")
    r = grade_cm(tobacco(), s, reviews(**FULL), Decimal(88), ROUND)
    assert r.status == "complete"
    assert (r.basic.total.value, r.exam.value, r.review.total.value, r.total.value) == (
        Decimal("25.00"),
        Decimal("35.20"),
        Decimal("26.18"),
        Decimal("86.38"),
    )
    assert (r.level, r.tier) == ("senior", "c")
    # First rounds (before 2026-01-01 + 3 years) only warn.
    assert [w.text("en") for w in r.warnings] == [
        "Senior needs a Senior marketer certificate (held: Intermediate); advisory now, required from 2029-01-01"
    ]
    d = r.as_dict(tobacco(), "en")
    assert d["total"] == {"value": "86.38", "explain": ["basic 25.00 + exam 35.20 + review 26.18 = total 86.38"]}
    assert d["proposed"]["label"] == "Senior c"
    assert d["review"]["groups"]["customer"]["count"] == 10


def test_certificate_is_binding_after_three_years():
    later = dt.date(2029, 6, 30)  # three more years of service: 11 years → 13 year points → total 89.38
    s = _senior_candidate(marketer_cert="intermediate")
    r = grade_cm(tobacco(), s, reviews(**FULL), Decimal(88), later)
    assert r.total.value == Decimal("89.38")  # score alone: senior b
    assert (r.level, r.tier) == ("intermediate", "a")  # certificate covers intermediate only: its top tier
    assert "lowered to Intermediate a" in r.warnings[0].text("en")
    with_cert = grade_cm(tobacco(), _senior_candidate(marketer_cert="senior"), reviews(**FULL), Decimal(88), later)
    assert (with_cert.level, with_cert.tier, with_cert.warnings) == ("senior", "b", ())
    no_cert = grade_cm(tobacco(), _senior_candidate(), reviews(**FULL), Decimal(88), later)
    assert (no_cert.level, no_cert.status) == (None, "complete")
    assert "no level is covered" in no_cert.warnings[0].text("en")


def test_incomplete_and_ineligible_cms_get_no_proposal():
    p = tobacco()
    short = grade_cm(p, _senior_candidate(), reviews(**{**FULL, "customer": [90] * 7}), Decimal(88), ROUND)
    assert short.status == "incomplete" and short.total is None and short.proposal is None
    assert short.problems[0].text("en") == "Customers: 7 forms, at least 10 needed before the group can be closed"
    no_exam = grade_cm(p, _senior_candidate(), reviews(**FULL), None, ROUND)
    assert no_exam.status == "incomplete" and no_exam.review.total.value == Decimal("26.18")
    new = grade_cm(p, _senior_candidate(cm_start=dt.date(2026, 1, 1)), reviews(**FULL), Decimal(88), ROUND)
    assert new.status == "ineligible" and new.total is not None and new.proposal is None
    assert new.problems[0].text("en") == "on 2026-06-30 the CM is not yet eligible (from 2027-01-01)"


def test_publication_window_is_three_days():
    p = tobacco()
    assert publication_window(p, dt.date(2026, 7, 1)) == (dt.date(2026, 7, 1), dt.date(2026, 7, 3))
    assert objection_in_time(p, dt.date(2026, 7, 1), dt.date(2026, 7, 3))
    assert not objection_in_time(p, dt.date(2026, 7, 1), dt.date(2026, 7, 4))
    assert not objection_in_time(p, dt.date(2026, 7, 1), dt.date(2026, 6, 30))
