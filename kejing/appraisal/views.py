"""Pages of the appraisal module: competitions, grading rounds, review entry, objections, pay sheets, payslips and
scorecards. Views are thin: reads through :mod:`.selectors` (another CM's object is a 404), writes through
:mod:`.services` (errors shown on the page, nothing half-written)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kejing.core.exports import table_response
from kejing.org.models import MANAGER_ROLES, OrgUnit, Role
from kejing.org.scoping import get_staff, is_admin, unit_scope

from . import services
from .charts import bar_chart
from .engine.common import AppraisalError, parse_month
from .engine.pay import LINE_CODES
from .kpi import scorecards
from .models import Applicant, GradeHistory, GradingRound, Objection, RoundEntry
from .selectors import (
    kpi_staff,
    my_company,
    visible_entries,
    visible_payslips,
    visible_postings,
    visible_rounds,
)
from .services import AppraisalFailure, is_committee, is_leadership


def _lang() -> str:
    return "zh" if (get_language() or "zh").startswith("zh") else "en"


def _errors(request, exc: AppraisalFailure) -> None:
    for k, v in exc.errors.items():
        messages.error(request, v if k == "__all__" else f"{k}: {v}")


def _month(request, default: dt.date | None = None) -> dt.date:
    text = request.GET.get("month") or request.POST.get("month") or ""
    if text:
        try:
            return parse_month(text)
        except AppraisalError:
            pass
    return default or timezone.localdate().replace(day=1)


# ----------------------------------------------------------------------------------------------------------------
# My appraisal (a CM's own page)


@login_required
def me(request):
    staff = get_staff(request.user)
    if staff is None:
        raise Http404
    entries = visible_entries(request.user).filter(staff=staff).order_by("-round__held_on")
    grades = GradeHistory.objects.filter(staff=staff).select_related("round")
    slips = visible_payslips(request.user).filter(staff=staff).order_by("-run__month")[:12]
    policy = None
    try:
        policy = services.policy_of(services.corps_document(staff.industry))
    except AppraisalFailure:
        pass
    lang = _lang()
    grade_rows = [(g, policy.grade_label(g.level, g.tier, lang) if policy else f"{g.level}-{g.tier}") for g in grades]
    return render(request, "appraisal/me.html", {"entries": entries, "grades": grade_rows, "slips": slips})


# ----------------------------------------------------------------------------------------------------------------
# Grading rounds


@login_required
def round_list(request):
    if not (is_committee(request.user) or is_leadership(request.user)):
        raise Http404
    if request.method == "POST":
        try:
            held = dt.date.fromisoformat(request.POST.get("held_on", ""))
        except ValueError:
            messages.error(request, _("Enter a valid date."))
        else:
            try:
                rnd = services.open_round(request.user, request.POST.get("name", ""), held)
            except AppraisalFailure as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Round opened."))
                return redirect("appraisal_round", pk=rnd.pk)
    rounds = visible_rounds(request.user).annotate(n=Count("entries"))
    return render(
        request,
        "appraisal/rounds.html",
        {"rounds": rounds, "can_open": is_committee(request.user), "today": timezone.localdate().isoformat()},
    )


def _entry_rows(entries, policy, lang):
    rows = []
    for e in entries:
        res = e.result.get(lang, {})
        rows.append(
            {
                "e": e,
                "res": res,
                "grade": policy.grade_label(e.level, e.tier, lang) if e.level else "",
                "counts": {g.code: 0 for g in policy.grading.review.groups},
            }
        )
    return rows


@login_required
def round_detail(request, pk: int):
    if not (is_committee(request.user) or is_leadership(request.user)):
        raise Http404
    rnd = get_object_or_404(visible_rounds(request.user), pk=pk)
    policy = services.round_policy(rnd)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "close":
                services.close_round(request.user, rnd)
                messages.success(request, _("Scores closed."))
            elif action == "publish":
                services.publish_round(request.user, rnd)
                messages.success(request, _("Totals published."))
            elif action == "approve":
                month = parse_month(request.POST.get("effective_month", ""))
                services.approve_round(request.user, rnd, month)
                messages.success(request, _("Round approved; the grades take effect."))
            elif action == "import_exams" and request.FILES.get("file"):
                n = services.import_exams(request.user, rnd, request.FILES["file"])
                messages.success(request, _("%(n)d exam marks imported.") % {"n": n})
            elif action == "import_reviews" and request.FILES.get("file"):
                n = services.import_reviews(request.user, rnd, request.FILES["file"])
                messages.success(request, _("%(n)d review forms imported.") % {"n": n})
            else:
                messages.error(request, _("Nothing to do."))
        except AppraisalFailure as exc:
            _errors(request, exc)
        except AppraisalError as exc:
            messages.error(request, str(exc))
        return redirect("appraisal_round", pk=rnd.pk)
    lang = _lang()
    entries = rnd.entries.select_related("staff", "staff__unit")
    counts = {}
    for entry_id, group, n in (
        RoundEntry.objects.filter(round=rnd).values_list("pk", "reviews__group").annotate(n=Count("reviews"))
    ):
        if group:
            counts.setdefault(entry_id, {})[group] = n
    rows = _entry_rows(entries, policy, lang)
    for r in rows:
        r["counts"].update(counts.get(r["e"].pk, {}))
        r["group_counts"] = [(g.label(lang), r["counts"][g.code], g.min_reviews) for g in policy.grading.review.groups]
    if request.GET.get("export"):
        groups = [g for g in policy.grading.review.groups]
        return table_response(
            "grading",
            [
                _("Employee no."),
                _("Customer manager"),
                _("Region unit"),
                _("Status"),
                _("Basic conditions"),
                _("Exam"),
                _("Review"),
                _("Total"),
                _("Proposed grade"),
            ]
            + [g.label(lang) for g in groups],
            (
                [
                    r["e"].staff.employee_no,
                    r["e"].staff.name,
                    r["e"].staff.unit.name,
                    r["e"].status,
                    r["e"].basic,
                    r["e"].exam,
                    r["e"].review,
                    r["e"].total,
                    r["grade"],
                ]
                + [r["counts"].get(g.code, 0) for g in groups]
                for r in rows
            ),
            fmt=request.GET["export"],
        )
    win = services.window(rnd)
    return render(
        request,
        "appraisal/round.html",
        {
            "rnd": rnd,
            "rows": rows,
            "groups": [(g.code, g.label(lang), g.min_reviews) for g in policy.grading.review.groups],
            "window": win,
            "committee": is_committee(request.user),
            "leadership": is_leadership(request.user),
            "pending": Objection.objects.filter(entry__round=rnd, outcome=Objection.Outcome.PENDING).count(),
            "next_month": (timezone.localdate().replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m"),
        },
    )


@login_required
def round_public(request, pk: int):
    """The published totals, for every staff member of the company (the manual's 3-day publication)."""
    rnd = get_object_or_404(
        visible_rounds(request.user).filter(status__in=[GradingRound.Status.PUBLISHED, GradingRound.Status.APPROVED]),
        pk=pk,
    )
    policy = services.round_policy(rnd)
    lang = _lang()
    entries = rnd.entries.select_related("staff", "staff__unit").order_by("-total", "staff__employee_no")
    me_staff = get_staff(request.user)
    return render(
        request,
        "appraisal/public.html",
        {"rnd": rnd, "rows": _entry_rows(entries, policy, lang), "window": services.window(rnd), "me_staff": me_staff},
    )


@login_required
def entry_detail(request, pk: int):
    entry = get_object_or_404(visible_entries(request.user), pk=pk)
    policy = services.round_policy(entry.round)
    lang = _lang()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "exam":
                services.set_exam(request.user, entry, request.POST.get("exam_mark"))
                messages.success(request, _("Exam mark saved."))
            elif action == "objection":
                services.file_objection(request.user, entry, request.POST.get("reason", ""))
                messages.success(request, _("Objection filed; the committee will recheck."))
            elif action == "recheck":
                obj = get_object_or_404(Objection, pk=request.POST.get("objection") or 0, entry=entry)
                services.recheck(
                    request.user,
                    obj,
                    request.POST.get("upheld") == "1",
                    request.POST.get("note", ""),
                    request.POST.get("exam_mark"),
                )
                messages.success(request, _("Recheck recorded."))
            elif action == "remove_review":
                form = get_object_or_404(entry.reviews, pk=request.POST.get("review") or 0)
                services.remove_review(request.user, form)
                messages.success(request, _("Review form removed."))
            else:
                messages.error(request, _("Nothing to do."))
        except AppraisalFailure as exc:
            _errors(request, exc)
        return redirect("appraisal_entry", pk=entry.pk)
    res = entry.result.get(lang, {})
    committee = is_committee(request.user)
    reviews = list(entry.reviews.all()) if committee else []
    groups = []
    review_res = (res.get("review") or {}).get("groups", {})
    counts: dict[str, int] = {}
    for r in entry.reviews.values_list("group", flat=True):
        counts[r] = counts.get(r, 0) + 1
    for g in policy.grading.review.groups:
        groups.append(
            {
                "code": g.code,
                "label": g.label(lang),
                "min": g.min_reviews,
                "n": counts.get(g.code, 0),
                "res": review_res.get(g.code),
            }
        )
    me_staff = get_staff(request.user)
    win = services.window(entry.round)
    today = timezone.localdate()
    return render(
        request,
        "appraisal/entry.html",
        {
            "entry": entry,
            "res": res,
            "groups": groups,
            "reviews": reviews,
            "group_labels": {g.code: g.label(lang) for g in policy.grading.review.groups},
            "grade": policy.grade_label(entry.level, entry.tier, lang) if entry.level else "",
            "objections": entry.objections.select_related("filed_by", "decided_by"),
            "committee": committee,
            "editable": committee and entry.round.status == GradingRound.Status.OPEN,
            "can_object": me_staff is not None
            and me_staff.pk == entry.staff_id
            and entry.round.status == GradingRound.Status.PUBLISHED
            and win is not None
            and win[0] <= today <= win[1],
            "window": win,
        },
    )


@login_required
def review_new(request, pk: int):
    """One review form with its ten items (the page a committee member fills in per form)."""
    entry = get_object_or_404(visible_entries(request.user), pk=pk)
    if not is_committee(request.user):
        raise Http404
    policy = services.round_policy(entry.round)
    lang = _lang()
    if request.method == "POST":
        items = {i.code: request.POST.get(f"item_{i.code}", "") for i in policy.grading.review.items}
        use_items = any(v.strip() for v in items.values())
        try:
            services.add_review(
                request.user,
                entry,
                request.POST.get("group", ""),
                items if use_items else None,
                request.POST.get("score") or None,
                request.POST.get("reviewer", ""),
            )
        except AppraisalFailure as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Review form saved."))
            if request.POST.get("another"):
                return redirect("appraisal_review_new", pk=entry.pk)
            return redirect("appraisal_entry", pk=entry.pk)
    return render(
        request,
        "appraisal/review_form.html",
        {
            "entry": entry,
            "groups": [(g.code, g.label(lang)) for g in policy.grading.review.groups],
            "items": [(i.code, i.zh if lang == "zh" else i.en, i.max) for i in policy.grading.review.items],
            "post": request.POST,
        },
    )


# ----------------------------------------------------------------------------------------------------------------
# Pay


@login_required
def pay_sheet(request):
    """The pay sheet of one month for a unit (default: everything the user may see)."""
    staff = get_staff(request.user)
    if staff is None and not request.user.is_superuser:
        raise Http404
    if staff is not None and staff.role == Role.CM:
        return redirect("appraisal_me")
    month = _month(request, (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    if request.method == "POST":
        try:
            services.run_pay(request.user, month, reading=request.POST.get("reading") or None)
        except AppraisalFailure as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Pay computed for %(month)s.") % {"month": month.strftime("%Y-%m")})
        return redirect(f"{request.path}?month={month:%Y-%m}")
    slips = (
        visible_payslips(request.user)
        .filter(run__month=month)
        .prefetch_related("lines")
        .order_by("unit__path", "staff__employee_no")
    )
    unit_code = request.GET.get("unit", "")
    if unit_code:
        unit = get_object_or_404(unit_scope(request.user), code=unit_code)
        slips = slips.filter(unit__path__startswith=unit.path)
    lang = _lang()
    policies: dict[int, object] = {}
    rows = []
    for s in slips:
        if s.run.policy_id not in policies:
            policies[s.run.policy_id] = services.policy_of(s.run.policy)
        p = policies[s.run.policy_id]
        amounts = {ln.code: ln.amount for ln in s.lines.all()}
        rows.append(
            {
                "s": s,
                "grade": p.grade_label(s.level, s.tier, lang),
                "amounts": [amounts.get(c, Decimal("0.00")) for c in LINE_CODES],
            }
        )
    line_labels = [_("Post wage"), _("Floating post wage"), _("Seniority wage"), _("Performance wage")]
    if request.GET.get("export"):
        return table_response(
            f"pay-{month:%Y-%m}",
            [_("Employee no."), _("Customer manager"), _("Region unit"), _("Grade"), *line_labels, _("Total")],
            (
                [r["s"].staff.employee_no, r["s"].staff.name, r["s"].unit.name, r["grade"], *r["amounts"], r["s"].total]
                for r in rows
            ),
            fmt=request.GET["export"],
        )
    return render(
        request,
        "appraisal/pay_sheet.html",
        {
            "rows": rows,
            "month": month,
            "line_labels": line_labels,
            "total": sum((r["s"].total for r in rows), Decimal("0.00")),
            "units": unit_scope(request.user).filter(
                kind__in=[OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.MARKET, OrgUnit.Kind.UNIT]
            ),
            "unit": unit_code,
            "committee": is_committee(request.user),
        },
    )


@login_required
def payslip_detail(request, pk: int):
    slip = get_object_or_404(visible_payslips(request.user).select_related("run__policy"), pk=pk)
    policy = services.policy_of(slip.run.policy)
    lang = _lang()
    labels = dict(
        zip(
            LINE_CODES,
            [_("Post wage"), _("Floating post wage"), _("Seniority wage"), _("Performance wage")],
            strict=True,
        )
    )
    lines = [(labels.get(ln.code, ln.code), ln.amount, ln.explain.get(lang, [])) for ln in slip.lines.all()]
    return render(
        request,
        "appraisal/payslip.html",
        {
            "slip": slip,
            "lines": lines,
            "notes": slip.notes.get(lang, []),
            "grade": policy.grade_label(slip.level, slip.tier, lang),
            "paid_grade": policy.grade_label(slip.level, slip.paid_tier, lang),
        },
    )


# ----------------------------------------------------------------------------------------------------------------
# KPIs


def _charts(rows, months, lang):
    labels = [m.strftime("%m") for m in months]
    out = []
    for r in rows:
        if not r.definition.available:
            continue
        suffix = "%" if r.definition.unit == "percent" else "h"
        out.append(
            mark_safe(
                bar_chart(r.definition.label(lang), labels, [c.value for c in r.cells], r.definition.target, suffix)
            )
        )  # noqa: S308 - built from escaped parts
    return out


@login_required
def kpi_index(request):
    staff = get_staff(request.user)
    cms = list(kpi_staff(request.user).select_related("unit"))
    if staff is not None and staff.role == Role.CM:
        return redirect("appraisal_kpi_card", staff_id=staff.pk)
    if not is_admin(request.user) and (staff is None or staff.role not in (*MANAGER_ROLES, Role.COMMITTEE)):
        raise Http404
    month = _month(request)
    company = my_company(request.user)
    industry = company.industry if company else "tobacco"
    card = scorecards(industry, cms, month)
    lang = _lang()
    if request.GET.get("export"):
        defs = [r.definition for r in card.rows]
        return table_response(
            f"kpi-{month:%Y-%m}",
            [_("Employee no."), _("Customer manager"), _("Region unit"), *[d.label(lang) for d in defs]],
            (
                [
                    c.employee_no,
                    c.name,
                    c.unit.name,
                    *[r.current.value if r.definition.available else _("not yet available") for r in card.per_cm[c.pk]],
                ]
                for c in cms
            ),
            fmt=request.GET["export"],
        )
    return render(
        request,
        "appraisal/kpi_team.html",
        {
            "card": card,
            "month": month,
            "rows": card.rows,
            "lang": lang,
            "cms": [(c, card.per_cm[c.pk]) for c in cms],
            "charts": _charts(card.rows, card.months, lang),
            # The rounds page admits the committee and leadership only: a market manager got a link to a 404.
            "sees_rounds": is_committee(request.user) or is_leadership(request.user),
        },
    )


@login_required
def kpi_card(request, staff_id: int):
    cm = get_object_or_404(kpi_staff(request.user).select_related("unit"), pk=staff_id)
    month = _month(request)
    card = scorecards(cm.unit.industry, [cm], month)
    lang = _lang()
    rows = card.per_cm[cm.pk]
    if request.GET.get("export"):
        return table_response(
            f"kpi-{cm.employee_no}",
            [_("Measure"), *[m.strftime("%Y-%m") for m in card.months]],
            ([r.definition.label(lang), *[c.value for c in r.cells]] for r in rows),
            fmt=request.GET["export"],
        )
    return render(
        request,
        "appraisal/kpi_card.html",
        {
            "cm": cm,
            "card": card,
            "rows": rows,
            "month": month,
            "lang": lang,
            "charts": _charts(rows, card.months, lang),
        },
    )


# ----------------------------------------------------------------------------------------------------------------
# Recruitment


@login_required
def posting_list(request):
    if not is_committee(request.user):
        raise Http404
    if request.method == "POST":
        try:
            p = services.open_posting(request.user, request.POST.get("title", ""), int(request.POST.get("posts") or 1))
        except (AppraisalFailure, ValueError) as exc:
            _errors(request, exc) if isinstance(exc, AppraisalFailure) else messages.error(request, str(exc))
        else:
            return redirect("appraisal_posting", pk=p.pk)
    postings = visible_postings(request.user).annotate(n=Count("applicants"))
    return render(request, "appraisal/postings.html", {"postings": postings})


@login_required
def posting_detail(request, pk: int):
    posting = get_object_or_404(visible_postings(request.user), pk=pk)
    policy = services.policy_of(posting.policy)
    lang = _lang()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "applicant":
                services.add_applicant(
                    request.user,
                    posting,
                    request.POST.get("name", ""),
                    dt.date.fromisoformat(request.POST.get("birth_date", "")),
                    request.POST.get("education", ""),
                    request.POST.get("clean_record") == "1",
                    Decimal(request.POST.get("prior_cm_years") or "0"),
                )
            elif action == "marks":
                a = get_object_or_404(posting.applicants, pk=request.POST.get("applicant") or 0)
                written = {c.code: request.POST.get(f"cat_{c.code}", "") for c in policy.recruitment.categories}
                panel_lines = [ln.split(":", 1) for ln in request.POST.get("panel", "").splitlines() if ":" in ln]
                panel = {k.strip(): v.strip() for k, v in panel_lines} or None
                services.set_marks(request.user, a, written if any(written.values()) else None, panel)
            elif action == "import" and request.FILES.get("file"):
                n = services.import_marks(request.user, posting, request.FILES["file"])
                messages.success(request, _("%(n)d rows imported.") % {"n": n})
            elif action == "appoint":
                a = get_object_or_404(posting.applicants, pk=request.POST.get("applicant") or 0)
                unit = get_object_or_404(unit_scope(request.user), pk=request.POST.get("unit") or 0)
                services.appoint(
                    request.user,
                    a,
                    unit,
                    dt.date.fromisoformat(request.POST.get("start", "")),
                    request.POST.get("employee_no", ""),
                )
                messages.success(request, _("Appointed."))
            else:
                messages.error(request, _("Nothing to do."))
        except AppraisalFailure as exc:
            _errors(request, exc)
        except ValueError as exc:
            messages.error(request, _("Enter a valid date.") + f" ({exc})")
        return redirect("appraisal_posting", pk=posting.pk)
    applicants = posting.applicants.all().order_by("rank", "id")
    rows = [(a, {k: v.get(lang, []) for k, v in a.explain.items()}) for a in applicants]
    return render(
        request,
        "appraisal/posting.html",
        {
            "posting": posting,
            "rows": rows,
            "categories": [(c.code, c.zh if lang == "zh" else c.en, c.weight) for c in policy.recruitment.categories],
            "educations": [(lv.code, lv.zh if lang == "zh" else lv.en) for lv in policy.grading.education.levels],
            "min_panelists": policy.recruitment.min_panelists,
            "units": unit_scope(request.user).filter(kind=OrgUnit.Kind.UNIT, path__startswith=posting.company.path),
            "today": timezone.localdate().isoformat(),
            "scored": Applicant.Status.SCORED,
        },
    )
