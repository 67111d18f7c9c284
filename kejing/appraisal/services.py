"""Writes of the appraisal module: competitions, grading rounds, objections, grades and pay runs.

Each public function runs in one transaction and leaves an audit record (who, when, before, after) through
:func:`kejing.core.audit.record`, because grades and pay are audited data. The arithmetic is the pure engine's
(:mod:`kejing.appraisal.engine`); this module only turns database rows into engine records and stores what the
engine returns, explanation included. Refusals raise :class:`AppraisalFailure` with a Chinese + English message
naming the field or the row, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from kejing.core.audit import record
from kejing.core.models import PolicyDocument
from kejing.core.tabular import TableError, read_table
from kejing.customers.services import CustomerError
from kejing.org.models import OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin

from .engine import AppraisalError, CorpsPolicy, GradeSpell, Review, StaffRecord
from .engine.common import completed_months, fmt, month_start
from .engine.grading import form_total, grade_cm, objection_in_time, publication_window
from .engine.pay import pay_run
from .engine.recruitment import Applicant as EngineApplicant
from .engine.recruitment import (
    check_basic_conditions,
    interview_score,
    rank_candidates,
    score_candidate,
    written_score,
)
from .engine.tables import InputError, read_exams, read_reviews
from .models import (
    Applicant,
    CorpsProfile,
    GradeHistory,
    GradingRound,
    Objection,
    PayLine,
    PayRun,
    PaySlip,
    Posting,
    ReviewForm,
    RoundEntry,
)

LANGS = ("zh", "en")
# The staff record's schooling codes that differ from the corps policy's.
EDUCATION_CODES = {"master": "postgraduate"}


class AppraisalFailure(CustomerError):
    """A refused appraisal write. Subclasses the customer error so the API answers 400 with ``errors`` as well."""


# ----------------------------------------------------------------------------------------------------------------
# Who may do what


def is_committee(user) -> bool:
    """The evaluation committee (评审组) and administrators run competitions, rounds and pay."""
    staff = get_staff(user)
    return is_admin(user) or bool(staff and staff.role == Role.COMMITTEE)


def is_leadership(user) -> bool:
    """Leadership approval of a round: the city marketing center (营销中心) or an administrator."""
    staff = get_staff(user)
    return is_admin(user) or bool(staff and staff.role == Role.CENTER)


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise AppraisalFailure(what)


def _committee(user) -> Staff | None:
    _require(
        is_committee(user), "只有评审组或管理员可以操作 / only the evaluation committee or an administrator may do this"
    )
    return get_staff(user)


def company_of(unit: OrgUnit) -> OrgUnit:
    """The company at the top of ``unit``'s branch (one indexed query, none when ``unit`` is the company)."""
    code = unit.path.strip("/").split("/")[0]
    return unit if unit.code == code else OrgUnit.objects.get(code=code)


def user_company(user, company: OrgUnit | None = None) -> OrgUnit:
    """The company a committee member works for; an administrator may name another one."""
    staff = get_staff(user)
    if company is not None and (is_admin(user) or (staff and company.path == company_of(staff.unit).path)):
        return company
    if staff is None:
        first = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMPANY).first()
        if first is None:
            raise AppraisalFailure("没有公司 / there is no company")
        return first
    return company_of(staff.unit)


# ----------------------------------------------------------------------------------------------------------------
# Policy


def corps_document(industry: str, on: dt.date | None = None) -> PolicyDocument:
    """The corps policy document in force on ``on`` for an industry (loaded by ``kejing setup``)."""
    day = on or timezone.localdate()
    doc = (
        PolicyDocument.objects.filter(industry=industry, name="corps", effective_from__lte=day)
        .order_by("-effective_from", "-loaded_at")
        .first()
    )
    if doc is None:
        raise AppraisalFailure(
            f"{industry} 没有 {day} 生效的评级与薪酬策略 / no corps policy for {industry} in force on {day}"
        )
    return doc


def policy_of(doc: PolicyDocument) -> CorpsPolicy:
    """The checked engine view of a stored policy document (cached per document version and load time)."""
    try:
        return _policy(doc.pk, doc.loaded_at.isoformat(), doc.industry, doc.version)
    except AppraisalError as exc:  # CorpsPolicyError is a ValueError too
        raise AppraisalFailure(f"策略文件有误 / policy error: {exc}") from exc


