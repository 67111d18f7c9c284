"""JSON API of the monthly cycle, mounted at ``/api/forecasting/``.

Staff authenticate like everywhere else (bearer token or session) and see their scope only. A shop's POS
authenticates **as the shop** with its own key (``Authorization: Bearer shop_…``, see ``ShopKey``) and can only
send its own self-report. Managers may read and comment; any attempt to change a CM's figures answers 403.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from kejing.core import audit, uploads
from kejing.core.models import Job
from kejing.core.tabular import TableError, read_table
from kejing.customers.selectors import visible_customers
from kejing.org.scoping import get_staff

from . import cycle, selectors, services, spec_catalogue
from .models import ForecastLine, KeyCustomer, Round, ShopKey, SpecialOrder, WeeklyReport

router = Router(tags=["forecasting"])


class ShopKeyAuth(HttpBearer):
    """Authenticates a shop (not a person) by its POS key; the request then acts for that shop only."""

    def authenticate(self, request, token: str):
        key = ShopKey.objects.for_raw(token)
        if key is None or key.customer.status != "active":
            return None
        request.shop_key = key
        return key


def _forbidden_as_403(view):
    @wraps(view)
    def inner(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except services.NotAllowed as exc:
            raise HttpError(403, exc.errors.get("__all__", str(exc))) from exc

    return inner


def _round(month: str = "") -> Round:
    target = cycle.parse_month(month) if month else cycle.target_of(timezone.localdate())
    if target is None:
        raise HttpError(400, "月份格式应为 2026-03 / month must look like 2026-03")
    rnd = Round.objects.filter(target=target).first()
    if rnd is None:
        raise HttpError(404, "该月尚未开启预测 / no forecast round for this month")
    return rnd


def _uploaded_table(file: UploadedFile):
    """An uploaded xlsx/csv read as a table; a file that is no table (wrong type, unknown encoding, no header)
    is a 400 saying why."""
    try:
        return read_table(file, filename=file.name)
    except TableError as exc:
        raise HttpError(400, str(exc)) from exc


class Message(Schema):
    detail: str


class RoundOut(Schema):
    target: dt.date
    phase: str | None
    deadline: dt.date
    deadline_named: dt.date  # the policy's day (the 8th) before the holiday rule moved it to ``deadline``
    self_report_deadline: dt.date
    locked: str
    model_ran_at: dt.datetime | None
    model_name: str
    balanced_at: dt.datetime | None


class LineIn(Schema):
    spec: str
    quantity: int | None = None


class LinesIn(Schema):
    month: str = ""
    lines: list[LineIn] = []


class LineOut(Schema):
    customer_id: int
    customer_code: str
    spec: str
    model: int | None
    model_lo: int | None
    model_hi: int | None
    self_report: int | None
    cm: int | None
    merged: int
    source: str
    balanced: int | None


class LedgerOut(Schema):
    customer_id: int
    customer_code: str
    spec: str
    month: dt.date
    demand: int | None
    supplied: int | None
    sold: int | None
    stock: int | None
    allocated: int | None
    recorded_forecast: int | None
    guidance: str


class LedgerPage(Schema):
    count: int
    month: dt.date | None  # the month listed (None: every month)
    items: list[LedgerOut]


class WriteOut(Schema):
    changed: int


class MonthIn(Schema):
    month: str = ""


class CommentIn(Schema):
    month: str = ""
    cm: str = ""
    text: str = ""


class KeyIn(Schema):
    cm: str = ""
    customer_ids: list[int] = []


class SupplyRow(Schema):
    spec: str
    area: str
    quantity: int


class SupplyIn(Schema):
    month: str = ""
    rows: list[SupplyRow] = []


class LimitRow(Schema):
    customer: str
    spec: str
    cap: int | None = None
    min: int | None = None


class LimitsIn(Schema):
    month: str = ""
    rows: list[LimitRow] = []


class BalanceIn(Schema):
    month: str = ""
    mode: str = ""


class LimitOut(Schema):
    customer: str
    customer_name: str
    spec: str
    spec_name: str
    forecast: int
    cap: int | None
    min: int | None
    balanced: int | None
    at_cap: bool
    min_short: int
    reason: str


class FeedbackIn(Schema):
    month: str = ""
    guidance: str = ""
    informed_on: dt.date | None = None


class WeeklyIn(Schema):
    week: dt.date | None = None
    summary: str = ""
    plan: str = ""


class WeeklyOut(Schema):
    cm: str
    week: dt.date
    summary: str
    plan: str


def _line(ln: ForecastLine) -> dict[str, Any]:
    return {
        "customer_id": ln.customer_id,
        "customer_code": ln.customer.code,
        "spec": ln.spec.code,
        "model": ln.model_qty,
        "model_lo": ln.model_lo,
        "model_hi": ln.model_hi,
        "self_report": ln.self_qty,
        "cm": ln.cm_qty,
        "merged": ln.merged_qty,
        "source": ln.source,
        "balanced": ln.balanced_qty,
    }


@router.get("/rounds/current", response=RoundOut, summary="The round being worked on, its phase and my lock")
def current(request, month: str = ""):
    rnd = _round(month)
    staff = get_staff(request.user)
    phase = cycle.phase_on(timezone.localdate(), services.policy()["cycle"])
    return {
        "target": rnd.target,
        "phase": phase.code if phase else None,
        "deadline": services.deadline(rnd),
        "deadline_named": cycle.named_submit_day(rnd.target, services.policy()["cycle"]),
        "self_report_deadline": cycle.self_report_deadline(rnd.target, services.policy()["cycle"]),
        "locked": services.lock_reason(rnd, staff.pk if staff and staff.is_cm else None),
        "model_ran_at": rnd.model_ran_at,
        "model_name": rnd.model_name,
        "balanced_at": rnd.balanced_at,
    }


@router.get("/ledger", response=LedgerPage, summary="Sales ledger (动销台帐) in my scope, one month at a time")
def ledger(
    request,
    month: str = "",
    customer_id: int | None = None,
    all_months: bool = Query(False, alias="all"),
    page: int = 1,
    page_size: int = 200,
):
    """One month of the ledger: ``month`` (``2026-10``), else the latest month of my scope up to this one —
    three years of every shop are millions of rows. ``customer_id`` without ``month`` lists every month of that
    shop; ``all=true`` every month of my scope (counting them is slow for a whole company)."""
    qs = selectors.visible_ledger(request.user).order_by("-month", "customer__code", "spec__code")
    listed = None
    if month:
        listed = cycle.parse_month(month)
        if listed is None:
            raise HttpError(400, "月份格式应为 2026-03 / month must look like 2026-03")
    elif customer_id is None and not all_months:
        listed = selectors.latest_ledger_month(request.user, upto=cycle.month_start(timezone.localdate()))
        if listed is None:
            return {"count": 0, "month": None, "items": []}
    if listed:
        qs = qs.filter(month=listed)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    size = max(1, min(page_size, 1000))
    start = (max(1, page) - 1) * size
    items = [
        {
            "customer_id": e.customer_id,
            "customer_code": e.customer.code,
            "spec": e.spec.code,
            **{f: getattr(e, f) for f in ("month", "demand", "supplied", "sold", "stock", "allocated")},
            "recorded_forecast": e.recorded_forecast,
            "guidance": e.guidance,
        }
        for e in qs[start : start + size]
    ]
    return {"count": qs.count(), "month": listed, "items": items}


@router.get("/forecasts", response=list[LineOut], summary="Forecast lines (three sources, merged, balanced)")
def forecasts(request, month: str = "", customer_id: int | None = None, limit: int = 500):
    rnd = _round(month)
    qs = selectors.visible_lines(request.user).filter(round=rnd).select_related("customer", "spec")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return [_line(ln) for ln in qs.order_by("customer__code", "spec__code")[: max(1, min(limit, 5000))]]


@router.put(
    "/forecasts/{customer_id}",
    response={200: WriteOut, 400: Message, 403: Message},
    summary="CM interactive forecast for one customer (the CM himself, until he submits or the 8th)",
)
@_forbidden_as_403
def enter(request, customer_id: int, body: LinesIn):
    customer = get_object_or_404(visible_customers(request.user), pk=customer_id)
    rnd = _round(body.month)
    changed = services.enter_cm_forecast(request.user, rnd, customer, {x.spec: x.quantity for x in body.lines})
    return {"changed": changed}


@router.post(
    "/self-report",
    auth=ShopKeyAuth(),
    response={200: WriteOut, 400: Message},
    summary="A shop's own forecast for next month, sent by its POS with the shop's key",
)
def self_report(request, body: LinesIn):
    rnd = _round(body.month)
    changed = services.self_report(request.shop_key, rnd, {x.spec: x.quantity for x in body.lines})
    return {"changed": changed}


@router.post("/submit", response={200: Message, 400: Message, 403: Message}, summary="Submit my unit's forecast")
@_forbidden_as_403
def submit(request, body: MonthIn):
    sub = services.submit(request.user, _round(body.month))
    return {"detail": f"submitted {sub.total}"}


@router.get("/consolidation", summary="Totals by unit, department, CM, spec or price class")
def consolidation(request, month: str = "", by: str = "unit") -> list[dict[str, Any]]:
    return selectors.consolidation(request.user, _round(month), by)


@router.get("/submissions", summary="Which CMs have submitted")
def submissions(request, month: str = "") -> list[dict[str, Any]]:
    rows = selectors.submissions(request.user, _round(month))
    return [
        {"cm": r["cm"].employee_no, "name": r["cm"].name, "submitted_at": r["submitted_at"], "total": r["total"]}
        for r in rows
    ]


@router.post("/comments", response={201: Message, 400: Message, 403: Message}, summary="Comment on a CM's forecast")
@_forbidden_as_403
def comment(request, body: CommentIn):
    cm = get_object_or_404(selectors.visible_cms(request.user), employee_no=body.cm)
    services.add_comment(request.user, _round(body.month), cm, body.text)
    return Status(201, {"detail": "ok"})


@router.get("/key-customers", response=list[int], summary="My key customers (ids)")
def key_customers(request, cm: str = ""):
    qs = KeyCustomer.objects.filter(customer__in=visible_customers(request.user).values("pk"))
    if cm:
        qs = qs.filter(customer__cm__employee_no=cm)
    return list(qs.values_list("customer_id", flat=True).order_by("customer_id"))


@router.put("/key-customers", response={200: WriteOut, 400: Message, 403: Message}, summary="Set a CM's key customers")
@_forbidden_as_403
def set_key_customers(request, body: KeyIn):
    staff = get_staff(request.user)
    cm = get_object_or_404(selectors.visible_cms(request.user), employee_no=body.cm) if body.cm else staff
    if cm is None:
        raise HttpError(404, "Not Found")
    return {"changed": services.set_key_customers(request.user, cm, body.customer_ids)}


@router.post("/supply", response={200: WriteOut, 400: Message, 403: Message}, summary="Enter supply per spec and area")
@_forbidden_as_403
def supply(request, body: SupplyIn):
    rows = [(i, {"spec": r.spec, "area": r.area, "quantity": str(r.quantity)}) for i, r in enumerate(body.rows, 1)]
    return {"changed": services.set_supply(request.user, _round(body.month), rows)}


def _limit_rows(rows: list[LimitRow]) -> list[tuple[int, dict[str, str]]]:
    text = lambda v: "" if v is None else str(v)  # noqa: E731
    return [
        (i, {"customer": r.customer, "spec": r.spec, "cap": text(r.cap), "min": text(r.min)})
        for i, r in enumerate(rows, 1)
    ]


@router.get("/limits", response={200: list[LimitOut], 403: Message}, summary="Shop caps and minimums of a round")
@_forbidden_as_403
def limits(request, month: str = ""):
    """Each cap/minimum with the merged forecast, the balanced quantity and what was not met (after balancing)."""
    services._center_required(request.user)
    return services.limit_outcomes(_round(month))


@router.post(
    "/limits", response={200: WriteOut, 400: Message, 403: Message}, summary="Set shop caps and minimums (rows)"
)
@_forbidden_as_403
def set_limits(request, body: LimitsIn):
    """``rows``: ``{customer, spec, cap, min}``; ``cap``/``min`` may be null; both null removes the limit.
    Any bad row -> 400 naming row and field, nothing written."""
    return {"changed": services.set_limits(request.user, _round(body.month), _limit_rows(body.rows))}


@router.post(
    "/limits/import",
    response={200: WriteOut, 400: Message, 403: Message},
    summary="Import shop caps and minimums (xlsx/csv: 客户编码, 规格编码, 上限, 最低量)",
)
@_forbidden_as_403
def import_limits(request, file: File[UploadedFile], month: str = ""):
    """The same file the supply page takes; any bad row -> 400 naming row and field, nothing written."""
    services._center_required(request.user)
    rnd = _round(month)
    table = _uploaded_table(file)
    return {"changed": services.set_limits(request.user, rnd, table.rows, header=table.header)}


@router.post("/balance", response={202: dict, 400: Message, 403: Message}, summary="Start balancing (background job)")
@_forbidden_as_403
def balance(request, body: BalanceIn):
    """``mode``: ``proportional`` or ``tier`` (same quantity per 档位); empty = the policy's mode."""
    from .tasks import run_balance

    services._center_required(request.user)
    rnd = _round(body.month)
    if rnd.balanced_at is not None:
        return Status(400, {"detail": "本轮已完成平衡 / this round has already been balanced"})
    if body.mode and body.mode not in services.BALANCE_MODES:
        return Status(400, {"detail": f"未知分配方式 {body.mode} / unknown mode: proportional or tier"})
    job, started = services.start_round_job(request.user, rnd, "forecast_balance", run_balance, mode=body.mode or None)
    return Status(202, {"job": job.pk, "status": job.status, "started": started})


