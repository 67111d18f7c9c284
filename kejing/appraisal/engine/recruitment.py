"""Recruitment by open competition (竞聘上岗): condition check, written test, interview, combined score, ranking.

The flow the policy describes (manual L2713-L2723): anyone who meets the basic conditions may compete; the
written test has three categories weighted 40/40/20 and is worth 80 points; an interview by at least ten
panelists is worth 20; candidates are ranked on the sum and the city bureau appoints from the top. A hired CM may
be graded after one year, or at once when he already has a year of CM work behind him.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .common import Figure, Line, PanelTooSmallError, RuleError, add_years, fmt, fmt_mean, line, quantize, to_decimal
from .policy import CorpsPolicy


@dataclass(frozen=True)
class Applicant:
    """What the condition check needs about a person who applies."""

    applicant_id: str
    name: str
    birth_date: dt.date
    education: str
    clean_record: bool = True


@dataclass(frozen=True)
class ConditionCheck:
    """The outcome of the basic-condition check; ``problems`` is empty when the applicant may compete."""

    ok: bool
    lines: tuple[Line, ...]
    problems: tuple[Line, ...]


def check_basic_conditions(policy: CorpsPolicy, applicant: Applicant, on: dt.date) -> ConditionCheck:
    """Check age (in whole years on ``on``), schooling and disciplinary record against the policy."""
    cond = policy.recruitment.basic
    edu = policy.grading.education
    lines: list[Line] = []
    problems: list[Line] = []
    age = (
        on.year
        - applicant.birth_date.year
        - ((on.month, on.day) < (applicant.birth_date.month, applicant.birth_date.day))
    )
    edu_text = (
        edu.level(applicant.education).text
        if applicant.education in {lv.code for lv in edu.levels}
        else applicant.education
    )
    min_text = edu.level(cond.min_education).text
    lines.append(line("rec.age", age=age, min=cond.min_age, max=cond.max_age))
    if not cond.min_age <= age <= cond.max_age:
        problems.append(line("rec.age_out", age=age, min=cond.min_age, max=cond.max_age))
    try:
        rank = edu.rank(applicant.education)
    except ValueError:
        raise RuleError(f"unknown education level {applicant.education!r}") from None
    if rank < edu.rank(cond.min_education):
        problems.append(line("rec.edu_low", edu=edu_text, min=min_text))
    else:
        lines.append(line("rec.edu_ok", edu=edu_text, min=min_text))
    if cond.require_clean_record and not applicant.clean_record:
        problems.append(line("rec.record"))
    return ConditionCheck(not problems, tuple(lines), tuple(problems))


def written_score(policy: CorpsPolicy, category_scores: Mapping[str, Any]) -> Figure:
    """Points of the written test: Σ(category mark / category max × category weight%) × written points / 100.

    Example (tobacco): marks 80, 70, 90 → 80×40% + 70×40% + 90×20% = 78 of 100 → 78 × 80/100 = 62.40 points.
    """
    rec = policy.recruitment
    places = policy.grading.score_places
    known = {c.code for c in rec.categories}
    extra = set(category_scores) - known
    if extra:
        raise RuleError(f"unknown written-test categories: {', '.join(sorted(extra))}")
    lines: list[Line] = []
    percent = Decimal(0)
    for cat in rec.categories:
        if cat.code not in category_scores:
            raise RuleError(f"written-test category {cat.code!r} has no mark")
        mark = to_decimal(category_scores[cat.code], f"category {cat.code}")
        if not 0 <= mark <= rec.category_max:
            raise RuleError(f"category {cat.code}: mark {mark} is outside 0-{rec.category_max}")
        part = mark / rec.category_max * cat.weight
        percent += part
        lines.append(
            line(
                "rec.category",
                name=cat.text,
                mark=fmt(mark),
                max=fmt(rec.category_max),
                weight=fmt(cat.weight),
                part=fmt(quantize(part, places)),
            )
        )
    points = quantize(percent * rec.written_points / 100, places)
    lines.append(
        line("rec.written", percent=fmt(quantize(percent, places)), points=fmt(rec.written_points), result=fmt(points))
    )
    return Figure(points, tuple(lines))


def interview_score(policy: CorpsPolicy, panel_marks: Sequence[Any]) -> Figure:
    """Points of the interview: mean panel mark / mark max × interview points; refuses a panel that is too small.

    With ``interview_trim`` on, one highest and one lowest mark are dropped first (the manual trims only the
    grading reviews, so the default keeps every panelist's mark).
    """
    rec = policy.recruitment
    places = policy.grading.score_places
    if len(panel_marks) < rec.min_panelists:
        raise PanelTooSmallError(
            f"面试评委不足:{len(panel_marks)} 人,至少需要 {rec.min_panelists} 人 / the interview panel has "
            f"{len(panel_marks)} members; at least {rec.min_panelists} are required"
        )
    marks = []
    for i, raw in enumerate(panel_marks, start=1):
        mark = to_decimal(raw, f"panel mark {i}")
        if not 0 <= mark <= rec.panel_mark_max:
            raise RuleError(f"panel mark {i}: {mark} is outside 0-{rec.panel_mark_max}")
        marks.append(mark)
    lines = [line("rec.panel", n=len(marks), marks=", ".join(fmt(m) for m in marks))]
    if rec.interview_trim:
        ordered = sorted(marks)
        lines.append(line("trim.drop", high=fmt(ordered[-1]), low=fmt(ordered[0])))
        marks = ordered[1:-1]
    mean = sum(marks, Decimal(0)) / len(marks)
    points = quantize(mean / rec.panel_mark_max * rec.interview_points, places)
    lines.append(
        line(
            "rec.interview",
            mean=fmt_mean(mean),
            max=fmt(rec.panel_mark_max),
            points=fmt(rec.interview_points),
            result=fmt(points),
        )
    )
    return Figure(points, tuple(lines))


@dataclass(frozen=True)
class Candidate:
    """A scored applicant."""

    applicant_id: str
    name: str
    written: Figure
    interview: Figure
    combined: Figure


def score_candidate(
    policy: CorpsPolicy, applicant_id: str, name: str, category_scores: Mapping[str, Any], panel_marks: Sequence[Any]
) -> Candidate:
    """Written points + interview points = combined score (out of 100)."""
    written = written_score(policy, category_scores)
    interview = interview_score(policy, panel_marks)
    total = written.value + interview.value
    combined = Figure(
        total, (line("rec.combined", written=fmt(written.value), interview=fmt(interview.value), result=fmt(total)),)
    )
    return Candidate(applicant_id, name, written, interview, combined)


@dataclass(frozen=True)
class RankedCandidate:
    """A place in the ranking. ``tied`` is true when the candidate's three scores equal a neighbour's, so the
    order between them came from the applicant id alone and the committee should decide it."""

    rank: int
    candidate: Candidate
    tied: bool


def rank_candidates(candidates: Sequence[Candidate]) -> list[RankedCandidate]:
    """Order by combined score, then written points, then interview points (all highest first), then applicant id.

    Why this tie-break: the written test carries four times the interview's weight and is the more objective
    part, so it decides first; the applicant id only makes the order reproducible and is flagged as a tie.
    """

    def key(c: Candidate) -> tuple[Decimal, Decimal, Decimal, str]:
        return (-c.combined.value, -c.written.value, -c.interview.value, c.applicant_id)

    ordered = sorted(candidates, key=key)
    out = []
    for i, c in enumerate(ordered):
        scores = key(c)[:3]
        tied = (i > 0 and key(ordered[i - 1])[:3] == scores) or (
            i + 1 < len(ordered) and key(ordered[i + 1])[:3] == scores
        )
        out.append(RankedCandidate(i + 1, c, tied))
    return out


def grading_eligible_from(policy: CorpsPolicy, cm_start: dt.date, prior_cm_years: Decimal | int = 0) -> dt.date:
    """The first day a CM may be graded: the appointment date when he brings enough earlier CM work, else one
    full year (``grading_after_years``) after it."""
    rec = policy.recruitment
    if to_decimal(prior_cm_years) >= rec.prior_cm_years_for_direct_grading:
        return cm_start
    return add_years(cm_start, rec.grading_after_years)
