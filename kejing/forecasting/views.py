"""Pages of the monthly cycle. Thin: lookups through the scoped selectors (another CM's customer is a 404),
writes through ``services`` (a manager's attempt to change a CM's figure is a 403)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejing.core import uploads
from kejing.core.errors import NotHere
from kejing.core.exports import file_response, table_response
from kejing.core.models import Job
from kejing.core.pagination import paginate
from kejing.core.tabular import TableError, read_table, write_xlsx
from kejing.customers.models import Customer
from kejing.customers.selectors import visible_customers
from kejing.org.scoping import get_staff, unit_scope

from . import charts, cycle, selectors, services, spec_catalogue
from .models import (
    Comment,
    Feedback,
    ForecastLine,
    KeyCustomer,
    LedgerEntry,
    PhaseTask,
    PriceClass,
    Round,
    ShopKey,
    ShopLimit,
    ShopSurvey,
    Spec,
    SpecialOrder,
    Supply,
    WeeklyReport,
)

GROUP_LABELS = {
    "unit": gettext_lazy("Region unit"),
    "department": gettext_lazy("Department"),
    "cm": gettext_lazy("Customer manager"),
    "spec": gettext_lazy("Specification"),
    "price_class": gettext_lazy("Price class"),
}


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _asked_month(request) -> tuple[str | None, dt.date | None]:
    """The ``month`` the request names (as written) and the round target it means: that month, this cycle's
    target when none is named, ``None`` when the text is no month."""
    month = request.GET.get("month") or request.POST.get("month")
    return month, cycle.parse_month(month) if month else cycle.target_of(timezone.localdate())


def _round_from(request) -> Round | None:
    target = _asked_month(request)[1]
    return Round.objects.filter(target=target).first() if target else None


def _round_or_404(request) -> Round:
    """The round asked for (this cycle's by default). A round not yet open is a page saying so, with the way to the
    cycle page (where the center opens it), not a bare 404: the menu links here before the 1st's round exists."""
    month, target = _asked_month(request)
    if target is None:
        raise NotHere(_("“%(month)s” is not a month (write it as 2026-12).") % {"month": month})
    rnd = Round.objects.filter(target=target).first()
    if rnd is None:
        raise NotHere(
            _("The round for %(month)s has not been opened yet.") % {"month": f"{target:%Y-%m}"},
            link=(reverse("forecasting:home"), _("Monthly cycle")),
        )
    return rnd


def _manager_required(user) -> None:
    if not services.is_manager(user):
        raise Http404


def _errors(exc: services.ForecastError) -> str:
    return "; ".join(exc.errors.values())


def _group_labels() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in GROUP_LABELS.items()]


@login_required
def home(request):
    """The month at a glance: the six phases with today's, the round's state, my phase tasks, who submitted."""
    today = timezone.localdate()
    conf = services.policy()["cycle"]
    staff = get_staff(request.user)
    rnd = _round_from(request)
    month = cycle.working_month(rnd.target) if rnd else cycle.month_start(today)
    phases = []
    for p in cycle.phases(month, conf):
        due = cycle.due_day(p.end, conf)  # the phase's tasks fall due here (the holiday rule)
        phases.append(
            {
                "label": p.label(_lang()),
                "start": p.start,
                "end": p.end,
                "due": due if due != p.end else None,
                "now": p.contains(today),
                "past": p.end < today,
            }
        )
    ctx: dict[str, Any] = {
        "rnd": rnd,
        "phases": phases,
        "today": today,
        "weekly": [w["en"] if _lang() == "en" else w["zh"] for w in conf["weekly"]],
        "rounds": Round.objects.all()[:12],
        "is_center": services.is_center(request.user),
    }
    if rnd:
        ctx["deadline"] = services.deadline(rnd)
        named = cycle.named_submit_day(rnd.target, conf)
        ctx["deadline_named"] = named if named != ctx["deadline"] else None  # moved by the holiday rule
        if staff and staff.is_cm:
            ctx["lock"] = services.lock_reason(rnd, staff.pk)
            ctx["tasks"] = (
                PhaseTask.objects.filter(Q(round=rnd) | Q(week=cycle.week_start(today)), task__staff=staff)
                .select_related("task")
                .order_by("task__due")
            )
            mine = ForecastLine.objects.filter(round=rnd, cm=staff)
            ctx["mine"] = mine.aggregate(
                lines=Count("id"),
                shops=Count("customer_id", distinct=True),
                entered=Count("id", filter=Q(cm_qty__isnull=False)),
                reported=Count("id", filter=Q(self_qty__isnull=False)),
                model=Count("id", filter=Q(model_qty__isnull=False)),
            )
            ctx["key_count"] = KeyCustomer.objects.filter(customer__cm=staff).count()
            ctx["feedback_done"] = Feedback.objects.filter(round=rnd, cm=staff).count()
            ctx["comments"] = Comment.objects.filter(round=rnd, cm=staff).select_related("author")[:10]
        else:
            ctx["submissions"] = selectors.submissions(request.user, rnd)
        ctx["job"] = rnd.model_job
        try:
            ctx["festival"] = services.festival_setting()
        except services.ForecastError as exc:
            ctx["festival_error"] = str(exc)
        try:
            ctx["trading_days"] = services.trading_days_setting()
        except services.ForecastError as exc:
            ctx["trading_days_error"] = str(exc)
        try:
            ctx["festival_window"] = services.festival_window_setting()
        except services.ForecastError as exc:
            ctx["festival_window_error"] = str(exc)
    return render(request, "forecasting/home.html", ctx)


@login_required
@require_POST
def open_current(request):
    """Open the round for next month (the center or an administrator; normally on the 1st)."""
    if not services.is_center(request.user):
        raise Http404
    rnd = services.open_round(cycle.target_of(timezone.localdate()))
    services.open_week(timezone.localdate())
    messages.success(request, _("The round for %(month)s is open.") % {"month": f"{rnd.target:%Y-%m}"})
    return redirect("forecasting:home")