@router.post("/ledger/import", response={202: dict, 403: Message}, summary="Check or import a ledger file (job)")
def ledger_import(request, file: File[UploadedFile], dry_run: bool = True):
    """``dry_run=true`` only checks; ``POST ledger/import/{job_id}`` then imports the same stored file."""
    if not services.is_manager(request.user):
        raise HttpError(403, "只有管理人员可以导入动销台帐 / only managers import the sales ledger")
    from .views import start_ledger_import

    job = start_ledger_import(request.user, file, dry_run=dry_run)
    job.refresh_from_db()
    return Status(202, {"job": job.pk, "status": job.status})


@router.post(
    "/ledger/import/{job_id}",
    response={202: dict, 400: Message, 403: Message, 410: Message},
    summary="Import a checked file",
)
def ledger_import_now(request, job_id: int):
    from .tasks import run_ledger_import

    # someone else's (or no) job is a 404 before anything else
    prev = get_object_or_404(Job, pk=job_id, created_by=request.user, kind="import_ledger")
    if not services.is_manager(request.user):
        raise HttpError(403, "只有管理人员可以导入动销台帐 / only managers import the sales ledger")
    try:
        job = uploads.import_now(prev, run_ledger_import)
    except uploads.NotClean as exc:
        return Status(400, {"detail": str(exc)})
    except uploads.FileGone as exc:
        return Status(410, {"detail": str(exc)})
    job.refresh_from_db()
    return Status(202, {"job": job.pk, "status": job.status})