@lru_cache(maxsize=32)
def _policy(pk: int, loaded: str, industry: str, version: str) -> CorpsPolicy:
    doc = PolicyDocument.objects.get(pk=pk)
    return CorpsPolicy.from_dict(doc.data, source=f"{industry}/corps.toml {version}")


# ----------------------------------------------------------------------------------------------------------------
# Staff record → engine record


def _cert_level(certs: Iterable[Mapping[str, Any]], kind: str, order: tuple[str, ...], on: dt.date) -> str:
    best = ""
    for c in certs or ():
        if c.get("kind") != kind or c.get("level") not in order:
            continue
        obtained = str(c.get("obtained") or "")
        if obtained and obtained[:10] > on.isoformat():
            continue
        if not best or order.index(c["level"]) > order.index(best):
            best = c["level"]
    return best


def staff_record(
    policy: CorpsPolicy,
    staff: Staff,
    on: dt.date,
    grades: Iterable[GradeHistory] = (),
    prior_cm_years: Decimal | None = None,
) -> StaffRecord:
    """The engine's view of a staff member on ``on``.

    Mapping choices (docs/appraisal-web.md): ``major_is_economics`` decides "matching"; certificates held on
    ``on`` count (the best of each kind); years between ``hire_date`` and ``cm_start_date`` count as other
    qualifying work (wholesale outlet or order-taking); earlier CM work comes from the CM profile; the area is
    that of the CM's region unit.
    """
    if staff.cm_start_date is None:
        raise AppraisalFailure({"cm_start_date": f"{staff.name}: 没有任职日期 / has no CM start date"})
    prior_other = Decimal(0)
    if staff.hire_date and staff.hire_date < staff.cm_start_date:
        prior_other = Decimal(completed_months(staff.hire_date, staff.cm_start_date)) / 12
    if prior_cm_years is None:
        profile = getattr(staff, "corps_profile", None) if _has_profile(staff) else None
        prior_cm_years = profile.prior_cm_years if profile else Decimal(0)
    econ_order = tuple(lv for lv in policy.level_codes if lv in policy.grading.education.certificates)
    return StaffRecord(
        staff_id=staff.employee_no,
        name=staff.name,
        cm_start=staff.cm_start_date,
        staff_type=staff.employment_type,
        area=staff.unit.area,
        prior_cm_years=Decimal(prior_cm_years),
        prior_other_years=prior_other,
        education=EDUCATION_CODES.get(staff.education, staff.education),
        major="economics" if staff.major_is_economics else "",
        econ_cert=_cert_level(staff.certificates, "economics", econ_order, on),
        marketer_cert=_cert_level(staff.certificates, "marketer", policy.grading.certificates.levels, on),
        grades=tuple(GradeSpell(g.level, g.tier, g.effective) for g in grades),
    )


def _has_profile(staff: Staff) -> bool:
    try:
        staff.corps_profile  # noqa: B018 - a missing one-to-one raises
    except CorpsProfile.DoesNotExist:
        return False
    return True


def _both(fn) -> dict[str, Any]:
    return {lang: fn(lang) for lang in LANGS}


def _failures(exc: InputError) -> AppraisalFailure:
    return AppraisalFailure({f"{e.file}:{e.row}:{e.column}": e.message for e in exc.errors})


def _table(upload) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        table = read_table(upload, getattr(upload, "name", None))
    except TableError as exc:
        raise AppraisalFailure({"file": str(exc)}) from exc
    return table.header, table.rows


# ----------------------------------------------------------------------------------------------------------------
# Recruitment


@transaction.atomic
def open_posting(user, title: str, posts: int = 1, company: OrgUnit | None = None) -> Posting:
    staff = _committee(user)
    company = user_company(user, company)
    if not title.strip():
        raise AppraisalFailure({"title": "不能为空 / must not be empty"})
    if posts < 1:
        raise AppraisalFailure({"posts": "至少 1 个岗位 / at least one post"})
    doc = corps_document(company.industry)
    p = Posting.objects.create(company=company, title=title.strip(), posts=posts, policy=doc, created_by=staff)
    record(actor=user, action="posting_open", obj=p, changes={"title": [None, p.title], "policy": [None, doc.version]})
    return p