# -- CM interactive forecast ----------------------------------------------------------------------------------
@login_required
def entry(request):
    """The CM's customers for this round: key customers first, with how far the entry has got."""
    rnd = _round_or_404(request)
    show = request.GET.get("show", "key")
    qs = visible_customers(request.user).filter(industry="tobacco", status="active")
    if show == "key":
        qs = qs.filter(key_mark__isnull=False)
    qs = qs.annotate(
        lines=Count("forecast_lines", filter=Q(forecast_lines__round=rnd)),
        entered=Count("forecast_lines", filter=Q(forecast_lines__round=rnd, forecast_lines__cm_qty__isnull=False)),
        reported=Count("forecast_lines", filter=Q(forecast_lines__round=rnd, forecast_lines__self_qty__isnull=False)),
    ).order_by("code")
    page, query = paginate(request, qs)
    keys = set(KeyCustomer.objects.filter(customer__in=[c.pk for c in page]).values_list("customer_id", flat=True))
    return render(
        request, "forecasting/entry.html", {"rnd": rnd, "page": page, "query": query, "show": show, "keys": keys}
    )


def _grid(rnd: Round, customer: Customer) -> list[dict[str, Any]]:
    """One row per spec the shop carries (or was forecast): the last three months and the three sources."""
    months = [cycle.add_months(rnd.target, -k) for k in (4, 3, 2)]
    ledger: dict[int, dict[dt.date, int | None]] = {}
    for sid, month, demand in LedgerEntry.objects.filter(customer=customer, month__in=months).values_list(
        "spec_id", "month", "demand"
    ):
        ledger.setdefault(sid, {})[month] = demand
    lines = {ln.spec_id: ln for ln in ForecastLine.objects.filter(round=rnd, customer=customer)}
    spec_ids = set(ledger) | set(lines)
    rows = []
    for spec in Spec.objects.filter(pk__in=spec_ids).order_by("code"):
        ln = lines.get(spec.pk)
        values = [ledger.get(spec.pk, {}).get(m) for m in months]
        history = [(f"{m:%Y-%m}", v) for m, v in zip(months, values, strict=True)]
        rows.append(
            {
                "spec": spec,
                "history": history,
                "line": ln,
                "value": ln.cm_qty if ln and ln.cm_qty is not None else "",
                "prefill": ln.model_qty if ln and ln.model_qty is not None else values[-1],
                "on_sale": spec.on_sale(rnd.target),
            }
        )
    return rows