class JobOut(Schema):
    id: int
    kind: str
    status: str
    done: int
    total: int
    percent: int
    message: str
    result: dict[str, Any]
    created_at: dt.datetime
    finished_at: dt.datetime | None


@router.get("/jobs/{job_id}", response=JobOut, summary="Progress and result of a job I started")
def job_status(request, job_id: int):
    return get_object_or_404(
        Job,
        pk=job_id,
        created_by=request.user,
        kind__in=["forecast_model", "forecast_balance", "import_ledger", "forecast_check", "forecast_file"],
    )


@router.post("/model-run", response={202: dict, 403: Message}, summary="Run the model forecast as a background job")
def model_run(request, body: MonthIn):
    if not services.is_manager(request.user):
        raise HttpError(403, "只有管理人员可以运行模型预测 / only managers start the model run")
    from .tasks import run_model_forecast

    rnd = _round(body.month)
    job, started = services.start_round_job(request.user, rnd, "forecast_model", run_model_forecast)
    return Status(202, {"job": job.pk, "status": job.status, "started": started})


class CheckIn(Schema):
    horizon: int = 2
    folds: int = 3
    auto_ets: bool = True


@router.post(
    "/model-check",
    response={202: dict, 400: Message, 403: Message},
    summary="Backtest the model on my own history (background job)",
)
def model_check(request, body: CheckIn):
    """Kejing's method against the seasonal naive and AutoETS on the unit x spec history of the caller's units
    (the whole company for the marketing center); the job's result has the figures of ``kejing forecast
    backtest``. Managers only; reads only."""
    if not services.is_manager(request.user):
        raise HttpError(403, "只有管理人员可以检验模型 / only managers check the model")
    from .tasks import run_model_check

    try:
        params = services.check_params(body.horizon, body.folds, body.auto_ets)
    except services.ForecastError as exc:
        return Status(400, {"detail": "; ".join(exc.errors.values())})
    job = Job.objects.create(kind="forecast_check", created_by=request.user, params=params)
    run_model_check.enqueue(job.pk)
    job.refresh_from_db()
    return Status(202, {"job": job.pk, "status": job.status})


