"""Grading a customer manager into three levels of three tiers (三级九档): the score and the proposed grade.

Total (100) = basic conditions (30: schooling up to 15 + qualifying years up to 15) + professional exam (paper ×
40%) + comprehensive review (30: four reviewer groups, each group's marks trimmed of the single highest and
lowest, averaged and weighted 6/4/10/10). The total is matched against the policy's cut-offs to propose a level
and tier, and the marketer certificate the level needs is checked (advisory at first, binding after the grace
years). Manual lines L2743-L2765; every number here comes from :class:`~.policy.CorpsPolicy`.

Every number carries its explanation (:class:`~.common.Figure`), because a committee publishes these totals
for objections and each CM must be able to see exactly where each point came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .common import (
    Figure,
    Line,
    ReviewGroupError,
    RuleError,
    add_years,
    completed_months,
    fmt,
    fmt_mean,
    line,
    quantize,
    render_lines,
    to_decimal,
)
from .messages import LABELS
from .policy import CorpsPolicy, ReviewGroup
from .records import Review, StaffRecord
from .recruitment import grading_eligible_from

COMPLETE = "complete"
INCOMPLETE = "incomplete"
INELIGIBLE = "ineligible"


# ----------------------------------------------------------------------------------------------------------------
# Eligibility


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    eligible_from: dt.date
    lines: tuple[Line, ...]


def eligibility(policy: CorpsPolicy, staff: StaffRecord, on: dt.date) -> Eligibility:
    """Whether the CM may be graded in a round held on ``on`` (one year as CM, or earlier CM work of a year)."""
    since = grading_eligible_from(policy, staff.cm_start, staff.prior_cm_years)
    lines = [line("grade.cm_since", start=staff.cm_start.isoformat(), prior=fmt(staff.prior_cm_years))]
    if since == staff.cm_start and staff.prior_cm_years >= policy.recruitment.prior_cm_years_for_direct_grading:
        lines.append(line("grade.elig_prior", prior=fmt(staff.prior_cm_years)))
    else:
        lines.append(line("grade.elig_after", years=policy.recruitment.grading_after_years, since=since.isoformat()))
    ok = on >= since and on >= staff.cm_start
    lines.append(line("grade.elig_yes" if ok else "grade.elig_no", on=on.isoformat(), since=since.isoformat()))
    return Eligibility(ok, since, tuple(lines))


# ----------------------------------------------------------------------------------------------------------------
# Basic conditions


def education_points(policy: CorpsPolicy, staff: StaffRecord) -> Figure:
    """Points for schooling: the better of the degree (matching major or not) and an economics certificate,
    which counts as the matching schooling the policy names; capped at the education maximum."""
    edu = policy.grading.education
    if not staff.education:
        raise RuleError(f"{staff.staff_id}: no education level given")
    try:
        level = edu.level(staff.education)
    except ValueError:
        raise RuleError(f"{staff.staff_id}: unknown education level {staff.education!r}") from None
    matching = bool(staff.major) and edu.is_matching(staff.major)
    by_degree = level.matching if matching else level.other
    lines = [
        line(
            "grade.edu_degree",
            edu=level.text,
            major=staff.major or LABELS["-"],
            kind=LABELS["matching" if matching else "other"],
            points=fmt(by_degree),
        )
    ]
    best = by_degree
    if staff.econ_cert:
        if staff.econ_cert not in edu.certificates:
            raise RuleError(f"{staff.staff_id}: unknown economics certificate level {staff.econ_cert!r}")
        as_level = edu.level(edu.certificates[staff.econ_cert])
        lines.append(
            line(
                "grade.edu_cert",
                cert=policy.cert_text(staff.econ_cert),
                edu=as_level.text,
                points=fmt(as_level.matching),
            )
        )
        best = max(best, as_level.matching)
    points = quantize(min(best, edu.max_points), policy.grading.score_places)
    lines.append(line("grade.edu_best", points=fmt(points), max=fmt(edu.max_points)))
    return Figure(points, tuple(lines))


def qualifying_years(staff: StaffRecord, on: dt.date) -> tuple[int, Decimal]:
    """Whole years of qualifying work on ``on`` and the exact figure they come from.

    Months as CM here / 12 + earlier CM years + other qualifying years, then rounded down: only completed years
    earn points.
    """
    exact = Decimal(completed_months(staff.cm_start, on)) / 12 + staff.prior_cm_years + staff.prior_other_years
    return int(exact), exact


def year_points(policy: CorpsPolicy, staff: StaffRecord, on: dt.date) -> Figure:
    """Points for qualifying years: nothing below the first full year, then 3 for it and 1 per further year,
    capped (tobacco: 13 years reach the cap of 15)."""
    yp = policy.grading.years
    months = completed_months(staff.cm_start, on)
    years, exact = qualifying_years(staff, on)
    lines = [
        line(
            "grade.years_sum",
            months=months,
            prior=fmt(staff.prior_cm_years),
            other=fmt(staff.prior_other_years),
            exact=fmt(quantize(exact, 2)),
            years=years,
        )
    ]
    if years < yp.min_years:
        points = quantize(Decimal(0), policy.grading.score_places)
        lines.append(line("grade.years_none", min=yp.min_years))
    else:
        raw = yp.points_at_min + (years - yp.min_years) * yp.points_per_extra_year
        points = quantize(min(raw, yp.max_points), policy.grading.score_places)
        lines.append(
            line(
                "grade.years_points",
                first=fmt(yp.points_at_min),
                extra=years - yp.min_years,
                per=fmt(yp.points_per_extra_year),
                raw=fmt(raw),
                max=fmt(yp.max_points),
                points=fmt(points),
            )
        )
    return Figure(points, tuple(lines))


@dataclass(frozen=True)
class BasicScore:
    education: Figure
    years: Figure
    total: Figure


def basic_score(policy: CorpsPolicy, staff: StaffRecord, on: dt.date) -> BasicScore:
    """Education points + year points, capped at the basic-conditions maximum (30)."""
    education = education_points(policy, staff)
    years = year_points(policy, staff, on)
    raw = education.value + years.value
    total = quantize(min(raw, policy.grading.basic_max), policy.grading.score_places)
    return BasicScore(
        education,
        years,
        Figure(
            total,
            (
                line(
                    "grade.basic",
                    edu=fmt(education.value),
                    years=fmt(years.value),
                    raw=fmt(raw),
                    max=fmt(policy.grading.basic_max),
                    points=fmt(total),
                ),
            ),
        ),
    )


# ----------------------------------------------------------------------------------------------------------------
# Exam


def exam_score(policy: CorpsPolicy, paper: Any) -> Figure:
    """Exam points = paper mark × weight% (tobacco: 85 × 40% = 34.00)."""
    ex = policy.grading.exam
    mark = to_decimal(paper, "exam mark")
    if not 0 <= mark <= ex.paper_max:
        raise RuleError(f"exam mark {mark} is outside 0-{ex.paper_max}")
    points = quantize(mark * ex.weight_percent / 100, policy.grading.score_places)
    return Figure(
        points,
        (line("grade.exam", mark=fmt(mark), max=fmt(ex.paper_max), weight=fmt(ex.weight_percent), points=fmt(points)),),
    )


# ----------------------------------------------------------------------------------------------------------------
# Comprehensive review


def form_total(policy: CorpsPolicy, items: Mapping[str, Any]) -> Decimal:
    """The total of one review form from its item marks; every item must be present and within its maximum."""
    rv = policy.grading.review
    unknown = set(items) - {i.code for i in rv.items}
    if unknown:
        raise RuleError(f"unknown review items: {', '.join(sorted(unknown))}")
    total = Decimal(0)
    for item in rv.items:
        if item.code not in items:
            raise RuleError(f"review item {item.code!r} has no mark")
        mark = to_decimal(items[item.code], f"review item {item.code}")
        if not 0 <= mark <= item.max:
            raise RuleError(f"review item {item.code}: mark {mark} is outside 0-{item.max}")
        total += mark
    return total


@dataclass(frozen=True)
class GroupScore:
    """One reviewer group closed: the marks kept after trimming, their mean and the weighted points."""

    group: ReviewGroup
    count: int
    dropped_high: tuple[Decimal, ...]
    dropped_low: tuple[Decimal, ...]
    kept: tuple[Decimal, ...]
    mean: Decimal
    figure: Figure


def close_group(policy: CorpsPolicy, group_code: str, marks: Sequence[Any]) -> GroupScore:
    """Trim and weight one group's marks; refuses when the group has fewer forms than its minimum.

    Exactly one highest and one lowest mark go (with ties, only one copy of the tied mark), so a single
    friend or enemy on the panel cannot move the result. Example: leader marks 90, 80, 85, 70, 95 → drop 95
    and 70 → mean of 80, 85, 90 = 85 → 85 × 6 / 100 = 5.10 points.
    """
    rv = policy.grading.review
    try:
        group = rv.group(group_code)
    except ValueError:
        raise RuleError(f"unknown reviewer group {group_code!r}") from None
    values = [to_decimal(m, f"{group_code} review mark") for m in marks]
    for v in values:
        if not 0 <= v <= rv.form_max:
            raise RuleError(f"{group_code} review mark {v} is outside 0-{rv.form_max}")
    if len(values) < group.min_reviews:
        raise ReviewGroupError(
            f"{group.zh}只有 {len(values)} 份,至少需要 {group.min_reviews} 份,不能结束评议 / "
            f"{group.en}: {len(values)} reviews, at least {group.min_reviews} are required to close the group"
        )
    ordered = sorted(values)
    low = tuple(ordered[: rv.drop_lowest])
    high = tuple(ordered[len(ordered) - rv.drop_highest :]) if rv.drop_highest else ()
    kept = tuple(ordered[rv.drop_lowest : len(ordered) - rv.drop_highest])
    mean = sum(kept, Decimal(0)) / len(kept)
    places = policy.grading.score_places
    points = quantize(mean * group.weight / rv.form_max, places)
    lines = (
        line("grade.group_marks", group=group.text, n=len(values), marks=", ".join(fmt(v) for v in values)),
        line("trim.drop", high=", ".join(fmt(v) for v in high) or "-", low=", ".join(fmt(v) for v in low) or "-"),
        line("grade.group_mean", n=len(kept), mean=fmt_mean(mean)),
        line(
            "grade.group_points",
            mean=fmt_mean(mean),
            weight=fmt(group.weight),
            max=fmt(rv.form_max),
            points=fmt(points),
        ),
    )
    return GroupScore(group, len(values), high, low, kept, mean, Figure(points, lines))


@dataclass(frozen=True)
class ReviewScore:
    groups: tuple[GroupScore, ...]
    total: Figure


def review_shortfalls(policy: CorpsPolicy, reviews: Sequence[Review]) -> list[Line]:
    """One line per reviewer group that has too few forms to be closed (empty when all groups can close)."""
    counts: dict[str, int] = {}
    for r in reviews:
        counts[r.group] = counts.get(r.group, 0) + 1
    return [
        line("grade.group_short", group=g.text, n=counts.get(g.code, 0), min=g.min_reviews)
        for g in policy.grading.review.groups
        if counts.get(g.code, 0) < g.min_reviews
    ]


def review_score(policy: CorpsPolicy, reviews: Sequence[Review]) -> ReviewScore:
    """Close every reviewer group and add their points; raises :class:`ReviewGroupError` if any group is short."""
    rv = policy.grading.review
    known = {g.code for g in rv.groups}
    for r in reviews:
        if r.group not in known:
            raise RuleError(f"unknown reviewer group {r.group!r}")
    short = review_shortfalls(policy, reviews)
    if short:
        raise ReviewGroupError("; ".join(f"{ln.text('zh')} / {ln.text('en')}" for ln in short))
    groups = tuple(close_group(policy, g.code, [r.score for r in reviews if r.group == g.code]) for g in rv.groups)
    total = sum((g.figure.value for g in groups), Decimal(0))
    parts = " + ".join(fmt(g.figure.value) for g in groups)
    return ReviewScore(groups, Figure(total, (line("grade.review", parts=parts, points=fmt(total)),)))


# ----------------------------------------------------------------------------------------------------------------
# Proposed grade and certificates


@dataclass(frozen=True)
class Proposal:
    level: str | None
    tier: str | None
    lines: tuple[Line, ...]


def propose_grade(policy: CorpsPolicy, total: Decimal) -> Proposal:
    """The highest grade whose cut-off the total reaches; none below the lowest cut-off."""
    for t in policy.grading.thresholds:
        if total >= t.min_total:
            return Proposal(
                t.level,
                t.tier,
                (
                    line(
                        "grade.threshold",
                        total=fmt(total),
                        min=fmt(t.min_total),
                        grade=policy.grade_text(t.level, t.tier),
                    ),
                ),
            )
    lowest = policy.grading.thresholds[-1]
    return Proposal(None, None, (line("grade.below", total=fmt(total), min=fmt(lowest.min_total)),))


def certificate_deadline(policy: CorpsPolicy) -> dt.date:
    """From this day the marketer certificate is binding; before it, a missing certificate is only advisory."""
    ct = policy.grading.certificates
    return add_years(ct.scheme_start, ct.grace_years)


def apply_certificates(
    policy: CorpsPolicy, staff: StaffRecord, proposal: Proposal, on: dt.date
) -> tuple[Proposal, tuple[Line, ...]]:
    """Check the certificate the proposed level needs; returns the (possibly lowered) proposal and warnings.

    While the rule is advisory the grade stands and a warning names the certificate and the deadline. Once
    binding, the level falls to the highest one the CM's certificate covers, at that level's top tier (his
    total already passed all of its cut-offs); with no certificate covering even the lowest level, no grade.
    """
    if proposal.level is None:
        return proposal, ()
    ct = policy.grading.certificates
    needed = ct.required[proposal.level]
    held_rank = ct.rank(staff.marketer_cert) if staff.marketer_cert in ct.levels else -1
    if held_rank >= ct.rank(needed):
        return proposal, ()
    deadline = certificate_deadline(policy)
    held = policy.cert_text(staff.marketer_cert)
    args = {"level": policy.level_text(proposal.level), "cert": policy.cert_text(needed), "held": held}
    if on < deadline:
        return proposal, (line("grade.cert_advisory", deadline=deadline.isoformat(), **args),)
    allowed = [lv for lv in policy.level_codes if ct.rank(ct.required[lv]) <= held_rank]
    if not allowed:
        warning = line("grade.cert_none", **args)
        return Proposal(None, None, proposal.lines + (warning,)), (warning,)
    level = allowed[-1]
    tier = policy.tier_codes[-1]
    warning = line("grade.cert_capped", grade=policy.grade_text(level, tier), **args)
    return Proposal(level, tier, proposal.lines + (warning,)), (warning,)


# ----------------------------------------------------------------------------------------------------------------
# Publication


def publication_window(policy: CorpsPolicy, published_on: dt.date) -> tuple[dt.date, dt.date]:
    """First and last calendar day on which an objection to the published totals is accepted (3 days: the day
    of publication and the two after it). From the day after the window, silence counts as acceptance."""
    return published_on, published_on + dt.timedelta(days=policy.grading.publication_days - 1)


def objection_in_time(policy: CorpsPolicy, published_on: dt.date, filed_on: dt.date) -> bool:
    first, last = publication_window(policy, published_on)
    return first <= filed_on <= last


# ----------------------------------------------------------------------------------------------------------------
# One CM


@dataclass(frozen=True)
class GradingResult:
    """Everything a round shows for one CM; ``status`` is complete, incomplete (missing exam or too few
    reviews: see ``problems``) or ineligible. Only a complete, eligible CM gets a proposed grade."""

    staff_id: str
    name: str
    on: dt.date
    status: str
    eligibility: Eligibility
    basic: BasicScore
    exam: Figure | None
    review: ReviewScore | None
    total: Figure | None
    proposal: Proposal | None
    warnings: tuple[Line, ...] = ()
    problems: tuple[Line, ...] = field(default=())

    @property
    def level(self) -> str | None:
        return self.proposal.level if self.proposal else None

    @property
    def tier(self) -> str | None:
        return self.proposal.tier if self.proposal else None

    def as_dict(self, policy: CorpsPolicy, lang: str = "zh") -> dict[str, Any]:
        """A JSON-ready form (numbers as strings, explanations rendered in ``lang``)."""
        review = None
        if self.review is not None:
            review = self.review.total.as_dict(lang)
            review["groups"] = {g.group.code: {**g.figure.as_dict(lang), "count": g.count} for g in self.review.groups}
        proposed = None
        if self.proposal is not None and self.proposal.level is not None and self.proposal.tier is not None:
            proposed = {
                "level": self.proposal.level,
                "tier": self.proposal.tier,
                "label": policy.grade_label(self.proposal.level, self.proposal.tier, lang),
                "explain": render_lines(self.proposal.lines, lang),
            }
        elif self.proposal is not None:
            proposed = {"level": None, "tier": None, "label": None, "explain": render_lines(self.proposal.lines, lang)}
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "status": self.status,
            "eligible": self.eligibility.ok,
            "eligible_from": self.eligibility.eligible_from.isoformat(),
            "eligibility": render_lines(self.eligibility.lines, lang),
            "basic": {
                **self.basic.total.as_dict(lang),
                "education": self.basic.education.as_dict(lang),
                "years": self.basic.years.as_dict(lang),
            },
            "exam": self.exam.as_dict(lang) if self.exam else None,
            "review": review,
            "total": self.total.as_dict(lang) if self.total else None,
            "proposed": proposed,
            "warnings": render_lines(self.warnings, lang),
            "problems": render_lines(self.problems, lang),
        }


def grade_cm(
    policy: CorpsPolicy, staff: StaffRecord, reviews: Sequence[Review], exam_paper: Any | None, on: dt.date
) -> GradingResult:
    """Score one CM for a round held on ``on`` and propose a grade.

    Parts that can be computed are always computed (so the page can show progress); the total and the
    proposal need the exam mark and every reviewer group closed, and the proposal also needs eligibility.
    """
    elig = eligibility(policy, staff, on)
    basic = basic_score(policy, staff, on)
    problems: list[Line] = [] if elig.ok else [elig.lines[-1]]
    exam = exam_score(policy, exam_paper) if exam_paper is not None else None
    if exam is None:
        problems.append(line("grade.no_exam"))
    short = review_shortfalls(policy, reviews)
    review = None if short else review_score(policy, reviews)
    problems.extend(short)

    total = proposal = None
    warnings: tuple[Line, ...] = ()
    if exam is not None and review is not None:
        value = basic.total.value + exam.value + review.total.value
        total = Figure(
            value,
            (
                line(
                    "grade.total",
                    basic=fmt(basic.total.value),
                    exam=fmt(exam.value),
                    review=fmt(review.total.value),
                    total=fmt(value),
                ),
            ),
        )
        if elig.ok:
            proposal, warnings = apply_certificates(policy, staff, propose_grade(policy, value), on)
    if not elig.ok:
        status = INELIGIBLE
    elif problems:
        status = INCOMPLETE
    else:
        status = COMPLETE
    return GradingResult(
        staff.staff_id, staff.name, on, status, elig, basic, exam, review, total, proposal, warnings, tuple(problems)
    )