@transaction.atomic
def add_applicant(
    user,
    posting: Posting,
    name: str,
    birth_date: dt.date,
    education: str,
    clean_record: bool = True,
    prior_cm_years: Decimal = Decimal(0),
    staff: Staff | None = None,
) -> Applicant:
    """Register an applicant and check the basic conditions with the engine (the check is stored, either way)."""
    _committee(user)
    _require(posting.status == Posting.Status.OPEN, "竞聘已结束 / the competition is closed")
    policy = policy_of(posting.policy)
    if not name.strip():
        raise AppraisalFailure({"name": "不能为空 / must not be empty"})
    education = EDUCATION_CODES.get(education, education)
    try:
        check = check_basic_conditions(
            policy, EngineApplicant("", name, birth_date, education, clean_record), posting.opened_on
        )
    except AppraisalError as exc:
        raise AppraisalFailure({"education": str(exc)}) from exc
    a = Applicant.objects.create(
        posting=posting,
        name=name.strip(),
        birth_date=birth_date,
        education=education,
        clean_record=clean_record,
        prior_cm_years=prior_cm_years,
        staff=staff,
        conditions_ok=check.ok,
        status=Applicant.Status.APPLIED if check.ok else Applicant.Status.REFUSED,
        explain={"conditions": _both(lambda lang: [ln.text(lang) for ln in check.lines + check.problems])},
    )
    record(actor=user, action="applicant_add", obj=a, changes={"conditions_ok": [None, check.ok]})
    return a


@transaction.atomic
def set_marks(
    user,
    applicant: Applicant,
    written: Mapping[str, Any] | None = None,
    panel: Mapping[str, Any] | None = None,
) -> Applicant:
    """Enter the written-test category marks and/or the panelists' marks; scores once both are complete."""
    _committee(user)
    _require(applicant.conditions_ok, "该报名人不符合基本条件 / this applicant does not meet the basic conditions")
    _require(applicant.status != Applicant.Status.APPOINTED, "已聘任 / already appointed")
    policy = policy_of(applicant.posting.policy)
    before = {"written": applicant.written_marks, "panel": applicant.panel_marks}
    try:
        if written is not None:
            clean = {k: str(v).strip() for k, v in written.items() if str(v).strip() != ""}
            written_score(policy, clean)  # raises on a missing or out-of-range category
            applicant.written_marks = clean
        if panel is not None:
            clean_panel = {str(k).strip(): str(v).strip() for k, v in panel.items() if str(k).strip()}
            for who, mark in clean_panel.items():
                v = Decimal(mark) if mark.replace(".", "", 1).isdigit() else None
                if v is None or not 0 <= v <= policy.recruitment.panel_mark_max:
                    raise AppraisalFailure(
                        {who: f"评分 {mark!r} 无效 / mark {mark!r} is not 0-{policy.recruitment.panel_mark_max}"}
                    )
            interview_score(policy, list(clean_panel.values()))  # raises when the panel is too small
            applicant.panel_marks = clean_panel
    except AppraisalError as exc:
        raise AppraisalFailure({"marks": str(exc)}) from exc
    if applicant.written_marks and applicant.panel_marks:
        c = score_candidate(
            policy, str(applicant.pk), applicant.name, applicant.written_marks, list(applicant.panel_marks.values())
        )
        applicant.written, applicant.interview, applicant.combined = (
            c.written.value,
            c.interview.value,
            c.combined.value,
        )
        applicant.status = Applicant.Status.SCORED
        applicant.explain = {
            **applicant.explain,
            "written": _both(c.written.explain),
            "interview": _both(c.interview.explain),
            "combined": _both(c.combined.explain),
        }
    applicant.save()
    record(
        actor=user,
        action="applicant_marks",
        obj=applicant,
        changes={
            "written": [before["written"], applicant.written_marks],
            "panel": [before["panel"], applicant.panel_marks],
            "combined": [None, applicant.combined],
        },
    )
    _rerank(applicant.posting)
    return applicant


def _rerank(posting: Posting) -> None:
    scored = list(posting.applicants.filter(combined__isnull=False, conditions_ok=True))
    policy = policy_of(posting.policy)
    cands = [score_candidate(policy, str(a.pk), a.name, a.written_marks, list(a.panel_marks.values())) for a in scored]
    by_pk = {str(a.pk): a for a in scored}
    for r in rank_candidates(cands):
        a = by_pk[r.candidate.applicant_id]
        a.rank, a.tied = r.rank, r.tied
    Applicant.objects.bulk_update(scored, ["rank", "tied"])