@router.post(
    "/model-check/file",
    response={202: dict, 400: Message, 403: Message},
    summary="Backtest the model on an uploaded sales file (background job)",
)
def model_check_file(
    request,
    file: File[UploadedFile],
    horizon: Form[int] = 2,
    folds: Form[int] = 3,
    auto_ets: Form[bool] = True,
    id_col: Form[str] = "",
    date_col: Form[str] = "",
    value_col: Form[str] = "",
):
    """Multipart form: ``file`` (CSV or .xlsx in any layout ``kejing forecast backtest`` reads), ``horizon``,
    ``folds``, ``auto_ets`` and, where the headers do not say, ``id_col`` / ``date_col`` / ``value_col``. The
    job's result has the same figures as the command on the same file, with the policy's model settings; the file
    is deleted once read. Managers only."""
    from .views import start_file_check

    return _upload_job(
        request,
        lambda: services.check_file_params(horizon, folds, auto_ets, id_col, date_col, value_col),
        lambda user, params: start_file_check(user, file, params),
        "只有管理人员可以检验模型 / only managers check the model",
    )


def _upload_job(request, settings, start, refused: str):
    """The API's side of an upload that becomes a job: managers only (403 ``refused``), the settings checked by
    ``settings()`` and the file by ``start`` (400 naming the field or the file), else 202 with the job."""
    if not services.is_manager(request.user):
        raise HttpError(403, refused)
    try:
        job = start(request.user, settings())
    except services.ForecastError as exc:
        return Status(400, {"detail": "; ".join(exc.errors.values())})
    job.refresh_from_db()
    return Status(202, {"job": job.pk, "status": job.status})