@login_required
def entry_customer(request, customer_id: int):
    """The entry grid for one customer, built for a phone: one spec per card, a number field each."""
    customer = get_object_or_404(visible_customers(request.user), pk=customer_id)
    rnd = _round_or_404(request)
    staff = get_staff(request.user)
    own = bool(staff and staff.is_cm and customer.cm_id == staff.pk)
    if request.method == "POST":
        if not own:
            return HttpResponseForbidden(_("Managers may view and comment on a CM's forecast, not change it."))
        quantities = {key[4:]: request.POST[key].strip() or None for key in request.POST if key.startswith("qty_")}
        # a spec the shop has not carried (a new one, say): a new line of this round
        add_spec, add_qty = request.POST.get("add_spec", "").strip(), request.POST.get("add_qty", "").strip()
        if add_spec and quantities.get(add_spec) is None:
            quantities[add_spec] = add_qty or None
        try:
            if add_spec and not add_qty:
                raise services.ForecastError({"add_qty": _("Enter the cartons of the spec you add.")})
            n = services.enter_cm_forecast(request.user, rnd, customer, quantities)
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("Saved: %(n)s lines changed.") % {"n": n})
            nxt = request.POST.get("next")
            if nxt:
                return redirect(f"{reverse('forecasting:entry_customer', args=[int(nxt)])}?month={rnd.target:%Y-%m}")
            return redirect(f"{request.path}?month={rnd.target:%Y-%m}")
    months = [cycle.add_months(rnd.target, -k) for k in (4, 3, 2)]
    next_key = (
        visible_customers(request.user)
        .filter(key_mark__isnull=False, status="active", code__gt=customer.code)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    rows = _grid(rnd, customer)
    shown = {r["spec"].pk for r in rows}
    addable = [s for s in Spec.objects.order_by("code") if s.pk not in shown and s.on_sale(rnd.target)]
    return render(
        request,
        "forecasting/entry_customer.html",
        {
            "rnd": rnd,
            "c": customer,
            "rows": rows,
            "addable": addable,
            "new_since": cycle.add_months(rnd.target, -12),
            "months": months,
            "own": own,
            "lock": services.lock_reason(rnd, customer.cm_id),
            "next_key": next_key,
            "is_key": KeyCustomer.objects.filter(customer=customer).exists(),
        },
    )


@login_required
def key_customers(request):
    """The CM's key list (the interactive half): suggested by value, editable; managers may adjust too."""
    staff = get_staff(request.user)
    cms = selectors.visible_cms(request.user)
    cm = cms.filter(employee_no=request.GET.get("cm") or request.POST.get("cm") or "").first()
    if cm is None:
        if not (staff and staff.is_cm):
            return render(request, "forecasting/key_pick.html", {"cms": cms.order_by("unit__path")})
        cm = staff
    target = cycle.target_of(timezone.localdate())
    if request.method == "POST":
        if request.POST.get("suggest"):
            ids = services.suggest_key_customers(cm, target)
        else:
            ids = [int(x) for x in request.POST.getlist("key") if x.isdigit()]
        try:
            n = services.set_key_customers(request.user, cm, ids, suggested=bool(request.POST.get("suggest")))
            messages.success(request, _("Key customers saved: %(n)s changes.") % {"n": n})
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
        return redirect(f"{reverse('forecasting:key')}?cm={cm.employee_no}")
    customers = list(Customer.objects.filter(cm=cm, status="active").order_by("code"))
    values = services.customer_values([c.pk for c in customers], target)
    keys = set(KeyCustomer.objects.filter(customer__cm=cm).values_list("customer_id", flat=True))
    suggested = set(services.suggest_key_customers(cm, target))
    rows = sorted(
        (
            {"c": c, "value": round(values.get(c.pk, 0)), "key": c.pk in keys, "suggested": c.pk in suggested}
            for c in customers
        ),
        key=lambda r: -r["value"],
    )
    return render(
        request,
        "forecasting/key.html",
        {"cm": cm, "rows": rows, "n_key": len(keys), "share": services.policy()["key_customers"]["share"]},
    )


@login_required
@require_POST
def submit(request):
    rnd = _round_or_404(request)
    try:
        sub = services.submit(request.user, rnd)
        messages.success(request, _("Submitted: %(total)s cartons in all.") % {"total": sub.total})
    except services.NotAllowed:
        return HttpResponseForbidden(_("Only the CM himself submits his forecast."))
    except services.ForecastError as exc:
        messages.error(request, _errors(exc))
    return redirect(f"{reverse('forecasting:home')}?month={rnd.target:%Y-%m}")


# -- consolidation and supervision ----------------------------------------------------------------------------
@login_required
def consolidation(request):
    rnd = _round_or_404(request)
    by = request.GET.get("by", "unit")
    by = by if by in selectors.GROUPS else "unit"
    rows = selectors.consolidation(request.user, rnd, by)
    if request.GET.get("export"):
        headers = [
            str(GROUP_LABELS[by]),
            _("Shops"),
            _("CM forecast"),
            _("Self-report"),
            _("Model forecast"),
            _("Merged forecast"),
            _("Balanced quantity"),
        ]
        return table_response(
            "consolidation",
            headers,
            (
                [r["name"], r["shops"], r["cm_total"], r["self_total"], r["model_total"], r["merged"], r["balanced"]]
                for r in rows
            ),
            fmt=request.GET.get("format", "xlsx"),
        )
    comments = Comment.objects.filter(round=rnd, cm__in=selectors.visible_cms(request.user)).select_related(
        "cm", "author"
    )
    submissions = selectors.submissions(request.user, rnd)
    return render(
        request,
        "forecasting/consolidation.html",
        {
            "rnd": rnd,
            "rows": rows,
            "by": by,
            "groups": _group_labels(),
            "group_label": str(GROUP_LABELS[by]),
            "merge_order": services.merge_order(),
            "submissions": submissions,
            "comments": comments[:50],
            # services.may_comment: every CM listed is in the user's scope, so any staff member may comment on them
            "can_comment": bool(submissions) and get_staff(request.user) is not None,
            "query": f"month={rnd.target:%Y-%m}&by={by}",
        },
    )


@login_required
@require_POST
def comment(request):
    rnd = _round_or_404(request)
    cm = get_object_or_404(selectors.visible_cms(request.user), employee_no=request.POST.get("cm", ""))
    try:
        services.add_comment(request.user, rnd, cm, request.POST.get("text", ""))
        messages.success(request, _("Comment added."))
    except services.ForecastError as exc:
        messages.error(request, _errors(exc))
    return redirect(f"{reverse('forecasting:consolidation')}?month={rnd.target:%Y-%m}")


@login_required
@require_POST
def model_run(request):
    _manager_required(request.user)
    rnd = _round_or_404(request)
    from .tasks import run_model_forecast

    job, started = services.start_round_job(request.user, rnd, "forecast_model", run_model_forecast)
    if not started:
        messages.info(
            request, _("A model run of this round is already under way (%(started)s).") % {"started": _started(job)}
        )
        if job.created_by_id != request.user.pk:  # his job page is his; the cycle page shows the run's state
            return redirect(f"{reverse('forecasting:home')}?month={rnd.target:%Y-%m}")
    return redirect("job_detail", pk=job.pk)


def _started(job: Job) -> str:
    """Who started a job and when, for the message a second press gets."""
    staff = get_staff(job.created_by) if job.created_by else None
    who = staff.name if staff else (job.created_by.username if job.created_by else "—")
    return _("started by %(who)s at %(time)s") % {
        "who": who,
        "time": f"{timezone.localtime(job.created_at):%H:%M}",
    }


# -- model check -----------------------------------------------------------------------------------------------
CHECK_METHOD_LABELS = {
    "kejing": gettext_lazy("Kejing method"),
    "seasonal_naive": gettext_lazy("Seasonal naive"),
    "auto_ets": gettext_lazy("AutoETS"),
}


@login_required
def model_check(request):
    """Backtest the model on the manager's own history or on a sales file he uploads (a job), and his last
    checks."""
    _manager_required(request.user)
    from .tasks import run_model_check

    if request.method == "POST" and request.POST.get("source") == "file":
        post = request.POST
        return _file_post(
            request,
            lambda: services.check_file_params(
                *(post.get(k, "") for k in ("horizon", "folds", "auto_ets", "id_col", "date_col", "value_col"))
            ),
            start_file_check,
            "forecasting:model_check",
        )
    if request.method == "POST":
        try:
            params = services.check_params(
                request.POST.get("horizon", ""), request.POST.get("folds", ""), request.POST.get("auto_ets", "")
            )
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
            return redirect("forecasting:model_check")
        job = Job.objects.create(kind="forecast_check", created_by=request.user, params=params)
        run_model_check.enqueue(job.pk)
        return redirect("job_detail", pk=job.pk)
    checks = Job.objects.filter(kind="forecast_check", created_by=request.user).order_by("-pk")[:10]
    return render(
        request,
        "forecasting/model_check.html",
        {
            "checks": checks,
            "limits": services.CHECK_LIMITS,
            "history_months": services.policy()["model"]["history_months"],
            **_upload_limits(),
        },
    )


def _upload_limits() -> dict[str, Any]:
    """What a sales-file form tells the browser and the user: the largest file and the kinds it takes."""
    return {"max_mb": services.CHECK_FILE_MAX_MB, "suffixes": ",".join(services.CHECK_FILE_SUFFIXES)}


def _file_post(request, params, start, back: str):
    """A form that uploads a sales file: its settings checked by ``params()``, the file by ``start`` (which
    stores it and queues the job); the job's page on success, else the form's page with every message."""
    try:
        settings = params()
        upload = request.FILES.get("file")
        if upload is None:
            raise services.ForecastError({"file": "请选择文件 / choose a file"})
        job = start(request.user, upload, settings)
    except services.ForecastError as exc:
        messages.error(request, _errors(exc))
        return redirect(back)
    return redirect("job_detail", pk=job.pk)


def start_file_check(user, upload, params: dict) -> Job:
    """Queue a model check of an uploaded file (:func:`start_file_job`)."""
    from .tasks import run_model_check

    return start_file_job(user, upload, params, "forecast_check", run_model_check)


def start_forecast_file(user, upload, params: dict) -> Job:
    """Queue the forecast of an uploaded file (:func:`start_file_job`)."""
    from .tasks import run_forecast_file

    return start_file_job(user, upload, params, "forecast_file", run_forecast_file)


def start_file_job(user, upload, params: dict, kind: str, task) -> Job:
    """Check the upload (kind, size), store it for the worker and queue ``task`` on a job of ``kind``
    (:func:`kejing.core.uploads.start`); the job deletes the file once it has read it."""
    if not services.is_manager(user):
        raise services.NotAllowed("只有管理人员可以上传销量文件 / only managers upload a sales file")
    services.check_upload(upload.name, upload.size)
    return uploads.start(user, kind, upload, task, folder="uploads", **{**params, "source": "file"})


@login_required
def model_check_export(request, job_id: int):
    """One finished check as a table (Excel or CSV): a row per method for the whole check, then per price class
    and per region unit."""
    job = get_object_or_404(Job, pk=job_id, kind="forecast_check", created_by=request.user, status=Job.Status.DONE)
    r = job.result
    history = f"{r['first_month']} – {r['last_month']}"
    if r.get("source") == "file":  # which file the figures are of
        history = f"{r['filename']}: {history}"
    groups = [(_("All series"), r["series"], r["windows"], r["rows"])]
    groups += [(g["label"], g["series"], g["windows"], g["rows"]) for g in r["by_price_class"] + r["by_unit"]]
    rows = []
    for label, series, windows, figures in groups:
        for m in figures:
            method = str(CHECK_METHOD_LABELS.get(m["method"], m["method"]))
            rows.append(
                (
                    label,
                    method,
                    m["mase"],
                    m["wape"],
                    m.get("seconds"),
                    series,
                    windows,
                    r["horizon"],
                    r["folds"],
                    history,
                )
            )
    ratio = r.get("kejing_vs_auto_ets")
    if ratio:
        rows.append(
            (_("All series"), _("Kejing ÷ AutoETS"), ratio["mase_ratio"], ratio["wape_ratio"], None, None, None, "")
        )
    headers = [
        _("Group"),
        _("Method"),
        "MASE",
        "WAPE",
        _("Seconds"),
        _("Series"),
        _("Windows"),
        _("Horizon (months)"),
        _("Folds"),
        _("History"),
    ]
    return table_response("model-check", headers, rows, fmt=request.GET.get("format", "xlsx"))


@login_required
def forecast_file(request):
    """Forecast an uploaded sales file (a job) and the starter's last file forecasts."""
    _manager_required(request.user)
    if request.method == "POST":
        post = request.POST
        return _file_post(
            request,
            lambda: services.forecast_file_params(
                *(post.get(k, "") for k in ("horizon", "id_col", "date_col", "value_col"))
            ),
            start_forecast_file,
            "forecasting:forecast_file",
        )
    jobs = Job.objects.filter(kind="forecast_file", created_by=request.user).order_by("-pk")[:10]
    return render(
        request,
        "forecasting/forecast_file.html",
        {
            "jobs": jobs,
            "limits": services.FORECAST_FILE_HORIZON,
            **_upload_limits(),
        },
    )


@login_required
def forecast_file_download(request, job_id: int):
    """The forecasts of one finished file forecast, the starter's only: ``?format=csv`` is the very file
    ``kejing forecast run`` writes (with a byte-order mark, so that Excel reads its Chinese names), the default
    a workbook with bilingual headers."""
    job = get_object_or_404(Job, pk=job_id, kind="forecast_file", created_by=request.user, status=Job.Status.DONE)
    return forecast_file_response(job, request.GET.get("format", "xlsx"))


def forecast_file_response(job: Job, fmt: str) -> HttpResponse:
    """The download of a file forecast's stored CSV: as it is (``csv``) or as a workbook with the bilingual
    headers of ``services.FORECAST_FILE_COLUMNS``. A forecast too long for a sheet is refused with a pointer to
    the CSV, not cut."""
    import pandas as pd

    if not job.result.get("output"):  # expired: only the newest ten are kept
        raise Http404
    try:
        with default_storage.open(job.result["output"], "rb") as fh:
            data = fh.read()
    except OSError:
        raise Http404 from None
    name = f"forecast-{job.pk}"
    if fmt == "csv":
        return file_response(b"\xef\xbb\xbf" + data, name, "csv")
    table = pd.read_csv(io.BytesIO(data), dtype={"unique_id": str})
    if len(table) >= 1_048_576:
        return HttpResponse(
            "超过工作表行数上限,请下载 CSV / too many rows for a worksheet: download the CSV".encode(),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    table["ds"] = pd.to_datetime(table["ds"]).dt.date  # a date cell, which Excel can sort and filter as one
    headers = [services.FORECAST_FILE_COLUMNS.get(c, c) for c in table.columns]
    rows = table.astype(object).where(table.notna(), None).itertuples(index=False)
    return file_response(write_xlsx(headers, rows, sheet="forecast"), name, "xlsx")


# -- supply and balancing -------------------------------------------------------------------------------------
@login_required
def supply(request):
    if not services.is_center(request.user):
        raise Http404
    rnd = _round_or_404(request)
    if request.method == "POST":
        try:
            if request.FILES.get("file"):
                table = read_table(request.FILES["file"], filename=request.FILES["file"].name)
                rows, header = table.rows, table.header
            else:
                header = None
                rows = [
                    (
                        1,
                        {
                            "spec": request.POST.get("spec", ""),
                            "area": request.POST.get("area", ""),
                            "quantity": request.POST.get("quantity", ""),
                        },
                    )
                ]
            n = services.set_supply(request.user, rnd, rows, header=header)
            messages.success(request, _("Supply saved: %(n)s rows.") % {"n": n})
        except TableError as exc:
            messages.error(request, str(exc))
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
        return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}")
    supplies = Supply.objects.filter(round=rnd).select_related("spec", "area").order_by("spec__code", "area__path")
    demand = dict(
        ForecastLine.objects.filter(round=rnd)
        .values("spec_id")
        .annotate(t=Sum("merged_qty"))
        .values_list("spec_id", "t")
    )
    job = _my_job(request, "forecast_balance")
    limit_count = ShopLimit.objects.filter(round=rnd).count()
    return render(
        request,
        "forecasting/supply.html",
        {
            "limit_count": limit_count,
            "limits": services.limit_outcomes(rnd, limit=300),
            "default_mode": services.policy().get("allocation", {}).get("mode", "proportional"),
            "job": job,
            "job_result": job.result if job and job.status in (Job.Status.DONE, Job.Status.FAILED) else None,
            "rnd": rnd,
            "supplies": supplies,
            "specs": Spec.objects.all(),
            "demand": [(s, demand.get(s.pk, 0)) for s in Spec.objects.all() if demand.get(s.pk)],
            "areas": unit_scope(request.user).exclude(kind="company").order_by("path"),
        },
    )


@login_required
@require_POST
def balance(request):
    """Start balancing as a background job; the supply page follows its progress and shows the result."""
    rnd = _round_or_404(request)
    if not services.is_center(request.user):
        raise Http404
    if rnd.balanced_at is not None:
        messages.error(request, _("This round has already been balanced."))
        return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}")
    mode = request.POST.get("mode", "") or None
    if mode is not None and mode not in services.BALANCE_MODES:
        messages.error(request, _("Unknown balancing mode."))
        return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}")
    from .tasks import run_balance

    job, started = services.start_round_job(request.user, rnd, "forecast_balance", run_balance, mode=mode)
    if not started:
        messages.info(request, _("This round is already being balanced (%(started)s).") % {"started": _started(job)})
        if job.created_by_id != request.user.pk:  # the supply page follows the caller's own jobs only
            return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}")
    return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}&job={job.pk}")