@transaction.atomic
def import_marks(user, posting: Posting, upload) -> int:
    """Marks from a table: ``name`` (姓名), the written categories by code or Chinese name, and one column per
    panelist headed ``panel:NAME`` (评委:NAME). Every row is checked first; nothing is written if one is wrong."""
    _committee(user)
    policy = policy_of(posting.policy)
    header, rows = _table(upload)
    cats = {c.code: c.code for c in policy.recruitment.categories} | {
        c.zh: c.code for c in policy.recruitment.categories
    }
    by_name = {a.name: a for a in posting.applicants.filter(conditions_ok=True)}
    errors: dict[str, str] = {}
    plan = []
    for number, data in rows:
        name = (data.get("name") or data.get("姓名") or "").strip()
        a = by_name.get(name)
        if a is None:
            errors[f"第 {number} 行 row {number} [name]"] = (
                f"没有符合条件的报名人 {name!r} / no eligible applicant {name!r}"
            )
            continue
        written = {cats[h]: v for h, v in data.items() if h in cats and v != ""}
        panel = {h.split(":", 1)[1]: v for h, v in data.items() if h.startswith(("panel:", "评委:")) and v != ""}
        try:
            if written:
                written_score(policy, written)
            if panel:
                interview_score(policy, list(panel.values()))
        except AppraisalError as exc:
            errors[f"第 {number} 行 row {number}"] = str(exc)
            continue
        plan.append((a, written or None, panel or None))
    if errors:
        raise AppraisalFailure(errors)
    for a, written, panel in plan:
        set_marks(user, a, written, panel)
    return len(plan)


@transaction.atomic
def appoint(user, applicant: Applicant, unit: OrgUnit, start: dt.date, employee_no: str = "") -> Staff:
    """Appoint a ranked applicant as CM of a region unit: create (or update) the staff record with role CM and
    the CM start date, and keep earlier CM work for grading eligibility."""
    _committee(user)
    _require(
        applicant.status == Applicant.Status.SCORED, "只能聘任已评分的报名人 / only a scored applicant can be appointed"
    )
    _require(
        company_of(unit).pk == applicant.posting.company_id and unit.kind == OrgUnit.Kind.UNIT,
        "须选择本公司的区域单元 / choose a region unit of this company",
    )
    from django.contrib.auth.models import User

    staff = applicant.staff
    if staff is None:
        employee_no = employee_no.strip()
        if not employee_no:
            raise AppraisalFailure({"employee_no": "新员工须填写工号 / a new staff member needs an employee no."})
        if (
            Staff.objects.filter(employee_no=employee_no).exists()
            or User.objects.filter(username=employee_no.lower()).exists()
        ):
            raise AppraisalFailure({"employee_no": f"工号 {employee_no} 已存在 / {employee_no} already exists"})
        account = User.objects.create_user(username=employee_no.lower(), first_name=applicant.name)
        account.set_unusable_password()  # an administrator sets a first password; it must then be changed
        account.save()
        staff = Staff.objects.create(
            user=account,
            employee_no=employee_no,
            name=applicant.name,
            unit=unit,
            role=Role.CM,
            hire_date=start,
            cm_start_date=start,
            education={"postgraduate": "master"}.get(applicant.education, applicant.education),
        )
        before: dict[str, Any] = {"role": None, "unit": None, "cm_start_date": None}
    else:
        before = {"role": staff.role, "unit": staff.unit_id, "cm_start_date": staff.cm_start_date}
        staff.role, staff.unit, staff.cm_start_date = Role.CM, unit, start
        staff.save(update_fields=["role", "unit", "cm_start_date"])
    CorpsProfile.objects.update_or_create(staff=staff, defaults={"prior_cm_years": applicant.prior_cm_years})
    applicant.staff, applicant.status = staff, Applicant.Status.APPOINTED
    applicant.save(update_fields=["staff", "status"])
    record(
        actor=user,
        action="cm_appoint",
        obj=staff,
        changes={
            "role": [before["role"], Role.CM],
            "unit": [before["unit"], unit.pk],
            "cm_start_date": [before["cm_start_date"], start],
        },
        note=f"{applicant.posting.title} #{applicant.rank}",
    )
    return staff


