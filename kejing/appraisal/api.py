"""Appraisal (考核) API, mounted at ``/api/appraisal/``: grading rounds, review forms, objections, pay and KPIs.

The rules are computed by the pure-Python package :mod:`kejing.appraisal.engine` (also behind ``kejing grade`` /
``kejing pay``); writes go through :mod:`.services` and reads through :mod:`.selectors`, so the API refuses and
hides exactly what the pages do (another CM's entry or payslip is a 404). Bodies of routes with an id have
defaults on every field so that a missing object is reported as 404 before the body is checked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from ninja import Router, Schema, Status

from kejing.org.scoping import get_staff

from . import services
from .engine.common import AppraisalError, parse_month
from .kpi import scorecards
from .models import GradingRound, Objection, RoundEntry
from .selectors import kpi_staff, my_company, visible_entries, visible_payslips, visible_rounds
from .services import AppraisalFailure, is_committee, is_leadership

router = Router(tags=["appraisal"])


def _lang(request) -> str:
    q = request.GET.get("lang")
    if q in ("zh", "en"):
        return q
    return "zh" if (get_language() or "zh").startswith("zh") else "en"


def _404_unless(ok: bool) -> None:
    if not ok:
        from django.http import Http404

        raise Http404


class RoundOut(Schema):
    id: int
    name: str
    held_on: dt.date
    status: str
    policy_version: str
    published_on: dt.date | None
    window_end: dt.date | None
    effective_month: dt.date | None


class RoundIn(Schema):
    name: str
    held_on: dt.date


class EntryOut(Schema):
    id: int
    round_id: int
    employee_no: str
    name: str
    status: str
    eligible: bool
    exam_mark: Decimal | None
    basic: Decimal | None
    exam: Decimal | None
    review: Decimal | None
    total: Decimal | None
    level: str
    tier: str
    result: dict[str, Any]


class ReviewIn(Schema):
    group: str = ""
    reviewer: str = ""
    score: Decimal | None = None
    items: dict[str, Decimal] | None = None


class ExamIn(Schema):
    exam_mark: Decimal | None = None


class ApproveIn(Schema):
    effective_month: str = ""


class ObjectionIn(Schema):
    reason: str = ""


class RecheckIn(Schema):
    upheld: bool = False
    note: str = ""
    exam_mark: Decimal | None = None


class ObjectionOut(Schema):
    id: int
    entry_id: int
    filed_on: dt.date
    reason: str
    outcome: str
    note: str
    total_before: Decimal | None
    total_after: Decimal | None


class PayRunIn(Schema):
    month: str
    reading: str | None = None


class PayLineOut(Schema):
    code: str
    amount: Decimal
    explain: list[str]


class PaySlipOut(Schema):
    id: int
    month: str
    employee_no: str
    name: str
    unit: str
    staff_type: str
    area: str
    level: str
    tier: str
    paid_tier: str
    total: Decimal
    lines: list[PayLineOut]
    notes: list[str]


class PayRunOut(Schema):
    id: int
    month: str
    total: Decimal
    slips: int
    seniority_reading: str
    policy_version: str


class KpiCellOut(Schema):
    month: str
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal


class KpiRowOut(Schema):
    code: str
    label: str
    available: bool
    unit: str
    target: Decimal | None
    months: list[KpiCellOut]


class KpiOut(Schema):
    staff_id: int | None
    name: str
    rows: list[KpiRowOut]


def _round(r: GradingRound) -> dict:
    win = services.window(r)
    return {
        "id": r.pk,
        "name": r.name,
        "held_on": r.held_on,
        "status": r.status,
        "policy_version": r.policy.version,
        "published_on": r.published_on,
        "window_end": win[1] if win else None,
        "effective_month": r.effective_month,
    }


def _entry(e: RoundEntry, lang: str) -> dict:
    return {
        "id": e.pk,
        "round_id": e.round_id,
        "employee_no": e.staff.employee_no,
        "name": e.staff.name,
        "status": e.status,
        "eligible": e.eligible,
        "exam_mark": e.exam_mark,
        "basic": e.basic,
        "exam": e.exam,
        "review": e.review,
        "total": e.total,
        "level": e.level,
        "tier": e.tier,
        "result": e.result.get(lang, {}),
    }


def _objection(o: Objection) -> dict:
    return {
        "id": o.pk,
        "entry_id": o.entry_id,
        "filed_on": o.filed_on,
        "reason": o.reason,
        "outcome": o.outcome,
        "note": o.note,
        "total_before": o.total_before,
        "total_after": o.total_after,
    }


def _slip(s, lang: str) -> dict:
    return {
        "id": s.pk,
        "month": s.run.month.strftime("%Y-%m"),
        "employee_no": s.staff.employee_no,
        "name": s.staff.name,
        "unit": s.unit.name,
        "staff_type": s.staff_type,
        "area": s.area,
        "level": s.level,
        "tier": s.tier,
        "paid_tier": s.paid_tier,
        "total": s.total,
        "lines": [{"code": ln.code, "amount": ln.amount, "explain": ln.explain.get(lang, [])} for ln in s.lines.all()],
        "notes": s.notes.get(lang, []),
    }


# ----------------------------------------------------------------------------------------------------------------
# Grading


@router.get("/rounds", response=list[RoundOut], summary="Grading rounds of my company")
def list_rounds(request):
    return [_round(r) for r in visible_rounds(request.user)]


@router.post("/rounds", response={201: RoundOut}, summary="Open a grading round (committee)")
def open_round(request, body: RoundIn):
    return Status(201, _round(services.open_round(request.user, body.name, body.held_on)))


@router.get("/rounds/{round_id}/entries", response=list[EntryOut], summary="Entries of a round I may see")
def round_entries(request, round_id: int):
    rnd = get_object_or_404(visible_rounds(request.user), pk=round_id)
    lang = _lang(request)
    return [_entry(e, lang) for e in visible_entries(request.user).filter(round=rnd)]


@router.post("/rounds/{round_id}/close", response=RoundOut, summary="Close the scores (committee)")
def close_round(request, round_id: int):
    _404_unless(is_committee(request.user))
    rnd = get_object_or_404(visible_rounds(request.user), pk=round_id)
    return _round(services.close_round(request.user, rnd))


@router.post("/rounds/{round_id}/publish", response=RoundOut, summary="Publish the totals (committee)")
def publish_round(request, round_id: int):
    _404_unless(is_committee(request.user))
    rnd = get_object_or_404(visible_rounds(request.user), pk=round_id)
    return _round(services.publish_round(request.user, rnd))


@router.post("/rounds/{round_id}/approve", response=RoundOut, summary="Leadership approval; grades take effect")
def approve_round(request, round_id: int, body: ApproveIn):
    _404_unless(is_leadership(request.user))
    rnd = get_object_or_404(visible_rounds(request.user), pk=round_id)
    try:
        month = parse_month(body.effective_month)
    except AppraisalError as exc:
        raise AppraisalFailure({"effective_month": str(exc)}) from exc
    services.approve_round(request.user, rnd, month)
    rnd.refresh_from_db()
    return _round(rnd)


@router.get("/entries/{entry_id}", response=EntryOut, summary="One CM's scores with explanations")
def get_entry(request, entry_id: int):
    return _entry(get_object_or_404(visible_entries(request.user), pk=entry_id), _lang(request))


@router.post("/entries/{entry_id}/exam", response=EntryOut, summary="Set the exam paper mark (committee)")
def set_exam(request, entry_id: int, body: ExamIn):
    _404_unless(is_committee(request.user))
    e = get_object_or_404(visible_entries(request.user), pk=entry_id)
    return _entry(services.set_exam(request.user, e, body.exam_mark), _lang(request))


@router.post("/entries/{entry_id}/reviews", response={201: EntryOut}, summary="Add a review form (committee)")
def add_review(request, entry_id: int, body: ReviewIn):
    _404_unless(is_committee(request.user))
    e = get_object_or_404(visible_entries(request.user), pk=entry_id)
    services.add_review(request.user, e, body.group, body.items, body.score, body.reviewer)
    e.refresh_from_db()
    return Status(201, _entry(e, _lang(request)))


@router.post("/entries/{entry_id}/objections", response={201: ObjectionOut}, summary="Object to my published total")
def file_objection(request, entry_id: int, body: ObjectionIn):
    e = get_object_or_404(visible_entries(request.user), pk=entry_id)
    me = get_staff(request.user)
    _404_unless(me is not None and me.pk == e.staff_id)
    return Status(201, _objection(services.file_objection(request.user, e, body.reason)))


@router.post("/objections/{objection_id}/recheck", response=ObjectionOut, summary="Record a recheck (committee)")
def recheck(request, objection_id: int, body: RecheckIn):
    _404_unless(is_committee(request.user))
    o = get_object_or_404(Objection.objects.filter(entry__in=visible_entries(request.user)), pk=objection_id)
    return _objection(services.recheck(request.user, o, body.upheld, body.note, body.exam_mark))


# ----------------------------------------------------------------------------------------------------------------
# Pay


@router.post("/pay-runs", response={201: PayRunOut}, summary="Compute (or recompute) a month's pay (committee)")
def run_pay(request, body: PayRunIn):
    try:
        month = parse_month(body.month)
    except AppraisalError as exc:
        raise AppraisalFailure({"month": str(exc)}) from exc
    run = services.run_pay(request.user, month, reading=body.reading)
    return Status(
        201,
        {
            "id": run.pk,
            "month": run.month.strftime("%Y-%m"),
            "total": run.total,
            "slips": run.slips.count(),
            "seniority_reading": run.seniority_reading,
            "policy_version": run.policy.version,
        },
    )


@router.get("/payslips", response=list[PaySlipOut], summary="Payslips I may see (a CM: his own)")
def list_payslips(request, month: str = ""):
    qs = visible_payslips(request.user).prefetch_related("lines").order_by("-run__month", "staff__employee_no")
    if month:
        try:
            qs = qs.filter(run__month=parse_month(month))
        except AppraisalError as exc:
            raise AppraisalFailure({"month": str(exc)}) from exc
    lang = _lang(request)
    return [_slip(s, lang) for s in qs[:2000]]


@router.get("/payslips/{payslip_id}", response=PaySlipOut, summary="One payslip with the reason for each line")
def get_payslip(request, payslip_id: int):
    s = get_object_or_404(visible_payslips(request.user).prefetch_related("lines"), pk=payslip_id)
    return _slip(s, _lang(request))


# ----------------------------------------------------------------------------------------------------------------
# KPIs


def _kpi(rows, months, lang) -> list[dict]:
    return [
        {
            "code": r.definition.code,
            "label": r.definition.label(lang),
            "available": r.definition.available,
            "unit": r.definition.unit,
            "target": r.definition.target,
            "months": [
                {"month": m.strftime("%Y-%m"), "value": c.value, "numerator": c.tally.num, "denominator": c.tally.den}
                for m, c in zip(months, r.cells, strict=True)
            ],
        }
        for r in rows
    ]


@router.get("/kpi", response=KpiOut, summary="Scorecard of my team (a CM: his own)")
def team_kpi(request, month: str = ""):
    day = parse_month(month) if month else dt.date.today().replace(day=1)
    cms = list(kpi_staff(request.user).select_related("unit"))
    me = get_staff(request.user)
    company = my_company(request.user)
    card = scorecards(company.industry if company else "tobacco", cms, day)
    return {
        "staff_id": me.pk if me and me.role == "cm" else None,
        "name": me.name if me else "",
        "rows": _kpi(card.rows, card.months, _lang(request)),
    }


@router.get("/kpi/{staff_id}", response=KpiOut, summary="One CM's scorecard")
def cm_kpi(request, staff_id: int, month: str = ""):
    cm = get_object_or_404(kpi_staff(request.user).select_related("unit"), pk=staff_id)
    day = parse_month(month) if month else dt.date.today().replace(day=1)
    card = scorecards(cm.unit.industry, [cm], day)
    return {"staff_id": cm.pk, "name": cm.name, "rows": _kpi(card.per_cm[cm.pk], card.months, _lang(request))}