@router.post(
    "/forecast-file",
    response={202: dict, 400: Message, 403: Message},
    summary="Forecast the series of an uploaded sales file (background job)",
)
def forecast_file(
    request,
    file: File[UploadedFile],
    horizon: Form[int] = 3,
    id_col: Form[str] = "",
    date_col: Form[str] = "",
    value_col: Form[str] = "",
):
    """Multipart form: ``file`` (CSV or .xlsx in any layout ``kejing forecast run`` reads), ``horizon`` (1–24)
    and, where the headers do not say, ``id_col`` / ``date_col`` / ``value_col``. The job's result names the
    series and months and previews the first rows; ``GET forecast-file/{job}/download`` gives the forecasts.
    Managers only."""
    from .views import start_forecast_file

    return _upload_job(
        request,
        lambda: services.forecast_file_params(horizon, id_col, date_col, value_col),
        lambda user, params: start_forecast_file(user, file, params),
        "只有管理人员可以用模型预测文件 / only managers forecast a file with the model",
    )


@router.get("/forecast-file/{job_id}/download", summary="The forecasts of my file forecast (xlsx or csv)")
def forecast_file_download(request, job_id: int, format: str = "xlsx"):
    """``format=csv``: the file ``kejing forecast run`` writes (unique_id, ds, yhat, lo_80, hi_80, lo_95, hi_95,
    model); ``xlsx``: the same with bilingual headers. 404 for a job that is not the caller's or not done."""
    from .views import forecast_file_response

    job = get_object_or_404(Job, pk=job_id, kind="forecast_file", created_by=request.user, status=Job.Status.DONE)
    return forecast_file_response(job, format)