# ----------------------------------------------------------------------------------------------------------------
# Grading rounds


def round_policy(rnd: GradingRound) -> CorpsPolicy:
    return policy_of(rnd.policy)


@transaction.atomic
def open_round(user, name: str, held_on: dt.date, company: OrgUnit | None = None) -> GradingRound:
    """Open a round for every active CM of the company, recording the policy version in force on ``held_on``."""
    staff = _committee(user)
    company = user_company(user, company)
    if not name.strip():
        raise AppraisalFailure({"name": "不能为空 / must not be empty"})
    doc = corps_document(company.industry, held_on)
    rnd = GradingRound.objects.create(company=company, name=name.strip(), held_on=held_on, policy=doc, created_by=staff)
    cms = Staff.objects.filter(
        role=Role.CM, active=True, cm_start_date__isnull=False, unit__path__startswith=company.path
    ).select_related("unit")
    RoundEntry.objects.bulk_create([RoundEntry(round=rnd, staff=s) for s in cms])
    for entry in rnd.entries.select_related("staff", "staff__unit", "staff__corps_profile"):
        compute_entry(entry, round_policy(rnd))
    record(
        actor=user,
        action="round_open",
        obj=rnd,
        changes={"status": [None, rnd.status], "policy": [None, f"{doc.industry}/corps {doc.version}"]},
        note=f"{cms.count()} CMs",
    )
    return rnd


def compute_entry(entry: RoundEntry, policy: CorpsPolicy, reviews: list[ReviewForm] | None = None) -> RoundEntry:
    """Run the engine over one entry and store scores, proposal and explanation (both languages)."""
    rnd = entry.round
    if reviews is None:
        reviews = list(entry.reviews.all())
    forms = [Review(r.group, r.score, r.reviewer, r.items) for r in reviews]
    try:
        rec = staff_record(policy, entry.staff, rnd.held_on)
        result = grade_cm(policy, rec, forms, entry.exam_mark, rnd.held_on)
    except AppraisalError as exc:
        entry.status, entry.eligible = "incomplete", True
        entry.basic = entry.exam = entry.review = entry.total = None
        entry.level = entry.tier = ""
        entry.result = {lang: {"problems": [str(exc)]} for lang in LANGS}
    else:
        entry.status = result.status
        entry.eligible = result.eligibility.ok
        entry.basic = result.basic.total.value
        entry.exam = result.exam.value if result.exam else None
        entry.review = result.review.total.value if result.review else None
        entry.total = result.total.value if result.total else None
        entry.level, entry.tier = result.level or "", result.tier or ""
        entry.result = _both(lambda lang: result.as_dict(policy, lang))
    entry.save()
    return entry


def _editable(entry: RoundEntry) -> None:
    rnd = entry.round
    if rnd.status == GradingRound.Status.OPEN:
        return
    if (
        rnd.status == GradingRound.Status.PUBLISHED
        and entry.objections.filter(outcome=Objection.Outcome.PENDING).exists()
    ):
        return  # a recheck may correct the marks of the CM who objected
    raise AppraisalFailure(
        "评级已结束录入;只有提出异议且正在复核的人员可以修改 / the round no longer takes marks, except for a CM "
        "whose objection is being rechecked"
    )


@transaction.atomic
def set_exam(user, entry: RoundEntry, mark: Any) -> RoundEntry:
    _committee(user)
    _editable(entry)
    policy = round_policy(entry.round)
    try:
        value = None if mark in (None, "") else Decimal(str(mark).strip())
    except ArithmeticError:
        raise AppraisalFailure({"exam_mark": f"{mark!r} 不是数字 / is not a number"}) from None
    if value is not None and not 0 <= value <= policy.grading.exam.paper_max:
        raise AppraisalFailure(
            {"exam_mark": f"须在 0–{policy.grading.exam.paper_max} 之间 / must be 0–{policy.grading.exam.paper_max}"}
        )
    before = entry.exam_mark
    entry.exam_mark = value
    compute_entry(entry, policy)
    record(
        actor=user, action="grade_exam", obj=entry, changes={"exam_mark": [before, value], "total": [None, entry.total]}
    )
    return entry