@login_required
@require_POST
def limits(request):
    """Upload the round's per-shop caps and minimums (xlsx/csv: 客户编码, 规格编码, 上限, 最低量); all or nothing."""
    if not services.is_center(request.user):
        raise Http404
    rnd = _round_or_404(request)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise services.ForecastError({"file": _("Choose a file to upload.")})
        table = read_table(upload, filename=upload.name)
        n = services.set_limits(request.user, rnd, table.rows, header=table.header)
        messages.success(request, _("Shop caps and minimums saved: %(n)s rows changed.") % {"n": n})
    except TableError as exc:
        messages.error(request, str(exc))
    except services.ForecastError as exc:
        messages.error(request, _errors(exc))
    return redirect(f"{reverse('forecasting:supply')}?month={rnd.target:%Y-%m}")


# -- feedback (days 21-25) ------------------------------------------------------------------------------------
@login_required
def feedback(request):
    rnd = _round_or_404(request)
    qs = visible_customers(request.user).filter(forecast_lines__round=rnd).distinct().order_by("code")
    page, query = paginate(request, qs)
    done = dict(
        Feedback.objects.filter(round=rnd, customer__in=[c.pk for c in page]).values_list("customer_id", "informed_on")
    )
    for c in page:
        c.informed_on = done.get(c.pk)
    return render(request, "forecasting/feedback.html", {"rnd": rnd, "page": page, "query": query})