@router.post(
    "/feedback/{customer_id}",
    response={200: Message, 400: Message, 403: Message},
    summary="Record that the shop was told its balanced quantities",
)
@_forbidden_as_403
def feedback(request, customer_id: int, body: FeedbackIn):
    customer = get_object_or_404(visible_customers(request.user), pk=customer_id)
    services.record_feedback(request.user, _round(body.month), customer, body.guidance, body.informed_on)
    return {"detail": "ok"}


@router.get("/reports", summary="Accuracy, fulfilment, 订足率, bias and error by group and month")
def reports(request, by: str = "unit", months: int = 6) -> dict[str, Any]:
    data = selectors.report(request.user, selectors.closed_targets(max(1, min(months, 24))), by)
    return data


@router.get("/weekly", response=list[WeeklyOut], summary="Weekly summaries and plans in my scope")
def weekly(request, limit: int = 50):
    cms = selectors.visible_cms(request.user)
    qs = WeeklyReport.objects.filter(cm__in=cms).select_related("cm")[: max(1, min(limit, 500))]
    return [{"cm": r.cm.employee_no, "week": r.week, "summary": r.summary, "plan": r.plan} for r in qs]


@router.put(
    "/weekly", response={200: WeeklyOut, 400: Message, 403: Message}, summary="Write my weekly summary and plan"
)
@_forbidden_as_403
def write_weekly(request, body: WeeklyIn):
    r = services.save_weekly(request.user, body.week or timezone.localdate(), body.summary, body.plan)
    return {"cm": r.cm.employee_no, "week": r.week, "summary": r.summary, "plan": r.plan}


class ShopKeyOut(Schema):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


class ShopKeyIn(Schema):
    name: str = "pos"


class IssuedKeyOut(ShopKeyOut):
    key: str


def _shop(request, customer_id: int):
    return get_object_or_404(visible_customers(request.user).filter(industry="tobacco"), pk=customer_id)


@router.get("/shops/{customer_id}/keys", response=list[ShopKeyOut], summary="A shop's POS keys (no raw keys)")
def shop_keys(request, customer_id: int):
    return list(ShopKey.objects.filter(customer=_shop(request, customer_id)).order_by("-created_at"))