@transaction.atomic
def add_review(
    user, entry: RoundEntry, group: str, items: Mapping[str, Any] | None = None, score: Any = None, reviewer: str = ""
) -> ReviewForm:
    """One review form, given item by item (the ten items, each within its maximum) or as a total."""
    staff = _committee(user)
    _editable(entry)
    policy = round_policy(entry.round)
    if group not in {g.code for g in policy.grading.review.groups}:
        raise AppraisalFailure({"group": f"未知评议组 {group!r} / unknown reviewer group {group!r}"})
    reviewer = (reviewer or "").strip()
    if reviewer and entry.reviews.filter(group=group, reviewer=reviewer).exists():
        raise AppraisalFailure({"reviewer": f"{reviewer} 已评议过 / {reviewer} already reviewed this CM in this group"})
    clean: dict[str, str] = {}
    try:
        if items:
            clean = {k: str(v).strip() for k, v in items.items()}
            total = form_total(policy, clean)
            if score not in (None, "") and Decimal(str(score)) != total:
                raise AppraisalFailure(
                    {"score": f"得分 {score} 与各项合计 {total} 不符 / score differs from the item total {total}"}
                )
        elif score not in (None, ""):
            total = Decimal(str(score).strip())
            if not 0 <= total <= policy.grading.review.form_max:
                raise AppraisalFailure({"score": f"须在 0–{policy.grading.review.form_max} 之间 / out of range"})
        else:
            raise AppraisalFailure({"score": "须填写各项得分或总分 / give the item marks or the total"})
    except (AppraisalError, ArithmeticError) as exc:
        raise AppraisalFailure({"items": str(exc)}) from exc
    form = ReviewForm.objects.create(
        entry=entry, group=group, reviewer=reviewer, items=clean, score=total, entered_by=staff
    )
    before = entry.total
    compute_entry(entry, policy)
    record(
        actor=user,
        action="grade_review",
        obj=entry,
        changes={f"review:{group}": [None, fmt(total)], "total": [before, entry.total]},
        note=reviewer,
    )
    return form


@transaction.atomic
def remove_review(user, form: ReviewForm) -> None:
    _committee(user)
    entry = form.entry
    _editable(entry)
    score, group = form.score, form.group
    form.delete()
    before = entry.total
    compute_entry(entry, round_policy(entry.round))
    record(
        actor=user,
        action="grade_review_remove",
        obj=entry,
        changes={f"review:{group}": [score, None], "total": [before, entry.total]},
    )


def _entries_by_no(rnd: GradingRound) -> dict[str, RoundEntry]:
    return {e.staff.employee_no: e for e in rnd.entries.select_related("staff", "staff__unit")}


@transaction.atomic
def import_exams(user, rnd: GradingRound, upload) -> int:
    """Exam marks from a table (工号 staff_id, 成绩 score); all rows are checked before any is written."""
    _committee(user)
    _require(rnd.status == GradingRound.Status.OPEN, "评级已结束录入 / the round no longer takes marks")
    policy = round_policy(rnd)
    entries = _entries_by_no(rnd)
    try:
        marks = read_exams(policy, *_table(upload), set(entries), getattr(upload, "name", "exams"))
    except InputError as exc:
        raise _failures(exc) from exc
    for no, mark in marks.items():
        set_exam(user, entries[no], mark)
    return len(marks)


@transaction.atomic
def import_reviews(user, rnd: GradingRound, upload) -> int:
    """Review forms from a table (工号, 评议组, 评议人, 得分 or the ten item columns)."""
    _committee(user)
    _require(rnd.status == GradingRound.Status.OPEN, "评级已结束录入 / the round no longer takes marks")
    policy = round_policy(rnd)
    entries = _entries_by_no(rnd)
    try:
        forms = read_reviews(policy, *_table(upload), set(entries), getattr(upload, "name", "reviews"))
    except InputError as exc:
        raise _failures(exc) from exc
    n = 0
    for no, reviews in forms.items():
        for r in reviews:
            add_review(user, entries[no], r.group, dict(r.items) or None, r.score, r.reviewer)
            n += 1
    return n