@login_required
def feedback_customer(request, customer_id: int):
    customer = get_object_or_404(visible_customers(request.user), pk=customer_id)
    rnd = _round_or_404(request)
    staff = get_staff(request.user)
    own = bool(staff and staff.is_cm and customer.cm_id == staff.pk)
    if request.method == "POST":
        if not own:
            return HttpResponseForbidden(_("Only the customer's own CM records the feedback."))
        try:
            services.record_feedback(request.user, rnd, customer, request.POST.get("guidance", ""))
            messages.success(request, _("Feedback recorded in the sales ledger."))
            return redirect(f"{reverse('forecasting:feedback')}?month={rnd.target:%Y-%m}")
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
    lines = ForecastLine.objects.filter(round=rnd, customer=customer).select_related("spec").order_by("spec__code")
    return render(
        request,
        "forecasting/feedback_customer.html",
        {
            "rnd": rnd,
            "c": customer,
            "lines": lines,
            "own": own,
            "fb": Feedback.objects.filter(round=rnd, customer=customer).first(),
        },
    )


# -- ledger ---------------------------------------------------------------------------------------------------
LEDGER_HEADERS = (
    "客户编码",
    "客户名称",
    "规格编码",
    "规格",
    "月份",
    "需求量",
    "供货量",
    "销售量",
    "库存量",
    "平衡分配量",
    "客户登记预测",
    "经营指导",
)


@login_required
def ledger(request):
    qs = selectors.visible_ledger(request.user).order_by("-month", "customer__code", "spec__code")
    q = request.GET.get("q", "").strip()
    this_month = cycle.month_start(timezone.localdate())
    # three years of shops x specs: without a search the list shows one month, the one named or else the
    # latest of my scope up to this one (the API's default: on the 1st, before any sale is booked, last month)
    month = cycle.parse_month(request.GET.get("month"))
    if month is None and not q:
        month = selectors.latest_ledger_month(request.user, upto=this_month) or this_month
    if month:
        qs = qs.filter(month=month)
    if q:
        qs = qs.filter(Q(customer__code=q) | Q(customer__name__icontains=q) | Q(spec__code=q))
    if request.GET.get("export"):
        limit = 200_000
        return table_response(
            "ledger",
            LEDGER_HEADERS,
            # plain tuples, not model instances: a month of a company's shops is ~46,000 rows
            (
                [code, name, spec_code, spec, f"{month:%Y-%m}", *figures]
                for code, name, spec_code, spec, month, *figures in qs[:limit]
                .values_list(
                    "customer__code",
                    "customer__name",
                    "spec__code",
                    "spec__name",
                    "month",
                    "demand",
                    "supplied",
                    "sold",
                    "stock",
                    "allocated",
                    "recorded_forecast",
                    "guidance",
                )
                .iterator(chunk_size=2000)
            ),
            fmt=request.GET.get("format", "xlsx"),
        )
    page, query = paginate(request, qs)
    return render(
        request,
        "forecasting/ledger.html",
        {
            "page": page,
            "query": query,
            "month": f"{month:%Y-%m}" if month else "",
            "q": q,
            "this_month": this_month,
        },
    )


@login_required
def ledger_import(request):
    """Upload -> dry run in the background (every bad row listed) -> "import now" on the same stored file."""
    _manager_required(request.user)
    from .tasks import run_ledger_import

    if request.method == "POST" and request.POST.get("from_job"):
        try:
            job = uploads.import_from_page(request.user, "import_ledger", request.POST["from_job"], run_ledger_import)
        except uploads.FileGone as exc:
            messages.error(request, str(exc))
            return redirect(reverse("forecasting:ledger_import") + f"?job={request.POST['from_job']}")
        return redirect(reverse("forecasting:ledger_import") + f"?job={job.pk}")
    if request.method == "POST" and request.FILES.get("file"):
        job = start_ledger_import(request.user, request.FILES["file"], dry_run=bool(request.POST.get("dry_run")))
        return redirect(reverse("forecasting:ledger_import") + f"?job={job.pk}")
    job = _my_job(request, "import_ledger")
    report = job.result if job and job.status in (Job.Status.DONE, Job.Status.FAILED) else None
    return render(
        request,
        "forecasting/ledger_import.html",
        {"job": job, "report": report, "columns": services.LEDGER_COLUMNS},
    )