@router.post(
    "/shops/{customer_id}/keys",
    response={201: IssuedKeyOut, 400: Message, 403: Message},
    summary="Issue a POS key; the raw key is in this response only",
)
@_forbidden_as_403
def issue_shop_key(request, customer_id: int, body: ShopKeyIn):
    key, raw = services.issue_shop_key(request.user, _shop(request, customer_id), body.name)
    return Status(
        201,
        {
            "id": key.pk,
            "name": key.name,
            "created_at": key.created_at,
            "last_used_at": None,
            "revoked": False,
            "key": raw,
        },
    )


@router.post(
    "/shops/{customer_id}/keys/{key_id}/revoke",
    response={200: ShopKeyOut, 403: Message},
    summary="Revoke a POS key",
)
@_forbidden_as_403
def revoke_shop_key(request, customer_id: int, key_id: int):
    key = get_object_or_404(ShopKey.objects.select_related("customer"), pk=key_id, customer=_shop(request, customer_id))
    services.revoke_shop_key(request.user, key)
    return key


class SpecialOrderIn(Schema):
    customer_id: int
    spec: str
    quantity: int
    kind: str
    reason: str
    month: str = ""


class SpecialOrderOut(Schema):
    id: int
    customer_id: int
    spec: str
    month: dt.date
    quantity: int
    kind: str
    reason: str
    state: str
    within_limit: bool
    raised_by: str
    decided_by: str | None
    note: str


class DecisionIn(Schema):
    approve: bool
    note: str = ""


def _order_out(o: SpecialOrder) -> dict[str, Any]:
    return {
        "id": o.pk,
        "customer_id": o.customer_id,
        "spec": o.spec.code,
        "month": o.month,
        "quantity": o.quantity,
        "kind": o.kind,
        "reason": o.reason,
        "state": o.state,
        "within_limit": o.within_limit,
        "raised_by": o.raised_by.employee_no,
        "decided_by": o.decided_by.employee_no if o.decided_by else None,
        "note": o.note,
    }


@router.get("/special-orders", response=list[SpecialOrderOut], summary="Emergency and special orders in my scope")
def special_orders(request, state: str = "", limit: int = 100):
    qs = services.visible_special_orders(request.user)
    if state:
        qs = qs.filter(state=state)
    return [_order_out(o) for o in qs[: max(1, min(limit, 1000))]]


@router.post(
    "/special-orders",
    response={201: SpecialOrderOut, 400: Message, 403: Message},
    summary="Raise an emergency or special order for one of my shops (approved at once within my limits)",
)
@_forbidden_as_403
def raise_special_order(request, body: SpecialOrderIn):
    o = services.raise_special_order(
        request.user, body.customer_id, body.spec, body.month, body.quantity, body.kind, body.reason
    )
    return Status(201, _order_out(o))


@router.post(
    "/special-orders/{order_id}/decision",
    response={200: SpecialOrderOut, 400: Message, 403: Message, 404: Message},
    summary="Approve or reject a waiting special order (managers of the shop's unit)",
)
@_forbidden_as_403
def decide_special_order(request, order_id: int, body: DecisionIn):
    order = get_object_or_404(services.visible_special_orders(request.user), pk=order_id)
    return _order_out(services.decide_special_order(request.user, order, body.approve, body.note))


class SurveyIn(Schema):
    month: str = ""
    stock: dict[str, int | None] = {}
    sales_amount: str = ""  # checked by the service, which names the field
    purchase_amount: str = ""
    note: str = ""


class SurveyOut(Schema):
    customer_id: int
    month: dt.date
    sales_amount: str
    purchase_amount: str
    gross_profit: str
    note: str


@router.get("/survey", summary="Month-end survey by region unit: social inventory, stock-to-sales, gross margin")
def survey_summary(request, month: str = ""):
    target = services.month_or_current(month)
    if target is None:
        raise HttpError(400, "月份格式应为 2026-03 / month must look like 2026-03")
    return services.survey_summary(request.user, target)