@transaction.atomic
def close_round(user, rnd: GradingRound) -> GradingRound:
    """Compute every entry and close the scores. Refused while an eligible CM lacks his exam mark or a reviewer
    group is short of forms (customers: fewer than 10); the message names each CM and what is missing."""
    _committee(user)
    _require(rnd.status == GradingRound.Status.OPEN, "该评级不在录入阶段 / the round is not collecting scores")
    policy = round_policy(rnd)
    entries = list(
        rnd.entries.select_related("staff", "staff__unit", "staff__corps_profile").prefetch_related("reviews")
    )
    problems = {}
    for e in entries:
        compute_entry(e, policy, list(e.reviews.all()))
        if e.eligible and e.status != "complete":
            problems[e.staff.employee_no] = (
                "; ".join(e.result["zh"].get("problems", [])) + " / " + "; ".join(e.result["en"].get("problems", []))
            )
    if problems:
        raise AppraisalFailure(problems)
    rnd.status = GradingRound.Status.CLOSED
    rnd.save(update_fields=["status"])
    record(actor=user, action="round_close", obj=rnd, changes={"status": ["open", rnd.status]})
    return rnd


@transaction.atomic
def publish_round(user, rnd: GradingRound, on: dt.date | None = None) -> GradingRound:
    _committee(user)
    _require(rnd.status == GradingRound.Status.CLOSED, "须先结束评分 / close the scores first")
    rnd.status, rnd.published_on = GradingRound.Status.PUBLISHED, on or timezone.localdate()
    rnd.save(update_fields=["status", "published_on"])
    record(
        actor=user,
        action="round_publish",
        obj=rnd,
        changes={"status": ["closed", rnd.status], "published_on": [None, rnd.published_on]},
    )
    return rnd


def window(rnd: GradingRound) -> tuple[dt.date, dt.date] | None:
    if rnd.published_on is None:
        return None
    return publication_window(round_policy(rnd), rnd.published_on)


@transaction.atomic
def file_objection(user, entry: RoundEntry, reason: str, on: dt.date | None = None) -> Objection:
    """A CM objects to his own published total; accepted only inside the publication window."""
    staff = get_staff(user)
    _require(
        staff is not None and staff.pk == entry.staff_id,
        "只能对本人的成绩提出异议 / you may object only to your own total",
    )
    rnd = entry.round
    day = on or timezone.localdate()
    _require(rnd.status == GradingRound.Status.PUBLISHED, "成绩未在公示中 / the totals are not on publication")
    if not objection_in_time(round_policy(rnd), rnd.published_on, day):
        first, last = window(rnd)
        raise AppraisalFailure(f"公示期为 {first} 至 {last},已过 / the objection window was {first} to {last}")
    if not reason.strip():
        raise AppraisalFailure({"reason": "请写明异议理由 / give the reason"})
    obj = Objection.objects.create(
        entry=entry, filed_by=staff, filed_on=day, reason=reason.strip()[:500], total_before=entry.total
    )
    record(actor=user, action="grade_objection", obj=obj, changes={"outcome": [None, obj.outcome]}, note=obj.reason)
    return obj


@transaction.atomic
def recheck(user, objection: Objection, upheld: bool, note: str, exam_mark: Any = None) -> Objection:
    """Record the committee's recheck: upheld (a corrected exam mark may be given; review forms can be corrected
    before this while the objection is pending) or rejected. The entry is recomputed either way."""
    staff = _committee(user)
    _require(objection.outcome == Objection.Outcome.PENDING, "该异议已复核 / this objection was already rechecked")
    if not note.strip():
        raise AppraisalFailure({"note": "请记录复核结果 / record what the recheck found"})
    entry = objection.entry
    if upheld and exam_mark not in (None, ""):
        set_exam(user, entry, exam_mark)
    before = objection.total_before
    compute_entry(entry, round_policy(entry.round))
    objection.outcome = Objection.Outcome.UPHELD if upheld else Objection.Outcome.REJECTED
    objection.note = note.strip()[:500]
    objection.total_after = entry.total
    objection.decided_by, objection.decided_at = staff, timezone.now()
    objection.save()
    record(
        actor=user,
        action="grade_recheck",
        obj=objection,
        changes={"outcome": ["pending", objection.outcome], "total": [before, entry.total]},
        note=objection.note,
    )
    return objection


