"""The appraisal engine: recruitment scores, grading into 三级九档 and monthly pay, in plain Python.

No Django here on purpose: the web app, the ``kejing grade`` / ``kejing pay`` commands and the tests all call
the same functions, and a rule can be checked against a hand-worked example without a database. All numbers come
from the industry's ``corps`` policy file (:class:`CorpsPolicy`); money and scores are ``Decimal``.

Typical use::

    policy = CorpsPolicy.load("tobacco")
    result = grade_cm(policy, staff, reviews, exam_paper=Decimal("85"), on=date(2026, 6, 30))
    slip = pay_month(policy, staff, date(2026, 7, 1))
"""

from .common import AppraisalError, Figure, Line, PanelTooSmallError, ReviewGroupError, RuleError
from .grading import (
    GradingResult,
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
from .pay import Payslip, pay_month, pay_run, seniority_amount
from .policy import CorpsPolicy, CorpsPolicyError, load_corps_policy
from .records import GradeSpell, Review, StaffRecord
from .recruitment import (
    Applicant,
    check_basic_conditions,
    grading_eligible_from,
    interview_score,
    rank_candidates,
    score_candidate,
    written_score,
)
from .tables import InputError, RowError, read_exams, read_reviews, read_staff

__all__ = [
    "AppraisalError",
    "Applicant",
    "CorpsPolicy",
    "CorpsPolicyError",
    "Figure",
    "GradeSpell",
    "GradingResult",
    "InputError",
    "Line",
    "PanelTooSmallError",
    "Payslip",
    "Review",
    "ReviewGroupError",
    "RowError",
    "RuleError",
    "StaffRecord",
    "basic_score",
    "check_basic_conditions",
    "close_group",
    "eligibility",
    "exam_score",
    "grade_cm",
    "grading_eligible_from",
    "interview_score",
    "load_corps_policy",
    "objection_in_time",
    "pay_month",
    "pay_run",
    "propose_grade",
    "publication_window",
    "rank_candidates",
    "read_exams",
    "read_reviews",
    "read_staff",
    "review_score",
    "score_candidate",
    "seniority_amount",
    "written_score",
]