@router.put(
    "/survey/{customer_id}",
    response={200: SurveyOut, 400: Message, 403: Message, 404: Message},
    summary="Enter a shop's month-end survey (its CM): stock per spec, sales and purchases of the month",
)
@_forbidden_as_403
def save_survey(request, customer_id: int, body: SurveyIn):
    customer = get_object_or_404(visible_customers(request.user).filter(industry="tobacco"), pk=customer_id)
    stock = {k: "" if v is None else v for k, v in body.stock.items()}
    s = services.save_survey(
        request.user, customer, body.month, stock, body.sales_amount, body.purchase_amount, body.note
    )
    return {
        "customer_id": s.customer_id,
        "month": s.month,
        "sales_amount": str(s.sales_amount),
        "purchase_amount": str(s.purchase_amount),
        "gross_profit": str(s.gross_profit),
        "note": s.note,
    }


# -- the spec catalogue -----------------------------------------------------------------------------------------
class SpecOut(Schema):
    code: str
    brand: str
    name: str
    price_class: str
    price: str
    packs_per_unit: int
    launched: dt.date | None
    discontinued: dt.date | None
    state: str  # on_sale, new, upcoming or discontinued, today


class SpecIn(Schema):
    """Fields to set; a field left out keeps its value (a new code needs brand, name, price_class and price).
    ``launched`` / ``discontinued``: ``2026-03-01`` or a month (``2026-03``); ``""`` clears the date."""

    brand: str | None = None
    name: str | None = None
    price_class: str | None = None
    price: str | None = None
    packs_per_unit: int | None = None
    launched: str | None = None
    discontinued: str | None = None


class SpecSaved(Schema):
    spec: SpecOut
    changes: dict[str, list[Any]]


def _spec_out(s, today: dt.date) -> dict[str, Any]:
    return {
        "code": s.code,
        "brand": s.brand,
        "name": s.name,
        "price_class": s.price_class,
        "price": str(s.price),
        "packs_per_unit": s.packs_per_unit,
        "launched": s.launched,
        "discontinued": s.discontinued,
        "state": spec_catalogue.state_of(s, today),
    }


@router.get("/specs", response=list[SpecOut], summary="The cigarette spec catalogue (anyone signed in)")
def spec_list(request, q: str = "", brand: str = "", price_class: str = "", state: str = ""):
    """``state``: ``on_sale`` (new ones included), ``new``, ``upcoming`` or ``discontinued``, today."""
    today = timezone.localdate()
    return [_spec_out(s, today) for s in spec_catalogue.listed(q, brand, price_class, state, day=today)]


# before "/specs/{code}": Django resolves the first pattern that matches, and "import" would be a code
@router.post(
    "/specs/import",
    response={200: dict, 400: Message, 403: Message},
    summary="Check (dry_run, the default) or import a catalogue file (xlsx/csv); marketing center",
)
@_forbidden_as_403
def spec_import(request, file: File[UploadedFile], dry_run: bool = True):
    """The page's file: every row checked first, one bad row and nothing is written; the report lists the errors
    by row and column, or each spec added or changed with its fields' before and after."""
    spec_catalogue.require_editor(request.user)
    table = _uploaded_table(file)
    return spec_catalogue.import_specs(request.user, table, dry_run=dry_run, filename=file.name)


@router.put(
    "/specs/{code}",
    response={200: SpecSaved, 400: Message, 403: Message},
    summary="Add a spec or change some of its fields (marketing center); audited",
)
@_forbidden_as_403
def spec_save(request, code: str, body: SpecIn):
    """Checked as one row of a catalogue file; any bad field -> 400 naming it, nothing written."""
    fields = {k: v for k, v in body.dict().items() if v is not None}
    spec, changes = spec_catalogue.save_spec(request.user, code, fields)
    return {
        "spec": _spec_out(spec, timezone.localdate()),
        "changes": {k: [audit.plain(a), audit.plain(b)] for k, (a, b) in changes.items()},
    }