@transaction.atomic
def approve_round(user, rnd: GradingRound, effective_month: dt.date, on: dt.date | None = None) -> list[GradeHistory]:
    """Leadership approval after the publication window with no objection left open: each proposed grade goes
    into the CM's grade history from ``effective_month`` (pay uses it from that month)."""
    _require(
        is_leadership(user), "只有营销中心领导或管理员可以审批 / only the marketing center or an administrator approves"
    )
    staff = get_staff(user)
    _require(rnd.status == GradingRound.Status.PUBLISHED, "成绩尚未公示 / the totals have not been published")
    day = on or timezone.localdate()
    first, last = window(rnd)
    if day <= last:
        raise AppraisalFailure(
            f"公示期到 {last} 为止,之后才能审批 / approval is possible after the window ends on {last}"
        )
    if Objection.objects.filter(entry__round=rnd, outcome=Objection.Outcome.PENDING).exists():
        raise AppraisalFailure("还有异议未复核 / an objection is still waiting for its recheck")
    month = month_start(effective_month)
    rows = []
    for e in rnd.entries.select_related("staff").exclude(level=""):
        g = GradeHistory.objects.create(
            staff=e.staff, level=e.level, tier=e.tier, effective=month, round=rnd, approved_by=staff
        )
        record(
            actor=user,
            action="grade_effective",
            obj=e.staff,
            changes={"grade": [None, f"{e.level}-{e.tier}"], "effective": [None, month]},
            note=rnd.name,
            approved_by=user,
        )
        rows.append(g)
    rnd.status, rnd.approved_on, rnd.approved_by, rnd.effective_month = GradingRound.Status.APPROVED, day, staff, month
    rnd.save(update_fields=["status", "approved_on", "approved_by", "effective_month"])
    record(
        actor=user,
        action="round_approve",
        obj=rnd,
        changes={"status": ["published", rnd.status], "effective_month": [None, month]},
    )
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Pay


@transaction.atomic
def run_pay(user, month: dt.date, company: OrgUnit | None = None, reading: str | None = None) -> PayRun:
    """Compute and store one month's pay of every active CM of the company. Re-running a month replaces the
    stored run and the audit record keeps the totals before and after."""
    staff = _committee(user)
    company = user_company(user, company)
    first = month_start(month)
    doc = corps_document(company.industry, first)
    policy = policy_of(doc)
    reading = reading or policy.pay.seniority.reading
    if reading not in ("marginal", "flat"):
        raise AppraisalFailure({"reading": "须为 marginal 或 flat / must be marginal or flat"})
    cms = list(
        Staff.objects.filter(
            role=Role.CM, active=True, cm_start_date__isnull=False, unit__path__startswith=company.path
        )
        .select_related("unit", "corps_profile")
        .prefetch_related("grade_history")
        .order_by("employee_no")
    )
    records = [staff_record(policy, s, first, s.grade_history.all()) for s in cms]
    try:
        slips = pay_run(policy, records, first, reading)
    except AppraisalError as exc:
        raise AppraisalFailure(str(exc)) from exc
    old = PayRun.objects.filter(company=company, month=first).first()
    before = old.total if old else None
    if old:
        old.delete()
    total = sum((s.total for s in slips), Decimal("0.00"))
    run = PayRun.objects.create(
        company=company, month=first, policy=doc, seniority_reading=reading, total=total, created_by=staff
    )
    db_slips = PaySlip.objects.bulk_create(
        [
            PaySlip(
                run=run,
                staff=s,
                unit=s.unit,
                staff_type=p.staff_type,
                area=p.area,
                level=p.level,
                tier=p.tier,
                paid_tier=p.paid_tier,
                grade_from=p.grade_from,
                paid=p.paid,
                total=p.total,
                notes=_both(lambda lang, p=p: [n.text(lang) for n in p.notes]),
            )
            for s, p in zip(cms, slips, strict=True)
        ]
    )
    PayLine.objects.bulk_create(
        [
            PayLine(
                slip=ds,
                code=pl.code,
                amount=pl.amount,
                explain=_both(lambda lang, pl=pl: [ln.text(lang) for ln in pl.lines]),
            )
            for ds, p in zip(db_slips, slips, strict=True)
            for pl in p.lines
        ]
    )
    record(
        actor=user,
        action="pay_rerun" if old else "pay_run",
        obj=run,
        changes={"total": [before, total], "slips": [None, len(slips)], "policy": [None, doc.version]},
        note=f"{company.code} {first:%Y-%m} {reading}",
    )
    return run