def start_ledger_import(user, upload, dry_run: bool) -> Job:
    """Store the uploaded file (the later "import now" reads the same bytes) and queue the job."""
    from .tasks import run_ledger_import

    return uploads.start(user, "import_ledger", upload, run_ledger_import, dry_run=dry_run)


def _my_job(request, kind: str) -> Job | None:
    """The job named by ``?job=``, only if the caller started it (anyone else's job id shows nothing)."""
    pk = request.GET.get("job", "")
    if not pk.isdigit():
        return None
    return Job.objects.filter(pk=int(pk), created_by=request.user, kind=kind).first()


# -- reports --------------------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


@login_required
def reports(request):
    by = request.GET.get("by", "unit")
    by = by if by in selectors.GROUPS else "unit"
    try:
        n = max(1, min(int(request.GET.get("months", 6)), 24))
    except ValueError:
        n = 6
    data = selectors.report(request.user, selectors.closed_targets(n), by)
    defs = data["metrics"]
    lang = _lang()
    if request.GET.get("export"):
        headers = [str(GROUP_LABELS[by]), _("Month"), _("Forecast"), _("Demand"), _("Supplied"), _("Balanced quantity")]
        headers += [d[lang] for d in defs]
        return table_response(
            "forecast-report",
            headers,
            (
                [r["name"], f"{r['month']:%Y-%m}", r["forecast"], r["demand"], r["supplied"], r["balanced"]]
                + [r["values"][d["code"]] for d in defs]
                for r in data["rows"]
            ),
            fmt=request.GET.get("format", "xlsx"),
        )
    labels = [f"{m:%Y-%m}" for m in data["months"]]
    trend = charts.line_chart(
        labels,
        [
            (d[lang], [t["values"][d["code"]] for t in data["totals"]])
            for d in defs
            if d["code"] in ("accuracy", "fulfilment", "fill")
        ],
        title=_("Month over month"),
    )
    last = data["months"][-1] if data["months"] else None
    last_rows = [r for r in data["rows"] if r["month"] == last]
    bars = charts.bar_chart([(r["name"], r["values"].get("accuracy")) for r in last_rows], title=_("Forecast accuracy"))
    rows = [{**r, "shown": [(d[lang], _pct(r["values"][d["code"]])) for d in defs]} for r in data["rows"]]
    totals = [
        {"month": t["month"], "shown": [(d[lang], _pct(t["values"][d["code"]])) for d in defs]} for t in data["totals"]
    ]
    return render(
        request,
        "forecasting/reports.html",
        {
            "rows": rows,
            "totals": totals,
            "defs": [{**d, "label": d[lang]} for d in defs],
            "by": by,
            "months": n,
            "groups": _group_labels(),
            "group_label": str(GROUP_LABELS[by]),
            "trend": trend,
            "bars": bars,
            "last": last,
            "query": f"by={by}&months={n}",
        },
    )


@login_required
def meeting(request):
    """The forecast meeting (days 1-6): last month's accuracy and fulfilment per region unit (L2779)."""
    last = selectors.closed_targets(1)
    data = selectors.report(request.user, last, "unit")
    lang = _lang()
    defs = data["metrics"]
    rows = [{**r, "shown": [(d[lang], _pct(r["values"][d["code"]])) for d in defs]} for r in data["rows"]]
    bars = charts.bar_chart(
        [(r["name"], r["values"].get("accuracy")) for r in data["rows"]], title=_("Forecast accuracy")
    )
    bars2 = charts.bar_chart(
        [(r["name"], r["values"].get("fulfilment")) for r in data["rows"]], title=_("Order fulfilment")
    )
    totals = [
        {"month": t["month"], "shown": [(d[lang], _pct(t["values"][d["code"]])) for d in defs]} for t in data["totals"]
    ]
    return render(
        request,
        "forecasting/meeting.html",
        {
            "month": last[0],
            "rows": rows,
            "defs": [{**d, "label": d[lang]} for d in defs],
            "bars": bars,
            "bars2": bars2,
            "totals": totals,
        },
    )


# -- weekly summary and plan ----------------------------------------------------------------------------------
@login_required
def weekly(request):
    staff = get_staff(request.user)
    week = cycle.week_start(timezone.localdate())
    mine = None
    if staff and staff.is_cm:
        mine = WeeklyReport.objects.filter(cm=staff, week=week).first()
        if request.method == "POST":
            try:
                services.save_weekly(request.user, week, request.POST.get("summary", ""), request.POST.get("plan", ""))
                messages.success(request, _("Weekly summary and plan saved."))
                return redirect("forecasting:weekly")
            except services.ForecastError as exc:
                messages.error(request, _errors(exc))
    elif request.method == "POST":
        return HttpResponseForbidden(_("The weekly summary is written by the CM himself."))
    reports = WeeklyReport.objects.filter(cm__in=selectors.visible_cms(request.user)).select_related("cm")
    page, query = paginate(request, reports)
    return render(
        request,
        "forecasting/weekly.html",
        {
            "week": week,
            "mine": mine,
            "page": page,
            "query": query,
            "posted": request.POST if request.method == "POST" else None,
        },
    )


# -- shop (POS) keys ------------------------------------------------------------------------------------------
@login_required
def shop_keys(request, customer_id: int):
    """Issue and revoke a shop's POS keys. The raw key is shown on this one response and never again."""
    customer = get_object_or_404(visible_customers(request.user).filter(industry="tobacco"), pk=customer_id)
    raw = None
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                key = get_object_or_404(
                    ShopKey.objects.select_related("customer"), pk=request.POST["revoke"], customer=customer
                )
                if services.revoke_shop_key(request.user, key):
                    messages.success(request, _("Key revoked."))
                return redirect("forecasting:shop_keys", customer_id=customer.pk)
            _key, raw = services.issue_shop_key(request.user, customer, request.POST.get("name", ""))
        except services.NotAllowed as exc:
            return HttpResponseForbidden(_errors(exc))
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
            return redirect("forecasting:shop_keys", customer_id=customer.pk)
    keys = ShopKey.objects.filter(customer=customer).order_by("-created_at")
    return render(
        request,
        "forecasting/shop_keys.html",
        {"c": customer, "keys": keys, "raw": raw, "can_manage": services.can_manage_keys(request.user, customer)},
    )


