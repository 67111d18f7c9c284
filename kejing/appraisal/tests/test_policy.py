"""The corps policy files: every industry's file loads, and a broken file is refused with the key named."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from kejing.appraisal.engine import CorpsPolicy, CorpsPolicyError
from kejing.core.policy import INDUSTRIES, PolicyError

from .helpers import raw_policy, tobacco


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_industry_has_a_valid_corps_policy(industry):
    policy = CorpsPolicy.load(industry)
    assert policy.level_codes == ("junior", "intermediate", "senior")
    assert policy.tier_codes == ("c", "b", "a")
    assert policy.grading.basic_max + policy.grading.exam.max_points + policy.grading.review.max_points == 100
    assert policy.effective_from >= dt.date(2026, 1, 1)


def test_tobacco_numbers_are_those_of_the_manual():
    p = tobacco()
    rec = p.recruitment
    assert (rec.written_points, rec.interview_points, rec.min_panelists) == (80, 20, 10)
    assert [c.weight for c in rec.categories] == [40, 40, 20]
    edu = p.grading.education
    assert {
        lv.code: (lv.matching, lv.other)
        for lv in edu.levels
        if lv.code in ("high_school", "vocational", "college", "bachelor")
    } == {"high_school": (10, 10), "vocational": (12, 10), "college": (13, 12), "bachelor": (15, 13)}
    assert edu.certificates == {"junior": "vocational", "intermediate": "college", "senior": "bachelor"}
    assert edu.is_matching("Economics") and not edu.is_matching("law")
    years = p.grading.years
    assert (years.min_years, years.points_at_min, years.points_per_extra_year, years.max_points) == (1, 3, 1, 15)
    assert p.grading.exam.weight_percent == 40
    rv = p.grading.review
    assert {g.code: (g.weight, g.min_reviews) for g in rv.groups}["customer"] == (10, 10)
    assert [g.weight for g in rv.groups] == [6, 4, 10, 10]
    assert sum(i.max for i in rv.items) == 100 and len(rv.items) == 10
    assert (rv.drop_highest, rv.drop_lowest) == (1, 1)
    assert p.grading.publication_days == 3
    assert p.grading.certificates.grace_years == 3
    pay = p.pay
    assert pay.post == {"formal": 650, "contract": 550}
    assert pay.floating == {"junior": 50, "intermediate": 100, "senior": 200}
    assert pay.performance_base["formal"] == {"junior": 800, "intermediate": 800, "senior": 800}
    assert pay.performance_base["contract"] == {"junior": 300, "intermediate": 400, "senior": 500}
    assert [pay.coefficients[lv][t] for lv in p.level_codes for t in p.tier_codes] == [
        Decimal(x) for x in ("1.10", "1.15", "1.20", "1.25", "1.30", "1.35", "1.40", "1.45", "1.50")
    ]
    assert pay.rural_tier_bump == 1
    sen = pay.seniority
    assert (sen.staff_types, sen.min_years, sen.reading) == (("contract",), 3, "marginal")
    assert [(b.up_to, b.rate) for b in sen.bands] == [(10, 4), (15, 6), (None, 8)]


def test_database_copy_with_iso_dates_and_float_coefficients_loads():
    # The web app stores the policy as JSON: dates become strings, coefficients may be floats.
    data = json.loads(json.dumps(raw_policy(), default=str))
    data["pay"]["coefficients"]["junior"]["b"] = 1.15
    policy = CorpsPolicy.from_dict(data)
    assert policy.grading.certificates.scheme_start == dt.date(2026, 1, 1)
    assert policy.pay.coefficients["junior"]["b"] == Decimal("1.15")


def test_policy_error_is_a_policy_error_and_names_the_key():
    data = raw_policy()
    del data["pay"]["floating"]["senior"]
    with pytest.raises(CorpsPolicyError, match=r"'pay\.floating\.senior' is missing"):
        CorpsPolicy.from_dict(data, source="test")
    assert issubclass(CorpsPolicyError, PolicyError)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d["grading"]["review"]["items"][0].update(max=11), r"grading\.review\.items.*add up to form_max"),
        (lambda d: d["grading"]["review"]["groups"][0].update(weight=7), r"grading\.review\.groups.*max_points"),
        (lambda d: d["grading"]["review"]["groups"][3].update(min_reviews=2), r"min_reviews must leave"),
        (lambda d: d["recruitment"]["written_categories"][2].update(weight=30), r"add up to 100"),
        (lambda d: d["recruitment"].update(interview_points=25), r"interview_points"),
        (lambda d: d["grading"]["exam"].update(weight_percent=50), r"'grading\.total_max' must equal"),
        (lambda d: d["grading"]["proposal"]["thresholds"][0].update(min_total=80), r"senior-a must need a higher"),
        (lambda d: d["grading"]["proposal"]["thresholds"][0].update(level="master"), r"must be one of"),
        (lambda d: d["pay"]["seniority"].update(reading="average"), r"'pay\.seniority\.reading' must be one of"),
        (lambda d: d["pay"]["seniority"]["bands"][2].update(up_to=20), r"last band"),
        (lambda d: d["pay"]["seniority"]["bands"][1].update(up_to=9), r"bands\[1\]\.up_to' must be at least 11"),
        (lambda d: d["pay"]["coefficients"]["senior"].update(a="one and a half"), r"senior\.a' must be a number"),
        (lambda d: d["grading"]["certificates"].update(scheme_start="soon"), r"scheme_start' must be a date"),
        (lambda d: d["grading"]["education"]["certificates"].update(junior="diploma"), r"certificates\.junior"),
    ],
)
def test_inconsistent_policy_is_refused(change, message):
    data = raw_policy()
    change(data)
    with pytest.raises(CorpsPolicyError, match=message):
        CorpsPolicy.from_dict(data, source="test")


def test_policy_from_a_toml_path(tmp_path):
    from kejing.core.policy import DEFAULT_POLICY_DIR

    text = (DEFAULT_POLICY_DIR / "tobacco" / "corps.toml").read_text(encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(text.replace('reading = "marginal"', 'reading = "flat"'), encoding="utf-8")
    assert CorpsPolicy.load(str(path)).pay.seniority.reading == "flat"
    with pytest.raises(CorpsPolicyError, match="cannot read"):
        CorpsPolicy.load(str(tmp_path / "missing.toml"))