# -- emergency and special orders -----------------------------------------------------------------------------
@login_required
def special_orders(request):
    """CMs raise emergency and special orders for their shops; managers approve or reject those above the
    CMs' limits. Everyone sees the orders of the shops in his scope; ``?export=xlsx`` downloads them."""
    staff = get_staff(request.user)
    posted = None
    if request.method == "POST":
        try:
            if request.POST.get("order"):
                approve = request.POST.get("decision") == "approve"
                order = get_object_or_404(services.visible_special_orders(request.user), pk=request.POST["order"])
                services.decide_special_order(request.user, order, approve, request.POST.get("note", ""))
                messages.success(request, _("Order approved.") if approve else _("Order rejected."))
            else:
                order = services.raise_special_order(
                    request.user,
                    request.POST.get("customer"),
                    request.POST.get("spec", ""),
                    request.POST.get("month", ""),
                    request.POST.get("quantity"),
                    request.POST.get("kind", ""),
                    request.POST.get("reason", ""),
                )
                if order.state == order.State.APPROVED:
                    messages.success(request, _("Order approved within your limit and added to the ledger."))
                else:
                    messages.success(request, _("Order above your limit: it waits for a manager's approval."))
            return redirect("forecasting:special")
        except services.NotAllowed as exc:
            return HttpResponseForbidden(_errors(exc))
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
            posted = request.POST
    orders = services.visible_special_orders(request.user)
    state = request.GET.get("state", "")
    if state in SpecialOrder.State.values:
        orders = orders.filter(state=state)
    if request.GET.get("export"):
        headers = [
            _("Month"),
            _("Customer"),
            _("Spec"),
            _("Quantity"),
            _("Kind"),
            _("Reason"),
            _("State"),
            _("Raised by"),
            _("Decided by"),
            _("Note"),
        ]
        return table_response(
            "special_orders",
            headers,
            (
                [
                    o.month.strftime("%Y-%m"),
                    o.customer.name,
                    o.spec.code,
                    o.quantity,
                    o.get_kind_display(),
                    o.reason,
                    o.get_state_display(),
                    o.raised_by.name,
                    o.decided_by.name if o.decided_by else "",
                    o.note,
                ]
                for o in orders
            ),
            request.GET.get("export", "xlsx"),
        )
    page, query = paginate(request, orders)
    per_order, monthly = services.special_limits()
    shops = visible_customers(request.user).filter(industry="tobacco").order_by("name") if staff and staff.is_cm else []
    return render(
        request,
        "forecasting/special.html",
        {
            "page": page,
            "query": query,
            "state": state,
            "states": SpecialOrder.State.choices,
            "kinds": SpecialOrder.Kind.choices,
            "shops": shops,
            "specs": Spec.objects.all(),
            "per_order": per_order,
            "monthly": monthly,
            "month": timezone.localdate().strftime("%Y-%m"),
            "can_decide": services.is_manager(request.user),
            "posted": posted,
        },
    )


# -- month-end survey -------------------------------------------------------------------------------------------
def _survey_month_or_404(request) -> dt.date:
    month = services.month_or_current(request.GET.get("month") or request.POST.get("month"))
    if month is None:
        raise Http404
    return month


@login_required
def survey(request):
    """The month-end social-inventory and profit survey: the CM's shops with their state, and per region unit the
    inventory, stock-to-sales ratio and gross margin (``?export=xlsx`` downloads the unit table)."""
    month = _survey_month_or_404(request)
    rows = services.survey_summary(request.user, month)
    if request.GET.get("export"):
        headers = [
            _("Region unit"),
            _("Shops"),
            _("Surveyed"),
            _("Social inventory (cartons)"),
            _("Sold (cartons)"),
            _("Stock-to-sales ratio"),
            _("Sales (yuan)"),
            _("Purchases (yuan)"),
            _("Gross profit (yuan)"),
            _("Gross margin"),
        ]
        keys = [
            "unit",
            "shops",
            "surveyed",
            "stock",
            "sold",
            "stock_to_sales",
            "sales",
            "purchases",
            "profit",
            "margin",
        ]
        return table_response(
            "survey", headers, ([r[k] for k in keys] for r in rows), request.GET.get("export", "xlsx")
        )
    staff = get_staff(request.user)
    shops = []
    if staff and staff.is_cm:
        done = set(ShopSurvey.objects.filter(customer__cm=staff, month=month).values_list("customer_id", flat=True))
        for c in visible_customers(request.user).filter(industry="tobacco", status="active").order_by("code"):
            shops.append({"c": c, "done": c.pk in done})
    running = month == cycle.month_start(timezone.localdate())  # the ledger's sold is the month so far
    return render(
        request, "forecasting/survey.html", {"month": month, "rows": rows, "shops": shops, "running": running}
    )


@login_required
def survey_customer(request, customer_id: int):
    """One shop's survey form, built for a phone: the stock of each spec it sells, then sales and purchases."""
    customer = get_object_or_404(visible_customers(request.user).filter(industry="tobacco"), pk=customer_id)
    month = _survey_month_or_404(request)
    staff = get_staff(request.user)
    own = bool(staff and staff.is_cm and customer.cm_id == staff.pk)
    posted = None
    if request.method == "POST":
        stock = {key[6:]: request.POST[key] for key in request.POST if key.startswith("stock_")}
        try:
            services.save_survey(
                request.user,
                customer,
                request.POST.get("month"),
                stock,
                request.POST.get("sales_amount", ""),
                request.POST.get("purchase_amount", ""),
                request.POST.get("note", ""),
            )
            messages.success(request, _("Survey saved."))
            return redirect(f"{reverse('forecasting:survey')}?month={month:%Y-%m}")
        except services.NotAllowed as exc:
            return HttpResponseForbidden(_errors(exc))
        except services.ForecastError as exc:
            messages.error(request, _errors(exc))
            posted = request.POST
    entries = {e.spec_id: e.stock for e in LedgerEntry.objects.filter(customer=customer, month=month)}
    specs = [
        {"spec": sp, "stock": posted.get(f"stock_{sp.code}", "") if posted else entries.get(sp.pk)}
        for sp in services.survey_specs(customer, month)
    ]
    survey = ShopSurvey.objects.filter(customer=customer, month=month).first()
    return render(
        request,
        "forecasting/survey_customer.html",
        {"c": customer, "month": month, "specs": specs, "survey": survey, "own": own, "posted": posted},
    )


# -- the spec catalogue ---------------------------------------------------------------------------------------
STATE_LABELS = {
    "on_sale": gettext_lazy("On sale"),
    "new": gettext_lazy("New"),
    "upcoming": gettext_lazy("Not yet launched"),
    "discontinued": pgettext_lazy("spec", "Withdrawn"),
}
SPEC_FORM_FIELDS = ("brand", "name", "price_class", "price", "packs_per_unit", "launched", "discontinued")


def _spec_field_label(field: str) -> str:
    return str(Spec._meta.get_field(field).verbose_name)


def _spec_value(field: str, value: Any) -> Any:
    """A value of an import's change as the page shows it (a price class by its label)."""
    return PriceClass(value).label if field == "price_class" and value in PriceClass.values else value


def _spec_export_rows(specs, today: dt.date, carried: dict[int, tuple[int, int]]):
    for s in specs:
        shops, demand = carried.get(s.pk, (0, 0))
        yield [
            s.code,
            s.brand,
            s.name,
            s.get_price_class_display(),
            s.price,
            s.packs_per_unit,
            s.launched.isoformat() if s.launched else "",
            s.discontinued.isoformat() if s.discontinued else "",
            str(STATE_LABELS[spec_catalogue.state_of(s, today)]),
            shops,
            demand,
        ]


@login_required
def specs(request):
    """The spec catalogue for everyone (filters, how many of my shops ordered each spec last month, Excel); the
    marketing center also imports the catalogue file here (dry run first) and adds or edits specs."""
    today = timezone.localdate()
    editor = spec_catalogue.may_edit(request.user)
    report = None
    if request.method == "POST":
        if not editor:
            return HttpResponseForbidden(_("The marketing center keeps the spec catalogue."))
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file to upload."))
            return redirect("forecasting:specs")
        try:
            table = read_table(upload, filename=upload.name)
        except TableError as exc:
            messages.error(request, str(exc))
            return redirect("forecasting:specs")
        dry_run = bool(request.POST.get("dry_run"))
        report = spec_catalogue.import_specs(request.user, table, dry_run=dry_run, filename=upload.name)
        report["dry_run"], report["filename"] = dry_run, upload.name
        for change in report["changes"]:
            change["shown"] = [
                (_spec_field_label(f), _spec_value(f, before), _spec_value(f, after))
                for f, (before, after) in change["fields"].items()
            ]
        if report["written"]:
            messages.success(
                request,
                _("Catalogue imported: %(created)s specs added, %(updated)s changed, %(unchanged)s unchanged.")
                % report,
            )
            return redirect("forecasting:specs")
    f = {k: request.GET.get(k, "") for k in ("q", "brand", "price_class", "state")}
    qs = spec_catalogue.listed(**f, day=today)
    last = selectors.latest_ledger_month(request.user, upto=cycle.add_months(cycle.month_start(today), -1))
    carried = spec_catalogue.carried(selectors.visible_ledger(request.user), last)
    if request.GET.get("export"):
        headers = [names[0] for names in spec_catalogue.SPEC_COLUMNS.values()] + ["状态", "上月订货户数", "上月需求量"]
        return table_response(
            "specs", headers, _spec_export_rows(qs, today, carried), fmt=request.GET.get("format", "xlsx")
        )
    page, query = paginate(request, qs)
    rows = [{"spec": s, "state": spec_catalogue.state_of(s, today), "carried": carried.get(s.pk, (0, 0))} for s in page]
    return render(
        request,
        "forecasting/specs.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "f": f,
            "brands": Spec.objects.order_by("brand").values_list("brand", flat=True).distinct(),
            "classes": PriceClass.choices,
            "states": [(k, str(v)) for k, v in STATE_LABELS.items()],
            "state_labels": STATE_LABELS,
            "last": last,
            "editor": editor,
            "report": report,
            "columns": spec_catalogue.SPEC_COLUMNS,
            "total": Spec.objects.count(),
        },
    )


@login_required
def spec_detail(request, spec_id: int | None = None):
    """One spec: its figures, its last twelve months in my scope and its change history; the marketing center
    edits it here (``spec_id`` None: a new spec)."""
    spec = get_object_or_404(Spec, pk=spec_id) if spec_id is not None else None
    editor = spec_catalogue.may_edit(request.user)
    if spec is None and not editor:
        raise Http404
    errors: dict[str, str] = {}
    posted = None
    if request.method == "POST":
        if not editor:
            return HttpResponseForbidden(_("The marketing center keeps the spec catalogue."))
        code = spec.code if spec else request.POST.get("code", "")
        try:
            saved, changes = spec_catalogue.save_spec(
                request.user, code, {k: request.POST.get(k, "") for k in SPEC_FORM_FIELDS}
            )
        except spec_catalogue.SpecError as exc:
            errors, posted = exc.errors, request.POST
        else:
            if changes:
                messages.success(request, _("Spec %(code)s saved.") % {"code": saved.code})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("forecasting:spec_detail", spec_id=saved.pk)
    today = timezone.localdate()
    months, trend = [], []
    if spec is not None:
        first = cycle.add_months(cycle.month_start(today), -12)
        rows = (
            selectors.visible_ledger(request.user)
            .filter(spec=spec, month__gte=first, month__lt=cycle.month_start(today), demand__gt=0)
            .values("month")
            .annotate(shops=Count("customer_id"), demand=Sum("demand"), supplied=Sum("supplied"))
            .order_by("month")
        )
        by_month = {r["month"]: r for r in rows}
        months = [
            by_month.get(m, {"month": m, "shops": 0, "demand": 0, "supplied": 0})
            for m in (cycle.add_months(first, k) for k in range(12))
        ]
        trend = charts.bar_chart(
            [(f"{m['month']:%Y-%m}", m["demand"]) for m in months], title=_("Demand"), fmt=lambda v: f"{v:,.0f}"
        )
    return render(
        request,
        "forecasting/spec_detail.html",
        {
            "spec": spec,
            "state": spec_catalogue.state_of(spec, today) if spec else "",
            "state_labels": STATE_LABELS,
            "editor": editor,
            "errors": errors,
            "posted": posted,
            "classes": PriceClass.choices,
            "months": months,
            "trend": trend,
            "history": [
                (h, [(_spec_field_label(f), _spec_value(f, b), _spec_value(f, a)) for f, (b, a) in h.changes.items()])
                for h in (spec_catalogue.history(spec) if spec else [])
            ],
        },
    )
