"""Writes of the monthly cycle: each in one transaction, audited, with errors that name the field or the row.

Who may write what (L2793-L2795): a CM writes his own customers' figures until he submits or the deadline
(the 8th) passes; a shop writes its own self-report through its API key until the 6th; managers and
department heads supervise and comment but never change a CM's figures (``NotAllowed`` -> HTTP 403); the
marketing center enters supply and runs the balancing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from kejing.core import audit
from kejing.core.db import insert_rows, update_rows
from kejing.core.models import AuditLog, Job
from kejing.core.policies import get_policy
from kejing.core.tabular import is_total_word
from kejing.customers.models import Customer
from kejing.customers.selectors import visible_customers
from kejing.customers.services import CustomerError
from kejing.org.models import MANAGER_ROLES, OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin, staff_scope, unit_scope
from kejing.service.models import Task

from . import cycle
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
    Source,
    Spec,
    SpecialOrder,
    Submission,
    Supply,
    UnitHistory,
    WeeklyReport,
    merge_values,
)


class ForecastError(CustomerError):
    """Bad input or a closed step; the API answers 400 with the field-keyed messages."""


class NotAllowed(ForecastError):
    """The caller sees the object but may not change it (a manager touching a CM's figures): HTTP 403."""


def policy() -> dict[str, Any]:
    return get_policy("tobacco", "forecasting")


def merge_order() -> list[str]:
    return list(policy()["merge"]["order"])


def festival_setting(pol: dict[str, Any] | None = None) -> str:
    """The policy's Spring Festival move for the model forecast (``[model] spring_festival``: auto, on or off;
    missing = auto), checked; the engine takes the word as it is. A company that knows its sales follow the lunar
    festival sets "on" so that the move does not wait for the history to prove it (docs/forecasting.md)."""
    from .engine.models import festival_word

    value = (pol if pol is not None else policy()).get("model", {}).get("spring_festival", "auto")
    try:
        return festival_word(value)
    except ValueError as exc:
        raise ForecastError(f"预测政策 [model] spring_festival / forecasting policy: {exc}") from None


def trading_days_setting(pol: dict[str, Any] | None = None) -> bool:
    """The policy's trading-day switch for the model forecast (``[model] trading_days``: true or false; missing =
    true): whether the engine may take the effect of a month's weekday make-up out of the history where the F
    test finds one (docs/forecasting-engine.md). A company whose orders do not follow the week sets false."""
    value = (pol if pol is not None else policy()).get("model", {}).get("trading_days", True)
    if not isinstance(value, bool):
        raise ForecastError(
            f"预测政策 [model] trading_days 应为 true 或 false / forecasting policy: [model] trading_days must be "
            f"true or false, not {value!r}"
        )
    return value


def festival_window_setting(pol: dict[str, Any] | None = None) -> int:
    """The policy's festival buying window (``[model] festival_window_days``: whole days, 0 to 45; missing = 0):
    where the Spring Festival is moved, the engine may also read it as buying spread over that many days before
    the festival, split between January and February by the days each holds, and keeps whichever of that and
    the festival's month alone fits each series' past January/February shares better
    (docs/forecasting-engine.md, round 15). Shops stock up for the festival in the weeks before it, so a
    festival on 3 February sells mostly in January."""
    from .engine.models import festival_window_days

    try:
        model = (pol if pol is not None else policy()).get("model", {})
        return festival_window_days(model.get("festival_window_days", 0))
    except ValueError as exc:
        raise ForecastError(f"预测政策 [model] festival_window_days / forecasting policy: {exc}") from None


def check_policy(data: dict[str, Any]) -> list[str]:
    """What is wrong with a forecasting policy document (``[]`` when nothing is): the words and numbers the cycle
    and the model test when they run, checked when the document is saved in the admin site or loaded from a file
    (``ForecastingConfig.policy_checks``, :func:`kejing.core.policies.problems`).

    Why: a word the code does not know (``holiday_rule = "monday"``, ``spring_festival = "yes"``) otherwise
    surfaced only when a page or the monthly job read it, as a server error on every cycle page."""
    problems = []
    for setting in (festival_setting, trading_days_setting, festival_window_setting):
        try:
            setting(data)
        except ForecastError as exc:
            problems += list(exc.errors.values())
    cyc = data.get("cycle", {})
    try:
        cycle.holiday_rule(cyc)
    except ValueError as exc:
        problems.append(f"预测政策 / forecasting policy: {exc}")
    for key in ("submit_day", "self_report_until_day"):
        value = cyc.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= abs(value) <= 31:
            problems.append(
                f"预测政策 [cycle] {key} 应为 1–31 的整数(负数从月末倒数)/ forecasting policy: [cycle] {key} must be "
                f"a whole day 1-31 (negative: from the month's end), not {value!r}"
            )
    sources = [s.value for s in Source if s.value]  # the line's sources: cm, self, model
    order = data.get("merge", {}).get("order", sources)
    if not order or len(set(order)) != len(order) or not set(order) <= set(sources):
        problems.append(
            f"预测政策 [merge] order 应取自 / forecasting policy: [merge] order takes each of "
            f"{', '.join(sources)} at most once, not {order!r}"
        )
    return problems


def model_settings():
    """The engine settings of the policy (the trading-day switch and the festival buying window; the festival
    word goes as its own argument)."""
    from .engine import Settings
    from .engine.models import festival_windows_of

    return Settings(
        trading_days=trading_days_setting(), festival_windows=festival_windows_of(festival_window_setting())
    )


class ModelPolicy(NamedTuple):
    """What the policy gives every run of the model (the monthly job, the checks, a file forecast): the Spring
    Festival word, the engine settings and the season."""

    festival: str
    settings: Any
    season: int

    def said(self) -> dict[str, Any]:
        """The settings as a job's result states them, for its page to print beside the figures."""
        return {
            "spring_festival": self.festival,
            "festival_window_days": max(self.settings.festival_windows),
            "trading_days": self.settings.trading_days,
        }


def model_policy() -> ModelPolicy:
    """The policy's :class:`ModelPolicy`, each part checked (:func:`festival_setting`, :func:`model_settings`)."""
    return ModelPolicy(festival_setting(), model_settings(), int(policy()["model"]["season"]))


# -- specs ----------------------------------------------------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def carton_packs(data: dict[str, Any] | None = None) -> int:
    """Packs in a carton by the ``cigarettes`` policy (10): a spec's default ``packs_per_unit``."""
    data = data if data is not None else get_policy("tobacco", "cigarettes")
    return int(data.get("units", {}).get("carton", {}).get("packs", 10))


@transaction.atomic
def load_specs() -> int:
    """Create or update the specs of the catalogue policy; returns how many were written."""
    from decimal import Decimal

    data = get_policy("tobacco", "cigarettes")
    packs = carton_packs(data)
    existing = {s.code: s for s in Spec.objects.all()}
    n = 0
    for row in data["catalog"]["specs"]:
        values = dict(
            brand=row["brand"],
            name=row["name"],
            price_class=row["price_class"],
            price=Decimal(str(row["price"])),
            packs_per_unit=packs,
            launched=_date(row.get("launched")),
            discontinued=_date(row.get("discontinued")),
        )
        spec = existing.get(row["code"])
        if spec is None:
            Spec.objects.create(code=row["code"], **values)
            n += 1
        elif any(getattr(spec, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(spec, k, v)
            spec.save()
            n += 1
    return n


def specs() -> list[Spec]:
    if not Spec.objects.exists():
        load_specs()
    return list(Spec.objects.all())


# -- rounds and the calendar ----------------------------------------------------------------------------------
def current_round(today: dt.date | None = None) -> Round | None:
    today = today or timezone.localdate()
    return Round.objects.filter(target=cycle.target_of(today)).first()


def deadline(rnd: Round) -> dt.date:
    return cycle.submit_deadline(rnd.target, policy()["cycle"])


def lock_reason(rnd: Round, cm_id: int | None, today: dt.date | None = None) -> str:
    """Why the CM's figures of ``rnd`` can no longer change ('' when they still can)."""
    today = today or timezone.localdate()
    if cm_id is not None and Submission.objects.filter(round=rnd, cm_id=cm_id).exists():
        return "submitted"
    if today > deadline(rnd):
        return "deadline"
    return ""


LOCK_MESSAGES = {
    "submitted": "本月预测已提交,不能再修改 / this month's forecast has been submitted and is locked",
    "deadline": "已过提交截止日,预测已锁定 / the submission deadline has passed; the forecast is locked",
    "self_deadline": "客户自报已截止 / self-reporting for this month has closed",
}

PHASE_TASK_TITLES = {
    "forecast": "{m} 需求预测:重点客户互动预测与客户自报",
    "submit": "{m} 汇总并提交本单元预测(截止{d})",
    "visits": "{m} 日常拜访与市场分析",
    "balance": "{m} 查看修正平衡结果",
    "feedback": "{m} 向客户反馈平衡后的预测并记入动销台帐",
    "summary": "{m} 社会库存与盈利调查、月度总结与下月计划",
}


@transaction.atomic
def open_round(target: dt.date, today: dt.date | None = None) -> Round:
    """Open the round for ``target`` (idempotent): a line for every active shop x spec it carried in the
    last months, and the six phase tasks on every CM's list."""
    today = today or timezone.localdate()
    target = cycle.month_start(target)
    rnd, _ = Round.objects.get_or_create(target=target)
    share_months = int(policy()["model"]["share_months"])
    last = cycle.add_months(target, -2)
    first = cycle.add_months(last, -(share_months - 1))
    line, ledger, cust, spec = (
        ForecastLine._meta.db_table,
        LedgerEntry._meta.db_table,
        Customer._meta.db_table,
        Spec._meta.db_table,
    )
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {line} (round_id, customer_id, spec_id, cm_id, unit_id, merged_qty, source)
            SELECT DISTINCT %s, l.customer_id, l.spec_id, c.cm_id, c.unit_id, 0, ''
            FROM {ledger} l JOIN {cust} c ON c.id = l.customer_id JOIN {spec} s ON s.id = l.spec_id
            WHERE l.month >= %s AND l.month <= %s AND l.demand > 0 AND c.status = 'active'
              AND c.industry = 'tobacco' AND (s.discontinued IS NULL OR s.discontinued >= %s)
              AND NOT EXISTS (SELECT 1 FROM {line} f
                              WHERE f.round_id = %s AND f.customer_id = l.customer_id AND f.spec_id = l.spec_id)""",
            [rnd.pk, first, last, target, rnd.pk],
        )
    _phase_tasks(rnd)
    return rnd


def _phase_tasks(rnd: Round) -> None:
    cyc = policy()["cycle"]
    month = cycle.working_month(rnd.target)
    have = set(PhaseTask.objects.filter(round=rnd).values_list("task__staff_id", "phase"))
    cms = list(Staff.objects.filter(role=Role.CM, active=True, unit__industry="tobacco").values_list("pk", flat=True))
    label = f"{rnd.target:%Y-%m}"
    pending: list[tuple[str, Task]] = []
    for phase in cycle.phases(month, cyc):
        title = PHASE_TASK_TITLES.get(phase.code, phase.zh + " {m}").format(m=label, d=f"{deadline(rnd):%m-%d}")
        for cm_id in cms:
            if (cm_id, phase.code) not in have:
                due = cycle.due_day(phase.end, cyc)
                pending.append((phase.code, Task(staff_id=cm_id, kind=Task.Kind.OTHER, title=title, due=due)))
    if pending:
        made = Task.objects.bulk_create([t for _, t in pending], batch_size=1000)
        PhaseTask.objects.bulk_create(
            [PhaseTask(round=rnd, phase=code, task=t) for (code, _), t in zip(pending, made, strict=True)],
            batch_size=1000,
        )


def close_phase_task(rnd: Round | None, cm_id: int, phase: str, week: dt.date | None = None) -> None:
    qs = PhaseTask.objects.filter(phase=phase, task__staff_id=cm_id, task__done_at__isnull=True)
    qs = qs.filter(round=rnd) if rnd is not None else qs.filter(week=week)
    Task.objects.filter(pk__in=qs.values("task_id")).update(done_at=timezone.now())


# -- key customers --------------------------------------------------------------------------------------------
def customer_values(customer_ids: Iterable[int], target: dt.date) -> dict[int, float]:
    """Value of each customer over the last months before the round: demand x wholesale price."""
    months = int(policy()["key_customers"]["months"])
    last = cycle.add_months(target, -2)
    first = cycle.add_months(last, -(months - 1))
    out: dict[int, float] = defaultdict(float)
    rows = (
        LedgerEntry.objects.filter(customer_id__in=list(customer_ids), month__gte=first, month__lte=last)
        .values_list("customer_id", "demand", "spec__price")
        .iterator()
    )
    for cid, demand, price in rows:
        out[cid] += float(demand or 0) * float(price)
    return out


def suggest_key_customers(cm: Staff, target: dt.date) -> list[int]:
    """The key half of the CM's active customers by value, plus the types the policy always includes."""
    rules = policy()["key_customers"]
    customers = list(Customer.objects.filter(cm=cm, status="active").values_list("pk", "customer_type"))
    values = customer_values([pk for pk, _ in customers], target)
    ranked = sorted(customers, key=lambda c: (-values.get(c[0], 0.0), c[0]))
    n = math.ceil(len(ranked) * float(rules["share"]))
    chosen = {pk for pk, _ in ranked[:n]}
    chosen |= {pk for pk, kind in customers if kind in rules.get("always", [])}
    return sorted(chosen)


def _own_cm(user, customer: Customer) -> Staff | None:
    """The CM who owns ``customer`` when ``user`` is that CM, else None."""
    staff = get_staff(user)
    if staff is not None and staff.role == Role.CM and customer.cm_id == staff.pk:
        return staff
    return None


def _cm_customer(user, customer: Customer) -> Staff:
    """The CM who owns ``customer`` when ``user`` is that CM; managers get ``NotAllowed`` (they see, not change)."""
    staff = _own_cm(user, customer)
    if staff is not None:
        return staff
    raise NotAllowed(
        "只有该客户的客户经理可以修改其预测;市场经理和营销部只能查看和批注 / only the customer's own CM may change "
        "its forecast; managers may view and comment"
    )


@transaction.atomic
def set_key_customers(user, cm: Staff, customer_ids: Iterable[int], suggested: bool = False) -> int:
    """Replace the CM's key list by ``customer_ids`` (his own customers only); audited per change."""
    staff = get_staff(user)
    if not (is_admin(user) or (staff and staff.pk == cm.pk) or staff_scope(user).filter(pk=cm.pk).exists()):
        raise NotAllowed("无权修改该客户经理的重点客户 / you may not change this CM's key customers")
    own = set(Customer.objects.filter(cm=cm).values_list("pk", flat=True))
    wanted = set(customer_ids)
    foreign = wanted - own
    if foreign:
        raise ForecastError({"customer_ids": f"不属于该客户经理的客户 / not this CM's customers: {sorted(foreign)}"})
    current = set(KeyCustomer.objects.filter(customer__cm=cm).values_list("customer_id", flat=True))
    removed, added = current - wanted, wanted - current
    KeyCustomer.objects.filter(customer_id__in=removed).delete()
    KeyCustomer.objects.bulk_create(
        [KeyCustomer(customer_id=pk, suggested=suggested, chosen_by=user) for pk in sorted(added)]
    )
    now = timezone.now()
    audit.record_many(
        [
            AuditLog(
                at=now,
                actor=user,
                action="key_customer",
                model="customers.customer",
                object_pk=str(pk),
                customer_id=pk,
                changes={"key_customer": [pk in current, pk in wanted]},
            )
            for pk in sorted(removed | added)
        ]
    )
    return len(removed) + len(added)


# -- the three sources ----------------------------------------------------------------------------------------
# a whole number with thousands commas, as a spreadsheet formats it ("#,##0") and saves it into a CSV: 1,200
_GROUPED_WHOLE = re.compile(r"\d{1,3}(,\d{3})+")


_WHOLE_DECIMAL = re.compile(r"(\d+)\.0+")


def _whole_text(value: Any) -> str:
    """The text of a quantity cell as the digits of a whole number where it is one: full-width digits read as
    digits (``１２``, typed with a Chinese input method), thousands commas taken out when they group it properly
    (``1,200`` -> ``1200``; ``1,20`` stays as it is and is refused by whoever reads it), and a decimal part of
    zeros dropped (``12.0``, ``12.00``; ``12.5`` stays and is refused). Why: a ledger or supply file saved from a
    spreadsheet or another system keeps its number format (``#,##0``, two decimals), and every row was refused."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if _GROUPED_WHOLE.fullmatch(text.split(".")[0]):
        text = text.replace(",", "")
    whole = _WHOLE_DECIMAL.fullmatch(text)
    return whole.group(1) if whole else text


def _is_total_row(row: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether a file's row is a 合计/小计 row (one of its ``keys`` cells is a total word, ``core.tabular``): the
    sum of other rows in a report saved from another system, never a shop's, a spec's or an area's figures. The
    ledger, supply and limit files leave such rows out instead of refusing them as unknown codes."""
    return any(is_total_word(row.get(k) or "") for k in keys)


def _quantity(value: Any, field: str, errors: dict[str, str], limit: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and (value[0] != "0" or value == "0"):
        # the common cell, plain digits: what the reading below gives, without normalising it first (an import
        # of a company's ledger history reads millions of them)
        qty = int(value)
    else:
        try:
            text = _whole_text(value)
            qty = int(text)
            if str(qty) != text and not isinstance(value, int):
                raise ValueError
        except (TypeError, ValueError):
            errors[field] = f"应为非负整数(条) / must be a whole number of cartons: {value!r}"
            return None
    limit = limit if limit is not None else int(policy()["limits"]["max_line_qty"])
    if qty < 0 or qty > limit:
        errors[field] = f"数量应在 0 到 {limit} 之间 / the quantity must be between 0 and {limit}: {qty}"
        return None
    return qty


def _lines_for(rnd: Round, customer: Customer, quantities: dict[str, Any]) -> tuple[dict, dict[str, str]]:
    """Resolve spec codes to (spec, quantity) and validate; unknown or withdrawn specs are errors."""
    errors: dict[str, str] = {}
    by_code = {s.code: s for s in Spec.objects.filter(code__in=list(quantities))}
    parsed = {}
    for code, value in quantities.items():
        spec = by_code.get(code)
        if spec is None:
            errors[code] = f"未知的卷烟规格 / unknown spec '{code}'"
            continue
        if not spec.on_sale(rnd.target):
            errors[code] = f"该规格在 {rnd.target:%Y-%m} 不销售 / '{code}' is not on sale in {rnd.target:%Y-%m}"
            continue
        qty = _quantity(value, code, errors)
        if code not in errors:
            parsed[spec] = qty
    return parsed, errors


def _write_source(rnd: Round, customer: Customer, field: str, parsed: dict, actor, action: str, note: str = "") -> int:
    order = merge_order()
    existing = {ln.spec_id: ln for ln in ForecastLine.objects.select_for_update().filter(round=rnd, customer=customer)}
    changed = 0
    for spec, qty in parsed.items():
        line = existing.get(spec.pk)
        if line is None:
            if qty is None:
                continue
            line = ForecastLine(round=rnd, customer=customer, spec=spec, cm_id=customer.cm_id, unit_id=customer.unit_id)
        before = getattr(line, field)
        if line.pk and before == qty:
            continue
        setattr(line, field, qty)
        line.merge(order)
        line.save()
        audit.record(
            actor=actor,
            action=action,
            obj=line,
            customer=customer,
            changes={f"{spec.code}.{field}": [before, qty]},
            note=note,
        )
        changed += 1
    return changed


@transaction.atomic
def enter_cm_forecast(user, rnd: Round, customer: Customer, quantities: dict[str, Any]) -> int:
    """The CM's interactive forecast for one customer: ``{spec code: cartons or None}``. Returns lines changed."""
    cm = _cm_customer(user, customer)
    reason = lock_reason(rnd, cm.pk)
    if reason:
        raise ForecastError(LOCK_MESSAGES[reason])
    parsed, errors = _lines_for(rnd, customer, quantities)
    if errors:
        raise ForecastError(errors)
    return _write_source(rnd, customer, "cm_qty", parsed, user, "forecast_cm")


@transaction.atomic
def self_report(key: ShopKey, rnd: Round, quantities: dict[str, Any], today: dt.date | None = None) -> int:
    """A shop's own forecast for the target month, sent by its POS with its key; refused after the 6th or once
    its CM has submitted."""
    today = today or timezone.localdate()
    customer = key.customer
    if today > cycle.self_report_deadline(rnd.target, policy()["cycle"]):
        raise ForecastError(LOCK_MESSAGES["self_deadline"])
    reason = lock_reason(rnd, customer.cm_id, today)
    if reason:
        raise ForecastError(LOCK_MESSAGES[reason])
    parsed, errors = _lines_for(rnd, customer, quantities)
    if errors:
        raise ForecastError(errors)
    ShopKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return _write_source(rnd, customer, "self_qty", parsed, None, "forecast_self", note=f"shop key {key.name}")


@transaction.atomic
def submit(user, rnd: Round) -> Submission:
    """The CM hands in his unit's forecast (by the 8th); his figures are locked from now on."""
    staff = get_staff(user)
    if staff is None or staff.role != Role.CM:
        raise NotAllowed("只有客户经理本人可以提交预测 / only the CM himself submits his forecast")
    reason = lock_reason(rnd, staff.pk)
    if reason:
        raise ForecastError(LOCK_MESSAGES[reason])
    total = ForecastLine.objects.filter(round=rnd, cm=staff).aggregate(t=Sum("merged_qty"))["t"] or 0
    sub = Submission.objects.create(round=rnd, cm=staff, total=total)
    audit.record(actor=user, action="forecast_submit", obj=sub, changes={"total": [None, total]})
    close_phase_task(rnd, staff.pk, "forecast")
    close_phase_task(rnd, staff.pk, "submit")
    return sub


def may_comment(user, cm: Staff) -> bool:
    """The comment rule, the same on the page and the API: any staff member who can see the CM may comment on his
    round (his managers up the tree, the center, the committee, and the CM himself, e.g. answering his manager).
    A comment never changes a figure."""
    return get_staff(user) is not None and staff_scope(user).filter(pk=cm.pk).exists()


@transaction.atomic
def add_comment(user, rnd: Round, cm: Staff, text: str) -> Comment:
    """A remark on a CM's forecast, by someone who may comment on it (``may_comment``)."""
    staff = get_staff(user)
    if not may_comment(user, cm):
        raise NotAllowed("无权批注该客户经理的预测 / you may not comment on this CM's forecast")
    text = (text or "").strip()
    if not text:
        raise ForecastError({"text": "请填写批注内容 / the comment is empty"})
    comment = Comment.objects.create(round=rnd, cm=cm, author=staff, text=text[:500])
    audit.record(actor=user, action="forecast_comment", obj=comment, changes={"text": [None, comment.text]})
    return comment


# -- the model source -----------------------------------------------------------------------------------------
def _engine():
    from kejing.forecasting import engine

    return engine


def history_frame(last_month: dt.date, months: int, units=None):
    """Long-format unit x spec history (``unique_id, ds, y``) for the model, ``months`` back from ``last_month``;
    ``units`` (a queryset of org units) narrows it to those units' series."""
    import pandas as pd

    first = cycle.add_months(last_month, -(months - 1))
    qs = UnitHistory.objects.filter(month__gte=first, month__lte=last_month)
    if units is not None:
        qs = qs.filter(unit__in=units)
    rows = list(qs.values_list("unit_id", "spec_id", "month", "demand"))
    df = pd.DataFrame(rows, columns=["unit_id", "spec_id", "ds", "y"])
    df["unique_id"] = df["unit_id"].astype(str) + ":" + df["spec_id"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    df["y"] = df["y"].astype(float)
    return df[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"], ignore_index=True)


def run_model(rnd: Round, job: Job | None = None, method: str | None = None) -> dict[str, Any]:
    """Forecast unit x spec totals with the engine and share them out to the shops by their recent demand.

    Lines of CMs who have submitted keep their merged figure (their forecast is locked); their model column is
    still filled so that the report can compare the model with what was handed in.
    """
    import pandas as pd

    conf = policy()["model"]
    last = cycle.add_months(rnd.target, -2)
    if job:
        job.progress(0, 3, "读取历史 / reading history")
    df = history_frame(last, int(conf["history_months"]))
    if df.empty:
        raise ForecastError("没有可用的历史销量 / there is no sales history to learn from")
    df, end = _to_common_end(df)
    # the months from the ledger's latest to the target: 2 (the month in progress and the target) when last month
    # is in, more when its ledger is late; each series from the same end, so every one reaches the target
    horizon = cycle.months_between(end, rnd.target)
    mp = model_policy()
    festival, settings = mp.festival, mp.settings
    fc = _engine().forecast(
        df,
        horizon,
        season=mp.season,
        level=(80,),
        method=method or conf["method"],
        spring_festival=festival,
        settings=settings,
    )
    effect = fc.attrs.get("weekday_effect", {"found": False})
    fc = fc[pd.to_datetime(fc["ds"]) == pd.Timestamp(rnd.target)]
    unit_fc = {
        tuple(int(x) for x in uid.split(":")): (max(0.0, yhat), max(0.0, lo), max(0.0, hi))
        for uid, yhat, lo, hi in fc[["unique_id", "yhat", "lo_80", "hi_80"]].itertuples(index=False)
    }
    if job:
        job.progress(1, 3, "分配到客户 / sharing out to the shops")
    share_first = cycle.add_months(last, -(int(conf["share_months"]) - 1))
    recent: dict[tuple[int, int], int] = defaultdict(int)
    for cid, sid, demand in LedgerEntry.objects.filter(month__gte=share_first, month__lte=last).values_list(
        "customer_id", "spec_id", "demand"
    ):
        recent[(cid, sid)] += demand or 0
    lines = list(
        ForecastLine.objects.filter(round=rnd).values_list(
            "pk", "customer_id", "spec_id", "unit_id", "cm_id", "cm_qty", "self_qty"
        )
    )
    unit_total: dict[tuple[int, int], int] = defaultdict(int)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for _, cid, sid, uid, *_ in lines:
        unit_total[(uid, sid)] += recent[(cid, sid)]
        counts[(uid, sid)] += 1
    locked = set(Submission.objects.filter(round=rnd).values_list("cm_id", flat=True))
    if timezone.localdate() > deadline(rnd):
        locked |= {ln[4] for ln in lines}
    order = merge_order()
    updates, model_only = [], []
    for pk, cid, sid, uid, cm_id, cm_qty, self_qty in lines:
        yhat, lo, hi = unit_fc.get((uid, sid), (0.0, 0.0, 0.0))
        total = unit_total[(uid, sid)]
        share = recent[(cid, sid)] / total if total else 1.0 / counts[(uid, sid)]
        qty, qlo, qhi = (round(v * share) for v in (yhat, lo, hi))
        if cm_id in locked:
            model_only.append((qty, qlo, qhi, pk))
            continue
        merged, source = merge_values(order, cm_qty, self_qty, qty)
        updates.append((qty, qlo, qhi, merged, source, pk))
    with transaction.atomic():
        update_rows(ForecastLine, ["model_qty", "model_lo", "model_hi", "merged_qty", "source"], updates)
        update_rows(ForecastLine, ["model_qty", "model_lo", "model_hi"], model_only)
        name = str(method or conf["method"])
        Round.objects.filter(pk=rnd.pk).update(model_ran_at=timezone.now(), model_name=name[:40])
        audit.record(
            actor=job.created_by if job else None,
            action="forecast_model",
            obj=rnd,
            changes={"lines": [None, len(updates) + len(model_only)]},
            note=f"series {len(unit_fc)}, method {name}, trading days {'on' if settings.trading_days else 'off'}, "
            f"spring festival {festival}, festival window {max(settings.festival_windows)} days",
        )
    if job:
        job.progress(3, 3, "完成 / done")
    return {
        "month": f"{rnd.target:%Y-%m}",
        "series": len(unit_fc),
        "lines": len(updates),
        "locked_lines": len(model_only),
        "model": name,
        **mp.said(),
        "weekday_effect": effect,
        "history_ends": f"{end:%Y-%m}",
        "history_late": end < last,
        "horizon": horizon,
    }


def _to_common_end(df):
    """The unit x spec history with every series carried to the latest month in it (months without a row are 0:
    no shop of the unit ordered the spec), and that month.

    Why: the engine forecasts each series from its own last month. A unit whose shops stopped ordering a spec in
    September then got forecasts for October and November only, never for the target, and its shops' model figure
    was 0 with nothing said; worse, when the whole ledger of last month was not in yet (the import late on the
    1st), no series reached the target and every line got 0. Carried to the common end, a series that stopped
    is forecast from its zeros, and a late ledger only lengthens the horizon — the job's result says so
    (``history_late``, ``history_ends``).
    """
    import pandas as pd

    end = df["ds"].max()
    lasts = df.groupby("unique_id", sort=False)["ds"].max()
    short = lasts[lasts < end].index
    if len(short):
        pad = pd.DataFrame({"unique_id": short, "ds": end, "y": 0.0})
        df = pd.concat([df, pad], ignore_index=True).sort_values(["unique_id", "ds"], ignore_index=True)
    return df, end.date()


# -- model check -----------------------------------------------------------------------------------------------
CHECK_LIMITS = {"horizon": (1, 12), "folds": (1, 6)}


def check_params(horizon: Any, folds: Any, auto_ets: Any = True) -> dict[str, Any]:
    """The check's settings from a form or a JSON body, checked: whole numbers within ``CHECK_LIMITS``."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"auto_ets": auto_ets not in (False, "", "0", "false", "off", None)}
    for name, value in (("horizon", horizon), ("folds", folds)):
        lo, hi = CHECK_LIMITS[name]
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not lo <= number <= hi:
            errors[name] = f"{name} 须为 {lo}–{hi} 的整数 / {name} must be a whole number from {lo} to {hi}"
        out[name] = number
    if errors:
        raise ForecastError(errors)
    return out


def _check_backtest(df, horizon: int, folds: int, auto_ets: bool, job: Job | None, groups=None):
    """The backtest of a model check (:func:`check_model`, :func:`check_file`): Kejing's method against the
    seasonal naive and (``auto_ets``) AutoETS with the policy's settings; the engine's result, the methods in
    their order and the :class:`ModelPolicy` used."""
    from .engine import backtest

    mp = model_policy()
    methods = ("kejing", "seasonal_naive", "auto_ets") if auto_ets else ("kejing", "seasonal_naive")
    out = backtest(
        df,
        horizon,
        folds,
        season=mp.season,
        methods=methods,
        spring_festival=mp.festival,
        settings=mp.settings,
        progress=(lambda done, total, message: job.progress(done, total, message)) if job else None,
        groups=groups,
    )
    return out, methods, mp


def _most_used(counts: dict[str, int]) -> list[list[Any]]:
    """``[[model, count], …]``, most used first (then by name): how the pages list the models chosen."""
    return sorted(([str(k), int(n)] for k, n in counts.items()), key=lambda kv: (-kv[1], kv[0]))


def _scored(out: dict[str, Any], methods: tuple[str, ...]) -> dict[str, Any]:
    """A check's figures for the page and the export, taken out of the engine's ``backtest`` result: the methods
    in a fixed order (PostgreSQL's jsonb does not keep a dict's order) and the models the Kejing method chose,
    most used first (each method's ``models`` count is removed from ``out``)."""
    kejing_models = out["methods"]["kejing"].pop("models", {})
    for m in out["methods"].values():
        m.pop("models", None)
    return {
        "rows": [{"method": name, **out["methods"][name]} for name in methods],
        "models": _most_used(kejing_models),
    }


def check_model(user, horizon: int, folds: int, auto_ets: bool = True, job: Job | None = None) -> dict[str, Any]:
    """Backtest the model on the user's own history: the same unit x spec series and months the model job learns
    from (``[model].history_months`` up to the latest month in the ledger totals), rolling origins ``horizon``
    months apart, Kejing's method against the seasonal naive and (``auto_ets``) AutoETS — the same measure as
    ``kejing forecast backtest``.

    Why: a marketing center that is asked to trust the model figure should see how it did on its own sales,
    not on someone else's benchmark. A manager checks the series of his units only (a call of fewer series than
    the company's, which is what the pooled parts of the method then learn from); the center, all of them.
    Reads only, writes nothing (the job keeps the result).
    """
    if not is_manager(user):
        raise NotAllowed("只有管理人员可以检验模型 / only managers check the model")
    conf = policy()["model"]
    units = None if is_center(user) else unit_scope(user)
    # whole months only: the month in progress, where the ledger already has it, is not over
    latest = UnitHistory.objects.filter(month__lt=cycle.month_start(timezone.localdate()))
    if units is not None:
        latest = latest.filter(unit__in=units)
    last_month = latest.order_by("-month").values_list("month", flat=True).first()
    if last_month is None:
        raise ForecastError("没有可用的历史销量 / there is no sales history to check on")
    months = int(conf["history_months"])
    df = history_frame(last_month, months, units)
    # only the series the model job forecasts: those still in the latest month (a discontinued spec's run-down
    # is not something the model is asked for)
    alive = df.loc[df["ds"] == df["ds"].max(), "unique_id"].unique()
    df = df[df["unique_id"].isin(alive)]
    # each series in two groupings, its spec's price class and its region unit: where does the model do badly?
    price_of = dict(Spec.objects.values_list("pk", "price_class"))
    groups = {}
    for uid in df["unique_id"].unique():
        unit_id, spec_id = uid.split(":")
        groups[uid] = (f"price:{price_of.get(int(spec_id), '')}", f"unit:{unit_id}")
    out, methods, mp = _check_backtest(df, horizon, folds, auto_ets, job, groups)
    grouped = out.pop("groups")

    def breakdown(prefix: str, keys: list[Any], labels: dict[Any, str]) -> list[dict[str, Any]]:
        rows = []
        for key in keys:
            g = grouped.get(f"{prefix}:{key}")
            if g is not None:
                figures = [{"method": name, **g[name]} for name in methods]
                rows.append(
                    {
                        "key": key,
                        "label": labels.get(key, str(key)),
                        "series": g["series"],
                        "windows": g["windows"],
                        "rows": figures,
                        "mase_ratio": g.get("kejing_vs_auto_ets", {}).get("mase_ratio"),
                    }
                )
        return rows

    unit_names = dict(OrgUnit.objects.filter(pk__in={int(u.split(":")[0]) for u in groups}).values_list("pk", "name"))
    staff = get_staff(user)
    return {
        "ok": True,
        **out,
        **_scored(out, methods),
        "by_price_class": breakdown(
            "price", [c.value for c in PriceClass], {c.value: str(c.label) for c in PriceClass}
        ),
        "by_unit": breakdown("unit", sorted(unit_names, key=lambda pk: unit_names[pk]), unit_names),
        "first_month": f"{df['ds'].min():%Y-%m}",
        "last_month": f"{last_month:%Y-%m}",
        "scope": "" if units is None or staff is None else staff.unit.name,
        **mp.said(),
    }


# A file to check: what the page takes (the command line has no limit), the kinds of file it reads, and how its
# messages name the three column fields (the command's say --id-col …)
CHECK_FILE_MAX_MB = 20
CHECK_FILE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
CHECK_FILE_FIELDS = {
    "unique_id": "「序列名列 / series column」",
    "ds": "「日期列 / date column」",
    "y": "「销量列 / figures column」",
}


def check_file_params(
    horizon: Any, folds: Any, auto_ets: Any = True, id_col: Any = "", date_col: Any = "", value_col: Any = ""
) -> dict[str, Any]:
    """:func:`check_params` plus the three optional column names of an uploaded file (blank: found from the
    headers, as ``kejing forecast backtest`` finds them)."""
    out = check_params(horizon, folds, auto_ets)
    errors: dict[str, str] = {}
    for name, value in (("id_col", id_col), ("date_col", date_col), ("value_col", value_col)):
        text = str(value or "").strip()
        if len(text) > 200:
            errors[name] = f"{name} 过长 / {name} is longer than 200 characters"
        out[name] = text
    if errors:
        raise ForecastError(errors)
    return out


def check_upload(name: str, size: int) -> None:
    """Refuse an upload the check will not read, before it is stored: the wrong kind of file, or too big."""
    if not name.lower().endswith(CHECK_FILE_SUFFIXES):
        raise ForecastError(
            {"file": f"只接受 CSV 或 Excel 文件 / a CSV or Excel (.xlsx) file, please: {name} is neither"}
        )
    if size > CHECK_FILE_MAX_MB * 1024 * 1024:
        raise ForecastError(
            {"file": f"文件超过 {CHECK_FILE_MAX_MB} MB / the file is larger than {CHECK_FILE_MAX_MB} MB: {name}"}
        )


def _file_frame(data: bytes, filename: str, params: dict[str, Any]):
    """An uploaded sales file as the engine's long frame and what was done to its columns: the reading of
    ``kejing forecast backtest`` / ``run``, with the form's column fields in its messages."""
    from .series_file import read_frame, shape_columns

    frame = read_frame(data, filename)
    return shape_columns(
        frame,
        params.get("id_col") or None,
        params.get("date_col") or None,
        params.get("value_col") or None,
        frame.attrs.get("sep", ","),
        options=CHECK_FILE_FIELDS,
    )


def check_file(user, data: bytes, filename: str, params: dict[str, Any], job: Job | None = None) -> dict[str, Any]:
    """Backtest the model on an uploaded sales history (any layout ``kejing forecast backtest`` reads, the same
    reading and the same figures), with the policy's model settings, against the seasonal naive and AutoETS.

    Why: before a company moves its forecasting onto Kejing, the marketing center wants to see the model on the
    history its old system exports, and a manager on a region's figures the ledger does not hold (a neighbouring
    company's, last decade's). The file is read here and scored; nothing is written but the job's result.
    Managers only, as the check on the ledger: a backtest of thousands of series takes the worker minutes.
    """
    if not is_manager(user):
        raise NotAllowed("只有管理人员可以检验模型 / only managers check the model")
    from .series_file import with_columns

    df, shaped = _file_frame(data, filename, params)
    out, methods, mp = _check_backtest(df, params["horizon"], params["folds"], params.get("auto_ets", True), job)
    reading = with_columns(out["input"], shaped)
    return {
        "ok": True,
        **out,
        "source": "file",
        "filename": filename,
        **_scored(out, methods),
        "by_price_class": [],
        "by_unit": [],
        "first_month": reading.get("first", "")[:7],
        "last_month": reading.get("last", "")[:7],
        "scope": "",
        **mp.said(),
    }


# A file forecast: how far ahead the page forecasts (the command has no limit) and the headers of its workbook
FORECAST_FILE_HORIZON = (1, 24)
FORECAST_FILE_COLUMNS = {
    "unique_id": "序列 / series",
    "ds": "月份 / month",
    "yhat": "预测 / forecast",
    "lo_80": "80% 下限 / lower 80%",
    "hi_80": "80% 上限 / upper 80%",
    "lo_95": "95% 下限 / lower 95%",
    "hi_95": "95% 上限 / upper 95%",
    "model": "模型 / model",
}
FORECAST_PREVIEW_ROWS = 36
FORECAST_FILES_KEPT = 10  # a manager's file forecasts whose CSV is kept: the ten his page lists
FIGURES = ("yhat", "lo_80", "hi_80", "lo_95", "hi_95")


def forecast_file_params(horizon: Any, id_col: Any = "", date_col: Any = "", value_col: Any = "") -> dict[str, Any]:
    """The settings of a file forecast from a form or a JSON body, checked: ``horizon`` a whole number within
    :data:`FORECAST_FILE_HORIZON`, and the three optional column names of :func:`check_file_params`."""
    lo, hi = FORECAST_FILE_HORIZON
    errors: dict[str, str] = {}
    try:
        number = int(str(horizon).strip())
    except ValueError:
        number = None
    if number is None or not lo <= number <= hi:
        errors["horizon"] = f"horizon 须为 {lo}–{hi} 的整数 / horizon must be a whole number from {lo} to {hi}"
    try:
        columns = check_file_params(1, 1, False, id_col, date_col, value_col)
    except ForecastError as exc:
        errors.update(exc.errors)
        columns = {}
    if errors:
        raise ForecastError(errors)
    return {"horizon": number, **{k: columns[k] for k in ("id_col", "date_col", "value_col")}}


def _prune_forecast_files(user, keep: int) -> None:
    """Delete the stored forecasts of ``user``'s finished file forecasts beyond his ``keep`` newest, and mark
    those jobs ``expired`` (their page says so, their download is a 404).

    Why: each forecast is a file in the media storage, and nothing else ever removed one; the page lists the
    last ten, so the CSVs of the ten are what a manager can reach."""
    done = Job.objects.filter(kind="forecast_file", created_by=user, status=Job.Status.DONE).order_by("-pk")
    for old in done[keep:]:
        path = old.result.get("output")
        if not path:
            continue
        default_storage.delete(path)
        Job.objects.filter(pk=old.pk).update(result={**old.result, "output": "", "expired": True})


def forecast_file(user, data: bytes, filename: str, params: dict[str, Any], job: Job | None = None) -> dict[str, Any]:
    """Forecast the series of an uploaded sales file ``horizon`` months ahead with the policy's model settings,
    as ``kejing forecast run`` does; the forecasts are stored as that command's CSV (``forecasts/``) for the
    starter to download, and the result keeps their first rows for the page.

    Why: a planner who keeps a region's or a product line's history outside the ledger (a new channel, a
    neighbouring company's figures) wants the model's forecast of it with its intervals without a command line.
    Managers only, as the check; nothing is written but the job and its file.
    """
    if not is_manager(user):
        raise NotAllowed("只有管理人员可以用模型预测文件 / only managers forecast a file with the model")
    from .engine import forecast
    from .series_file import forecast_csv, with_columns

    if job:
        job.progress(0, 2, "读取文件 / reading the file")
    df, shaped = _file_frame(data, filename, params)
    mp = model_policy()
    if job:
        job.progress(1, 2, "预测中 / forecasting")
    out = forecast(df, params["horizon"], season=mp.season, spring_festival=mp.festival, settings=mp.settings)
    reading = with_columns(dict(out.attrs.get("input", {})), shaped)
    stem = f"forecasts/forecast-{job.pk}" if job else f"forecasts/forecast-{timezone.now():%Y%m%d%H%M%S}"
    path = default_storage.save(f"{stem}.csv", ContentFile(forecast_csv(out)))
    preview = out.head(FORECAST_PREVIEW_ROWS)
    # each series is forecast from its own last month: say how many stop before the file's last month (a spec
    # discontinued years ago is forecast for months long past, which a planner should know before he sums)
    starts = out.groupby("unique_id")["ds"].min()
    ended = int((starts < starts.max()).sum()) if len(starts) else 0
    models = out.drop_duplicates("unique_id")["model"].value_counts()
    if job:
        _prune_forecast_files(user, keep=FORECAST_FILES_KEPT - 1)  # this one is the tenth
        job.progress(2, 2, "完成 / done")
    return {
        "ok": True,
        "source": "file",
        "filename": filename,
        "output": path,
        "horizon": params["horizon"],
        "series": int(out["unique_id"].nunique()),
        "rows": len(out),
        "input": reading,
        "first_month": reading.get("first", "")[:7],
        "last_month": reading.get("last", "")[:7],
        "forecast_from": f"{out['ds'].min():%Y-%m}" if len(out) else "",
        "forecast_to": f"{out['ds'].max():%Y-%m}" if len(out) else "",
        "ended_early": ended,
        "preview": [
            [r.unique_id, f"{r.ds:%Y-%m}", *(round(float(getattr(r, c)), 1) for c in FIGURES), r.model]
            for r in preview.itertuples(index=False)
        ],
        "models": _most_used(models.to_dict()),
        **mp.said(),
        "weekday_effect": out.attrs.get("weekday_effect", {}),
    }


# -- supply and balancing -------------------------------------------------------------------------------------
def is_center(user) -> bool:
    """The marketing center (or an administrator): who decides supply, shop limits and balancing, and opens
    rounds."""
    staff = get_staff(user)
    return is_admin(user) or bool(staff and staff.role == Role.CENTER)


def _center_required(user) -> Staff | None:
    if is_center(user):
        return get_staff(user)
    raise NotAllowed("货源与平衡由营销中心处理 / supply and balancing are the marketing center's work")


SUPPLY_COLUMNS = {
    "spec": ("规格编码", "spec", "规格代码", "卷烟编码"),
    "area": ("区域编码", "area", "区域代码"),
    "quantity": ("供应量", "quantity", "投放量", "货源量"),
}


@transaction.atomic
def set_supply(user, rnd: Round, rows: list[tuple[int, dict[str, str]]], header: list[str] | None = None) -> int:
    """Enter or import supply rows ``(row number, {spec, area, quantity})``; any error -> nothing written.

    An area is any org unit in the user's scope (a department, a market area, a region unit); the same spec may
    not be given for two areas that overlap, so no shop is balanced twice. With the ``header`` of an uploaded
    file its columns are checked first and read as the other imports read theirs (:func:`header_key`: any case,
    a unit in brackets, 供应量（条）), so a missing column is named once instead of failing every row.
    """
    staff = _center_required(user)
    if rnd.balanced_at is not None:
        raise ForecastError("本轮已完成平衡 / this round has already been balanced")
    allowed = {u.code: u for u in unit_scope(user)}
    spec_by_code = {s.code: s for s in Spec.objects.all()}
    errors: dict[str, str] = {}
    parsed: list[tuple[Spec, OrgUnit, int]] = []
    header_map = _checked_header(header, SUPPLY_COLUMNS, ("spec", "area", "quantity"))
    for number, raw in rows:
        row = _fields(raw, header_map)
        if _is_total_row(row, ("spec", "area")):
            continue
        values = {f: str(row.get(f) or "").strip() for f in SUPPLY_COLUMNS}
        spec = spec_by_code.get(values["spec"])
        area = allowed.get(values["area"])
        if spec is None:
            errors[f"row {number} spec"] = f"第{number}行:未知规格 / row {number}: unknown spec '{values['spec']}'"
        if area is None:
            errors[f"row {number} area"] = (
                f"第{number}行:区域不存在或不在权限内 / row {number}: unknown area or outside your scope "
                f"'{values['area']}'"
            )
        qty = _quantity(values["quantity"], f"row {number} quantity", errors, limit=10**9)
        if values["quantity"] == "":
            errors[f"row {number} quantity"] = f"第{number}行:缺少供应量 / row {number}: quantity missing"
        if spec and area and qty is not None:
            parsed.append((spec, area, qty))
    existing = {(s.spec_id, s.area_id): s for s in Supply.objects.select_related("area").filter(round=rnd)}
    areas_by_spec: dict[int, list[OrgUnit]] = defaultdict(list)
    for (sid, _), s in existing.items():
        areas_by_spec[sid].append(s.area)
    for spec, area, _ in parsed:
        for other in areas_by_spec[spec.pk]:
            if other.pk != area.pk and (other.path.startswith(area.path) or area.path.startswith(other.path)):
                errors[f"{spec.code}@{area.code}"] = (
                    f"{spec.code}:区域 {area.code} 与 {other.code} 重叠 / areas {area.code} and {other.code} overlap"
                )
        areas_by_spec[spec.pk].append(area)
    if errors:
        raise ForecastError(errors)
    for spec, area, qty in parsed:
        old = existing.get((spec.pk, area.pk))
        before = old.quantity if old else None
        sup, _ = Supply.objects.update_or_create(
            round=rnd, spec=spec, area=area, defaults={"quantity": qty, "decided_by": staff, "at": timezone.now()}
        )
        audit.record(actor=user, action="supply", obj=sup, changes={f"{spec.code}@{area.code}": [before, qty]})
    return len(parsed)


_UNIT_SUFFIX = re.compile(r"[(（][^()（）]*[)）]$")


@functools.lru_cache(maxsize=4096)
def header_key(name: str) -> str:
    """A header as the imports compare it: any case, no spaces, a unit in brackets at its end left off.

    Why: reports from other systems write "需求量（条）", "销量(箱)" or "Customer Code"; the figures are whole
    cartons either way, so the unit names nothing the import needs.
    """
    key = "".join(name.split()).lower()
    return _UNIT_SUFFIX.sub("", key) or key


def _header_fields(
    header: list[str], columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[dict[str, str], list[str], list[str]]:
    """For an imported table: :func:`header_key` of each known header name -> field, the headers that are no
    column, and the required fields missing. The ledger import and the shop-limits import read their files this
    way."""
    header_map = {header_key(h): f for f, hs in columns.items() for h in hs}
    unknown = [h for h in header if h and header_key(h) not in header_map]
    present = {header_map.get(header_key(h)) for h in header}
    return header_map, unknown, [f for f in required if f not in present]


def _fields(raw: dict[str, str], header_map: dict[str, str]) -> dict[str, str]:
    """One row of an imported table by field name (columns that are no field left out)."""
    return {header_map[header_key(h)]: v for h, v in raw.items() if header_key(h) in header_map}


def _checked_header(
    header: list[str] | None, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, str]:
    """The header map of an uploaded file's ``header`` (:func:`_header_fields`), after refusing its unknown
    columns and naming the required ones it lacks (Chinese names first); ``None`` (rows entered on a page or sent
    to the API by field name) is not checked."""
    header_map, unknown, missing = _header_fields(header or [], columns, required)
    errors: dict[str, str] = {}
    if header is not None:
        if unknown:
            errors["row 1"] = f"第1行:未知的列 {', '.join(unknown)} / row 1: unknown columns {', '.join(unknown)}"
        if missing:
            errors["row 1 columns"] = (
                f"第1行:缺少必需的列 {', '.join(columns[f][0] for f in missing)} / row 1: required columns "
                f"missing: {', '.join(missing)}"
            )
    if errors:
        raise ForecastError(errors)
    return header_map


LIMIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("客户编码", "customer"),
    "spec": ("规格编码", "spec"),
    "cap": ("上限", "cap"),
    "min": ("最低量", "min"),
}
LIMIT_FIELDS_ZH = {"customer": "客户编码", "spec": "规格编码", "cap": "上限", "min": "最低量"}


def _limit_error(errors: dict[str, str], number: int, field: str, zh: str, en: str) -> None:
    errors[f"row {number} {field}"] = f"第{number}行 {LIMIT_FIELDS_ZH[field]}:{zh} / row {number} {field}: {en}"


@transaction.atomic
def set_limits(user, rnd: Round, rows: list[tuple[int, dict[str, str]]], header: list[str] | None = None) -> int:
    """Enter or import per-shop caps and minimums ``(row number, {customer, spec, cap, min})`` for a round.

    Either ``cap`` or ``min`` may be empty (no cap / no minimum); both empty removes the shop's limit on that
    spec. Every row is checked first (unknown customer, customer without a line of that spec in the round,
    unknown spec, not a whole number >= 0, minimum above the cap, a row repeated); any error -> nothing written.
    Each change is audited (``shop_limit``, before and after, on the customer's history). Returns rows changed.
    """
    staff = _center_required(user)
    if rnd.balanced_at is not None:
        raise ForecastError("本轮已完成平衡 / this round has already been balanced")
    errors: dict[str, str] = {}
    header_map = _checked_header(header, LIMIT_COLUMNS, ("customer", "spec"))
    customers = {c.code: c for c in visible_customers(user).filter(industry="tobacco")}
    spec_by_code = {s.code: s for s in Spec.objects.all()}
    lines = set(ForecastLine.objects.filter(round=rnd).values_list("customer_id", "spec_id"))
    parsed: dict[tuple[int, int], tuple[int, Customer, Spec, int | None, int | None]] = {}
    for number, raw in rows:
        row = {f: (v or "").strip() for f, v in _fields(raw, header_map).items()}
        if _is_total_row(row, ("customer", "spec")):
            continue
        c = customers.get(row.get("customer", ""))
        s = spec_by_code.get(row.get("spec", ""))
        if c is None:
            _limit_error(
                errors,
                number,
                "customer",
                f"客户不存在或不在权限内 '{row.get('customer', '')}'",
                f"unknown customer or outside your scope '{row.get('customer', '')}'",
            )
        if s is None:
            _limit_error(
                errors,
                number,
                "spec",
                f"未知的卷烟规格 '{row.get('spec', '')}'",
                f"unknown spec '{row.get('spec', '')}'",
            )
        if c and s and (c.pk, s.pk) not in lines:
            _limit_error(
                errors,
                number,
                "spec",
                f"客户 {c.code} 本轮没有规格 {s.code} 的预测",
                f"customer {c.code} has no line of spec {s.code} in this round",
            )
        values: dict[str, int | None] = {}
        for f in ("cap", "min"):
            text = row.get(f, "")
            try:
                value = int(_whole_text(text)) if text != "" else None
            except ValueError:
                value = -1
            if value is not None and not (0 <= value <= 10**9):
                _limit_error(errors, number, f, f"'{text}' 应为非负整数", f"'{text}' must be a whole number >= 0")
                value = None
            values[f] = value
        if values["cap"] is not None and values["min"] is not None and values["min"] > values["cap"]:
            _limit_error(
                errors,
                number,
                "min",
                f"最低量 {values['min']} 大于上限 {values['cap']}",
                f"minimum {values['min']} is above the cap {values['cap']}",
            )
        if c and s:
            if (c.pk, s.pk) in parsed:
                first = parsed[(c.pk, s.pk)][0]
                _limit_error(errors, number, "customer", f"与第{first}行重复", f"repeats row {first}")
            else:
                parsed[(c.pk, s.pk)] = (number, c, s, values["cap"], values["min"])
    if errors:
        raise ForecastError(errors)
    existing = {(x.customer_id, x.spec_id): x for x in ShopLimit.objects.filter(round=rnd)}
    changed = 0
    for key, (_, c, s, cap, minimum) in parsed.items():
        old = existing.get(key)
        before = (old.cap, old.minimum) if old else (None, None)
        if before == (cap, minimum):
            continue
        changes = {f"{s.code}.cap": [before[0], cap], f"{s.code}.min": [before[1], minimum]}
        if cap is None and minimum is None:
            audit.record(actor=user, action="shop_limit", obj=old, customer=c, changes=changes, note="removed")
            old.delete()
        else:
            lim, _ = ShopLimit.objects.update_or_create(
                round=rnd,
                customer=c,
                spec=s,
                defaults={"cap": cap, "minimum": minimum, "set_by": staff, "at": timezone.now()},
            )
            audit.record(actor=user, action="shop_limit", obj=lim, customer=c, changes=changes)
        changed += 1
    return changed


def limit_outcomes(rnd: Round, limit: int | None = None) -> list[dict[str, Any]]:
    """Each shop cap/minimum of the round with the merged forecast, the balanced quantity (once balanced) and
    what was not met: ``at_cap`` (the cap held the shop below its forecast) and ``min_short`` (cartons of the
    minimum not given, with the reason)."""
    qs = (
        ShopLimit.objects.filter(round=rnd)
        .select_related("customer__unit", "spec")
        .order_by("spec__code", "customer__code")
    )
    limits = list(qs[:limit] if limit else qs)
    line = {
        (c, s): (m, b)
        for c, s, m, b in ForecastLine.objects.filter(
            round=rnd, customer_id__in={x.customer_id for x in limits}
        ).values_list("customer_id", "spec_id", "merged_qty", "balanced_qty")
    }
    from .engine.allocation import REASONS

    short_groups = set(
        Supply.objects.filter(round=rnd, note__startswith=REASONS["minimums_short"][0]).values_list(
            "spec_id", "area__path"
        )
    )
    out = []
    for x in limits:
        merged, balanced = line.get((x.customer_id, x.spec_id), (0, None))
        row = {
            "customer": x.customer.code,
            "customer_name": x.customer.name,
            "spec": x.spec.code,
            "spec_name": x.spec.name,
            "forecast": merged,
            "cap": x.cap,
            "min": x.minimum,
            "balanced": balanced,
            "at_cap": bool(x.cap is not None and balanced is not None and balanced >= x.cap and x.cap < merged),
            "min_short": 0,
            "reason": "",
        }
        if x.minimum is not None and balanced is not None and balanced < x.minimum:
            row["min_short"] = x.minimum - balanced
            if x.minimum > merged:
                row["reason"] = (
                    "最低量高于合并预测,最多给到预测量 / minimum above the merged forecast: given up to the forecast"
                )
            elif any(sid == x.spec_id and x.customer.unit.path.startswith(p) for sid, p in short_groups):
                row["reason"] = (
                    "供应量低于最低量之和,按最低量比例分配 / supply below the sum of minimums; shared by minimums"
                )
            elif rnd.balance_mode == "tier":
                # tier mode honours minimums as proportional mode does, but never above the tier's cap (the
                # policy's [allocation].tier_caps): with the two reasons above ruled out, that cap is what held it
                row["reason"] = (
                    "最低量高于档位限量,最多给到档位限量 / minimum above the tier cap: given up to the tier cap"
                )
            else:
                row["reason"] = "供应不足 / not enough supply"
        out.append(row)
    return out


BALANCE_MODES = ("proportional", "tier")


ROUND_JOB_LIVE_MINUTES = 60  # a queued or running round job older than this is taken as lost (worker stopped)


def start_round_job(user, rnd: Round, kind: str, task: Any, **params: Any) -> tuple[Job, bool]:
    """Start the round's background job of ``kind`` (``forecast_model``, ``forecast_balance``) on ``task``, or
    return the one already queued or running for the round, whoever started it: ``(job, started)``.

    Why: a second press (a double tap on a phone, two managers at once) started a second model run of several
    minutes over the same lines, or a balancing that failed once the first had balanced the round. A job older
    than :data:`ROUND_JOB_LIVE_MINUTES` still marked queued or running is taken as lost (its worker stopped) and
    no longer holds a new one back.
    """
    since = timezone.now() - dt.timedelta(minutes=ROUND_JOB_LIVE_MINUTES)
    with transaction.atomic():
        Round.objects.select_for_update().filter(pk=rnd.pk).first()  # two presses at once: one after the other
        live = (
            Job.objects.filter(
                kind=kind,
                params__round=rnd.pk,
                status__in=(Job.Status.QUEUED, Job.Status.RUNNING),
                created_at__gte=since,
            )
            .order_by("-pk")
            .first()
        )
        if live is not None:
            return live, False
        job = Job.objects.create(kind=kind, created_by=user, params={"round": rnd.pk, **params})
        if kind == "forecast_model":
            Round.objects.filter(pk=rnd.pk).update(model_job=job)
    task.enqueue(job.pk)  # after the commit: the worker must find the job
    job.refresh_from_db()
    return job, True


def balance(
    user, rnd: Round, progress: Callable[[int, int, str], None] | None = None, mode: str | None = None
) -> dict[str, Any]:
    """Allocate each supply row to the shops of its area, push the balanced quantities into the target month's
    ledger (``allocated``) and onto the CMs' feedback tasks (L2801, L2805). Specs without a supply row are not
    constrained: their balanced quantity is the merged forecast (at most the shop's cap).

    ``mode``: ``proportional`` (to the merged forecast) or ``tier`` (the same quantity per 档位, the customer's
    ``tier``); empty = the policy's ``[allocation].mode``. The round's shop caps and minimums (``ShopLimit``) go to
    the engine as ``cap`` / ``min`` per line, in both modes: in tier mode a shop gets its tier's quantity or its
    minimum, whichever is more (never above its forecast, cap or tier cap).

    The engine runs before the write transaction so that a background job's progress stays visible meanwhile;
    everything written happens in one transaction (a failure leaves the round as it was)."""
    _center_required(user)
    if rnd.balanced_at is not None:
        raise ForecastError("本轮已完成平衡 / this round has already been balanced")
    import pandas as pd

    def step(done: int, message: str) -> None:
        if progress:
            progress(done, 3, message)

    step(0, "读取预测与货源 / reading forecasts and supply")
    conf = policy().get("allocation", {})
    mode = mode or conf.get("mode", "proportional")
    if mode not in BALANCE_MODES:
        raise ForecastError({"mode": f"未知分配方式 {mode} / unknown mode {mode}: proportional or tier"})
    lines = list(
        ForecastLine.objects.filter(round=rnd).values_list(
            "pk", "customer_id", "spec_id", "unit__path", "merged_qty", "customer__tier"
        )
    )
    limits = {
        (c, s): (cap, lo)
        for c, s, cap, lo in ShopLimit.objects.filter(round=rnd).values_list("customer_id", "spec_id", "cap", "minimum")
    }
    # each line's (cap, minimum); (None, None) where the shop has no limit on that spec
    limit_of = {pk: limits.get((cid, sid), (None, None)) for pk, cid, sid, _, _, _ in lines}
    balanced = {
        pk: merged if limit_of[pk][0] is None else min(merged, limit_of[pk][0]) for pk, _, _, _, merged, _ in lines
    }
    supplies = list(Supply.objects.select_related("area", "spec").filter(round=rnd))
    by_spec: dict[int, list[Supply]] = defaultdict(list)
    for sup in supplies:
        by_spec[sup.spec_id].append(sup)
    covered = []  # (line pk, spec code, area code, merged, tier, cap, minimum)
    for pk, _, sid, path, merged, tier in lines:
        for sup in by_spec.get(sid, []):
            if path.startswith(sup.area.path):
                covered.append((pk, sup.spec.code, sup.area.code, merged, max(1, min(30, tier or 1)), *limit_of[pk]))
                break
    frame = pd.DataFrame(covered, columns=["pk", "spec", "area", "forecast", "tier", "cap", "min"])
    frame["demand"] = frame["forecast"]
    frame["cap"] = frame["cap"].astype("float64")  # None -> NaN: no cap / no minimum
    frame["min"] = frame["min"].astype("float64")
    supply_frame = pd.DataFrame(
        [(sup.spec.code, sup.area.code, sup.quantity) for sup in supplies], columns=["spec", "area", "supply"]
    )
    kwargs = {"tier_caps": conf["tier_caps"]} if mode == "tier" and conf.get("tier_caps") else {}
    step(1, "分配货源 / allocating supply")
    if supplies:
        result = _engine().allocate(frame.drop(columns=["pk"]), supply_frame, mode=mode, **kwargs)
        for pk, q in zip(frame["pk"], result.allocated, strict=True):
            balanced[int(pk)] = int(q)
        left = {(r.spec, r.area): r for r in result.remainders}
    else:
        left = {}
    step(2, "写入平衡结果 / writing the balanced quantities")
    with transaction.atomic():
        if Round.objects.filter(pk=rnd.pk, balanced_at__isnull=False).exists():  # balanced meanwhile
            raise ForecastError("本轮已完成平衡 / this round has already been balanced")
        placed_total = unplaced_total = 0
        for sup in supplies:
            rem = left.get((sup.spec.code, sup.area.code))
            unplaced = max(0, rem.unplaced) if rem else 0
            sup.placed, sup.unplaced = sup.quantity - unplaced, unplaced
            sup.note = rem.message[:300] if rem else ""
            sup.save(update_fields=["placed", "unplaced", "note"])
            placed_total += sup.placed
            unplaced_total += unplaced
        update_rows(ForecastLine, ["balanced_qty"], [(q, pk) for pk, q in balanced.items()])
        _push_to_ledger(rnd)
        Round.objects.filter(pk=rnd.pk).update(balanced_at=timezone.now(), balance_mode=mode)
        rnd.balance_mode = mode
        _feedback_tasks(rnd)
        audit.record(
            actor=user,
            action="forecast_balance",
            obj=rnd,
            changes={
                "placed": [None, placed_total],
                "unplaced": [None, unplaced_total],
                "mode": [None, mode],
                "shop_limits": [None, len(limits)],
            },
        )
    step(3, "完成 / done")
    outcomes = limit_outcomes(rnd)
    return {
        "mode": mode,
        "lines": len(balanced),
        "limits": len(outcomes),
        "at_cap": sum(1 for o in outcomes if o["at_cap"]),
        "min_short": sum(o["min_short"] for o in outcomes),
        "limit_rows": [o for o in outcomes if o["at_cap"] or o["min_short"]][:500],
        "placed": placed_total,
        "unplaced": unplaced_total,
        "rows": [
            {
                "spec": sup.spec.code,
                "spec_name": sup.spec.name,
                "area": sup.area.code,
                "area_name": sup.area.name,
                "supply": sup.quantity,
                "placed": sup.placed,
                "unplaced": sup.unplaced,
                "note": sup.note,
            }
            for sup in sorted(supplies, key=lambda s: (s.spec.code, s.area.path))
        ],
    }


def _push_to_ledger(rnd: Round) -> None:
    """Write each shop's balanced quantity into its ledger for the target month (one upsert statement)."""
    ledger, line = LedgerEntry._meta.db_table, ForecastLine._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {ledger} (customer_id, spec_id, month, allocated, guidance)
            SELECT customer_id, spec_id, %s, balanced_qty, '' FROM {line} WHERE round_id = %s
            ON CONFLICT (customer_id, spec_id, month) DO UPDATE SET allocated = excluded.allocated""",
            [rnd.target, rnd.pk],
        )


def _feedback_tasks(rnd: Round) -> None:
    """Name on each CM's feedback task how many shops he has to tell; the balance task is done."""
    shops = dict(
        ForecastLine.objects.filter(round=rnd, cm__isnull=False)
        .values("cm_id")
        .annotate(n=Count("customer_id", distinct=True))
        .values_list("cm_id", "n")
    )
    for pt in PhaseTask.objects.select_related("task").filter(round=rnd, phase="feedback"):
        n = shops.get(pt.task.staff_id, 0)
        pt.task.title = f"{rnd.target:%Y-%m} 向 {n} 户客户反馈平衡后的预测并记入动销台帐"
        pt.task.save(update_fields=["title"])
    done = PhaseTask.objects.filter(round=rnd, phase="balance").values("task_id")
    Task.objects.filter(pk__in=done, done_at__isnull=True).update(done_at=timezone.now())


@transaction.atomic
def record_feedback(user, rnd: Round, customer: Customer, guidance: str = "", informed_on: dt.date | None = None):
    """The CM told the shop its balanced quantities; the shop records them in its ledger with the guidance.
    Only the shop's own CM records it; anyone else who sees the shop gets ``NotAllowed``."""
    cm = _own_cm(user, customer)
    if cm is None:
        raise NotAllowed("只有负责该客户的客户经理可以登记反馈 / only the customer's own CM records the feedback")
    if rnd.balanced_at is None:
        raise ForecastError("本轮尚未平衡,不能反馈 / the round has not been balanced yet")
    informed_on = informed_on or timezone.localdate()
    if informed_on > timezone.localdate():
        raise ForecastError({"informed_on": "日期不能晚于今天 / the date cannot be in the future"})
    guidance = (guidance or "").strip()[:300]
    fb, created = Feedback.objects.update_or_create(
        round=rnd, customer=customer, defaults={"cm": cm, "informed_on": informed_on, "guidance": guidance}
    )
    entries = LedgerEntry.objects.filter(customer=customer, month=rnd.target)
    before = {e.spec_id: e.recorded_forecast for e in entries}
    for e in entries:
        e.recorded_forecast = e.allocated
        e.guidance = guidance
    LedgerEntry.objects.bulk_update(entries, ["recorded_forecast", "guidance"])
    audit.record(
        actor=user,
        action="forecast_feedback",
        obj=fb,
        customer=customer,
        changes={"recorded": [before, {e.spec_id: e.recorded_forecast for e in entries}], "guidance": [None, guidance]},
    )
    shops = ForecastLine.objects.filter(round=rnd, cm=cm).values("customer_id").distinct().count()
    if Feedback.objects.filter(round=rnd, cm=cm).count() >= shops:
        close_phase_task(rnd, cm.pk, "feedback")
    return fb


# -- ledger import --------------------------------------------------------------------------------------------
LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    # the page's own export and the documented names first (the import page lists those two), then what other
    # systems' reports call the same figure
    "customer": ("客户编码", "customer", "客户代码", "客户编号", "零售户编码", "customer code"),
    "spec": ("规格编码", "spec", "规格代码", "卷烟编码", "卷烟代码", "商品编码", "spec code"),
    "month": ("月份", "month", "年月", "统计月份"),
    "demand": ("需求量", "demand", "订货量", "要货量", "订单量"),
    "supplied": ("供货量", "supplied", "供应量", "到货量"),
    "sold": ("销售量", "sold", "销量"),
    "stock": ("库存量", "stock", "库存", "期末库存"),
    "recorded_forecast": ("客户登记预测", "recorded_forecast", "登记预测"),
    "guidance": ("经营指导", "guidance", "指导意见"),
}
#: columns the import reads past, named in its report: the names the page's export shows beside the codes, and
#: the balanced quantity, which only the balancing writes. Why: a manager exports the ledger, corrects a figure
#: and imports the file back; refusing the export's own columns made him delete three columns first.
LEDGER_READ_PAST = (
    "客户名称",
    "customer name",
    "规格",
    "规格名称",
    "卷烟名称",
    "spec name",
    "平衡分配量",
    "allocated",
)
LEDGER_NUMBERS = ("demand", "supplied", "sold", "stock", "recorded_forecast")


def import_ledger(user, table, dry_run: bool = True, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Validate every row, then (unless ``dry_run`` or any error) write all of them in one transaction.

    A row whose customer x spec x month exists updates it (audited); a new one is created. The unit totals the
    model learns from are refreshed for the months the file touches. ``progress(done, total)`` is called while
    the rows are checked, and ``progress(done, total, message)`` once before the writing starts.
    """
    header_map, unknown, missing = _header_fields(table.header, LEDGER_COLUMNS, ("customer", "spec", "month"))
    read_past = {header_key(h) for h in LEDGER_READ_PAST}
    ignored = [h for h in unknown if header_key(h) in read_past]
    unknown = [h for h in unknown if header_key(h) not in read_past]
    errors: list[dict[str, Any]] = []
    if unknown:
        errors.append({"row": 1, "field": ",".join(unknown), "message": "未知的列 / unknown columns"})
    if missing:
        errors.append({"row": 1, "field": ",".join(missing), "message": "缺少必需的列 / required columns missing"})
    if errors:
        return {
            "ok": False,
            "rows": len(table.rows),
            "errors": errors,
            "created": 0,
            "updated": 0,
            "ignored": ignored,
            "totals": [],
        }
    customers = {c.code: c for c in visible_customers(user).filter(industry="tobacco")}
    spec_by_code = {s.code: s for s in specs()}
    # a code that is itself a total word ("合计") makes its rows total rows, as any other cell with such a word
    total_codes = {code for code in (*customers, *spec_by_code) if is_total_word(code)}
    # the header's own cells -> field, read once; a file's columns are the same in every row
    column_of = {h: header_map[header_key(h)] for h in table.header if h and header_key(h) in header_map}
    value_fields = tuple(f for f in (*LEDGER_NUMBERS, "guidance") if f in column_of.values())
    limit = int(policy()["limits"]["max_line_qty"])
    parsed: dict[tuple[int, int, dt.date], tuple[int, tuple[Any, ...]]] = {}
    totals: list[int] = []
    for number, raw in table.rows:
        row = {column_of[h]: v for h, v in raw.items() if h in column_of}
        customer_code, spec_code = row.get("customer", "").strip(), row.get("spec", "").strip()
        c, s = customers.get(customer_code), spec_by_code.get(spec_code)
        month = cycle.parse_month(row.get("month"))
        if (c is None or s is None or month is None or customer_code in total_codes or spec_code in total_codes) and (
            _is_total_row(row, ("customer", "spec", "month"))
        ):
            totals.append(number)
            continue
        if c is None:
            errors.append(
                {
                    "row": number,
                    "field": "customer",
                    "message": "客户不存在或不在权限内 / unknown customer or outside your scope",
                }
            )
        if s is None:
            errors.append(
                {
                    "row": number,
                    "field": "spec",
                    "message": (
                        "未知的卷烟规格,请先在卷烟规格目录中添加 / unknown spec: add it to the spec catalogue first"
                    ),
                }
            )
        if month is None:
            errors.append(
                {
                    "row": number,
                    "field": "month",
                    "message": (
                        "月份应写成 2026-03、202603 或 2026年3月 / month must look like 2026-03, 202603 or 2026年3月"
                    ),
                }
            )
        field_errors: dict[str, str] = {}
        values = tuple(
            row[f][:300] if f == "guidance" else _quantity(row[f], f, field_errors, limit) for f in value_fields
        )
        for f, msg in field_errors.items():
            errors.append({"row": number, "field": f, "message": msg})
        if c and s and month:
            key = (c.pk, s.pk, month)
            if key in parsed:
                errors.append(
                    {
                        "row": number,
                        "field": "customer",
                        "message": f"与第{parsed[key][0]}行重复 / repeats row {parsed[key][0]}",
                    }
                )
            parsed[key] = (number, values)
        if progress and number % 1000 == 0:
            progress(number, len(table.rows))
    report = {
        "ok": not errors,
        "rows": len(table.rows) - len(totals),
        "errors": errors[:500],
        "created": 0,
        "updated": 0,
        "ignored": ignored,
        "totals": totals,
    }
    if errors or dry_run:
        return report
    if progress:
        progress(len(table.rows), len(table.rows), f"写入 {len(parsed)} 行 / writing {len(parsed)} rows")
    with transaction.atomic():
        report.update(_write_ledger(user, parsed, value_fields, customers))
    return report


def _write_ledger(
    user,
    parsed: dict[tuple[int, int, dt.date], tuple[int, tuple[Any, ...]]],
    fields: tuple[str, ...],
    customers: dict[str, Customer],
) -> dict[str, int]:
    """Write the checked rows of an import, month by month: new rows inserted, changed ones updated by id, an
    audit record for each row created or changed (``[before, after]`` of each figure that changed).

    Why month by month, and as plain rows: a company's first import of three years of ledger (1.74 million rows
    at 10,000 shops) held every row as a Django object, and its audit record as another, at once: 5.4 GB of memory
    and 5 min 40 s on SQLite. One month at a time bounds the memory to a month's rows, and plain rows
    (``core.db.insert_rows``, ``update_rows``) skip the model layer (docs/benchmarks.md, "The ledger's first
    load").
    """
    unit_of = {c.pk: c.unit_id for c in customers.values()}
    by_month: dict[dt.date, list[tuple[int, int, tuple[Any, ...]]]] = defaultdict(list)
    for (cid, sid, month), (_, values) in parsed.items():
        by_month[month].append((cid, sid, values))
    columns = ("customer", "spec", "month", *LEDGER_NUMBERS, "guidance")
    # a new row's figures in ``columns`` order from the file's ``fields`` (padded: a missing figure is None, a
    # missing guidance "")
    slot = {f: i for i, f in enumerate(fields)}
    missing = (None, "")
    in_columns = operator.itemgetter(
        *(slot.get(f, len(fields)) for f in LEDGER_NUMBERS), slot.get("guidance", len(fields) + 1)
    )
    at = timezone.now()
    created = updated = 0
    for month in sorted(by_month):
        rows = by_month.pop(month)
        existing = {
            (cid, sid): (pk, old)
            for cid, sid, pk, *old in LedgerEntry.objects.filter(
                month=month, customer_id__in={cid for cid, _, _ in rows}
            ).values_list("customer_id", "spec_id", "pk", *fields)
        }
        new, changed, logs = [], [], []
        label = f"{month:%Y-%m}"
        for cid, sid, values in rows:
            found = existing.get((cid, sid))
            if found is None:
                new.append((cid, sid, month, *in_columns(values + missing)))
                diff = {f: [None, v] for f, v in zip(fields, values, strict=True)}
            else:
                pk, old = found
                diff = {f: [b, v] for f, b, v in zip(fields, old, values, strict=True) if b != v}
                if not diff:
                    continue
                changed.append((*values, pk))
            logs.append((f"{cid}:{sid}:{label}", cid, diff))
        created += insert_rows(LedgerEntry, columns, new)
        update_rows(LedgerEntry, fields, changed)
        updated += len(changed)
        audit.record_rows(actor=user, action="ledger_import", model="forecasting.ledgerentry", rows=logs, at=at)
    refresh_unit_history({m for _, _, m in parsed}, {unit_of[c] for c, _, _ in parsed})
    return {"created": created, "updated": updated}


def refresh_unit_history(months: Iterable[dt.date], unit_ids: Iterable[int]) -> None:
    """Recompute the unit x spec totals of ``months`` for ``unit_ids`` from the ledger."""
    months, unit_ids = list(months), list(unit_ids)
    UnitHistory.objects.filter(month__in=months, unit_id__in=unit_ids).delete()
    rows = (
        LedgerEntry.objects.filter(month__in=months, customer__unit_id__in=unit_ids, demand__isnull=False)
        .values("customer__unit_id", "spec_id", "month")
        .annotate(d=Sum("demand"), s=Sum("supplied"))
    )
    UnitHistory.objects.bulk_create(
        [
            UnitHistory(
                unit_id=r["customer__unit_id"],
                spec_id=r["spec_id"],
                month=r["month"],
                demand=r["d"] or 0,
                supplied=r["s"] or 0,
            )
            for r in rows
        ],
        batch_size=2000,
    )


# -- weekly rhythm --------------------------------------------------------------------------------------------
WEEKLY_TITLES = {"monday_meeting": "{w} 周一例会:上周销售与市场监管", "friday_summary": "{w} 周五:周工作总结与下周计划"}


@transaction.atomic
def open_week(monday: dt.date) -> int:
    """Put the Monday meeting and the Friday summary of the week on every CM's list (idempotent)."""
    monday = cycle.week_start(monday)
    have = set(PhaseTask.objects.filter(week=monday).values_list("task__staff_id", "phase"))
    cms = list(Staff.objects.filter(role=Role.CM, active=True, unit__industry="tobacco").values_list("pk", flat=True))
    pending = []
    conf = policy()["cycle"]
    for item in conf["weekly"]:
        due = cycle.due_day(monday + dt.timedelta(days=int(item["weekday"])), conf)
        title = WEEKLY_TITLES.get(item["code"], item["zh"] + " {w}").format(w=f"{monday:%m-%d}")
        pending += [
            (item["code"], Task(staff_id=cm, kind=Task.Kind.OTHER, title=title, due=due))
            for cm in cms
            if (cm, item["code"]) not in have
        ]
    made = Task.objects.bulk_create([t for _, t in pending], batch_size=1000)
    PhaseTask.objects.bulk_create(
        [PhaseTask(week=monday, phase=code, task=t) for (code, _), t in zip(pending, made, strict=True)],
        batch_size=1000,
    )
    return len(made)


@transaction.atomic
def save_weekly(user, week: dt.date, summary: str, plan: str) -> WeeklyReport:
    """The CM's weekly summary and next week's plan; writing it closes the Friday task of that week."""
    staff = get_staff(user)
    if staff is None or staff.role != Role.CM:
        raise NotAllowed("周总结由客户经理本人填写 / the weekly summary is written by the CM himself")
    errors = {}
    if not (summary or "").strip():
        errors["summary"] = "请填写本周工作总结 / the summary is required"
    if not (plan or "").strip():
        errors["plan"] = "请填写下周工作计划 / the plan is required"
    week = cycle.week_start(week)
    if week > cycle.week_start(timezone.localdate()):
        errors["week"] = "不能为未来的周填写总结 / the week is in the future"
    if errors:
        raise ForecastError(errors)
    report, created = WeeklyReport.objects.update_or_create(
        cm=staff, week=week, defaults={"summary": summary.strip(), "plan": plan.strip()}
    )
    audit.record(actor=user, action="weekly_report", obj=report, changes={"week": [None, week]} if created else {})
    close_phase_task(None, staff.pk, "friday_summary", week=week)
    return report


def is_manager(user) -> bool:
    staff = get_staff(user)
    return is_admin(user) or bool(staff and staff.role in MANAGER_ROLES)


# -- shop (POS) keys ------------------------------------------------------------------------------------------
def _key_admin_required(user, customer: Customer) -> None:
    """The shop's own CM or a manager may look after its keys; the caller has already found the shop in scope."""
    staff = get_staff(user)
    if is_manager(user) or (staff is not None and staff.is_cm and customer.cm_id == staff.pk):
        return
    raise NotAllowed(
        "只有该客户的客户经理或管理人员可以管理终端密钥 / only the shop's CM or a manager manages its keys"
    )


def can_manage_keys(user, customer: Customer) -> bool:
    try:
        _key_admin_required(user, customer)
    except NotAllowed:
        return False
    return True


@transaction.atomic
def issue_shop_key(user, customer: Customer, name: str = "pos") -> tuple[ShopKey, str]:
    """A new POS key for ``customer``; the raw key is returned to be shown once and is never stored."""
    _key_admin_required(user, customer)
    name = (name or "").strip()[:40] or "pos"
    if customer.status != "active":
        raise ForecastError({"customer": "客户不是正常经营状态 / the shop is not active"})
    key, raw = ShopKey.objects.issue(customer, name=name)
    audit.record(actor=user, action="shop_key_issue", obj=key, customer=customer, changes={"key": [None, name]})
    return key, raw


@transaction.atomic
def revoke_shop_key(user, key: ShopKey) -> bool:
    """Revoke a key (it stops authenticating at once); revoking twice changes nothing and is not audited again."""
    _key_admin_required(user, key.customer)
    if key.revoked:
        return False
    ShopKey.objects.filter(pk=key.pk).update(revoked=True)
    key.revoked = True
    audit.record(
        actor=user, action="shop_key_revoke", obj=key, customer=key.customer, changes={"revoked": [False, True]}
    )
    return True


# -- emergency and special orders (source L2799) -----------------------------------------------------------------
def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def special_limits() -> tuple[int, int]:
    """``(per_order_limit, monthly_limit)`` in cartons from the policy's ``[special_orders]``."""
    conf = policy().get("special_orders", {})
    return int(conf.get("per_order_limit", 20)), int(conf.get("monthly_limit", 100))


def raise_special_order(
    user, customer_id: Any, spec_code: str, month: Any, quantity: Any, kind: str, reason: str
) -> SpecialOrder:
    """A CM orders for one of his shops outside the forecast. Approved at once within his limits (and then
    written into the shop's ledger); otherwise it waits for a manager. The monthly limit counts only what the CM
    approved on his own authority (orders a manager approved are the manager's). Every field error is named."""
    staff = get_staff(user)
    if staff is None or not staff.is_cm:
        raise NotAllowed("应急/特殊订单由客户经理提出 / emergency and special orders are raised by the CM")
    errors: dict[str, str] = {}
    customer = visible_customers(user).filter(pk=_int_or_none(customer_id), industry="tobacco").first()
    if customer is None:
        errors["customer"] = "不是您负责的卷烟零售客户 / not one of your tobacco shops"
    spec = Spec.objects.filter(code=(spec_code or "").strip()).first()
    target = month_or_current(month)
    if target is None:
        errors["month"] = "月份格式应为 2026-03 / month must look like 2026-03"
    elif target < cycle.month_start(timezone.localdate()):
        errors["month"] = "不能为过去的月份下单 / the month is already over"
    if spec is None or (target is not None and not spec.on_sale(target)):
        errors["spec"] = f"未知规格或该月不在售 / unknown spec, or not on sale that month: {spec_code!r}"
    qty = _int_or_none(quantity)
    if qty is None or qty <= 0:
        errors["quantity"] = "数量须为正整数(条)/ quantity must be a whole number of cartons above 0"
    elif qty > int(policy()["limits"]["max_line_qty"]):
        errors["quantity"] = f"数量超过单行上限 / quantity above the line limit {policy()['limits']['max_line_qty']}"
    if kind not in SpecialOrder.Kind.values:
        errors["kind"] = f"类型须为 {', '.join(SpecialOrder.Kind.values)} / kind must be one of those"
    if not (reason or "").strip():
        errors["reason"] = "请说明原因 / the reason is required"
    if errors:
        raise ForecastError(errors)
    per_order, monthly = special_limits()
    with transaction.atomic():
        used = (
            SpecialOrder.objects.select_for_update()
            .filter(raised_by=staff, month=target, within_limit=True)
            .aggregate(total=Sum("quantity"))["total"]
            or 0
        )
        within = qty <= per_order and used + qty <= monthly
        order = SpecialOrder.objects.create(
            customer=customer,
            spec=spec,
            month=target,
            quantity=qty,
            kind=kind,
            reason=reason.strip()[:300],
            raised_by=staff,
            within_limit=within,
        )
        audit.record(
            actor=user,
            action="special_order",
            obj=order,
            changes={"quantity": [None, qty], "kind": [None, kind], "within_limit": [None, within]},
        )
        if within:
            _approve(user, staff, order, f"在授权额度内自动批准 / within the CM's limit ({used + qty}/{monthly})")
    return order


def decide_special_order(user, order: SpecialOrder, approve: bool, note: str = "") -> SpecialOrder:
    """A manager approves or rejects a waiting order; the caller has found it among the user's
    :func:`visible_special_orders` (404 otherwise)."""
    staff = get_staff(user)
    if not is_manager(user):
        raise NotAllowed("只有管理人员可以审批 / only managers decide on special orders")
    with transaction.atomic():
        order = SpecialOrder.objects.select_for_update().get(pk=order.pk)
        if order.state != SpecialOrder.State.PENDING:
            raise ForecastError({"state": "该订单已处理 / this order has already been decided"})
        if not approve and not (note or "").strip():
            raise ForecastError({"note": "驳回须说明理由 / a rejection needs a note"})
        if approve:
            _approve(user, staff, order, (note or "").strip())
        else:
            order.state, order.decided_by, order.decided_at = SpecialOrder.State.REJECTED, staff, timezone.now()
            order.note = note.strip()[:300]
            order.save(update_fields=["state", "decided_by", "decided_at", "note"])
            audit.record(
                actor=user, action="special_order_reject", obj=order, changes={"state": ["pending", "rejected"]}
            )
    return order


def _approve(user, staff: Staff | None, order: SpecialOrder, note: str) -> None:
    """Approve and add the quantity to the shop's ledger for that month (ordered and supplied), audited."""
    entry, _ = LedgerEntry.objects.select_for_update().get_or_create(
        customer=order.customer, spec=order.spec, month=order.month
    )
    before = {"demand": entry.demand, "supplied": entry.supplied}
    entry.demand = (entry.demand or 0) + order.quantity
    entry.supplied = (entry.supplied or 0) + order.quantity
    entry.save(update_fields=["demand", "supplied"])
    audit.record(
        actor=user,
        action="ledger_special_order",
        obj=entry,
        changes={"demand": [before["demand"], entry.demand], "supplied": [before["supplied"], entry.supplied]},
    )
    order.state, order.decided_by, order.decided_at, order.note = (
        SpecialOrder.State.APPROVED,
        staff,
        timezone.now(),
        note,
    )
    order.save(update_fields=["state", "decided_by", "decided_at", "note"])
    audit.record(actor=user, action="special_order_approve", obj=order, changes={"state": ["pending", "approved"]})


def visible_special_orders(user):
    """Special orders of the shops the user sees."""
    return SpecialOrder.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "spec", "raised_by", "decided_by"
    )


# -- month-end social inventory and profit survey (L2813-L2821) ------------------------------------------------
def survey_specs(customer: Customer, month: dt.date) -> list[Spec]:
    """The specs a shop is asked about: those in its ledger in the three months up to ``month``."""
    first = cycle.add_months(month, -2)
    ids = LedgerEntry.objects.filter(customer=customer, month__gte=first, month__lte=month).values("spec_id")
    return list(Spec.objects.filter(pk__in=ids).order_by("code"))


def month_or_current(text: Any) -> dt.date | None:
    """The month a form names (``2026-11``), this month when it names none, ``None`` when it is not a month."""
    return cycle.parse_month(str(text)) if text else cycle.month_start(timezone.localdate())


def save_survey(
    user, customer: Customer, month: Any, stock: dict[str, Any], sales_amount: Any, purchase_amount: Any, note: str = ""
) -> ShopSurvey:
    """The CM's month-end survey of one of his shops (found in his scope by the caller): stock per spec into the
    ledger, the month's sales and purchases here.

    Nothing is written unless every field is valid; errors name the field (``stock_<spec>`` for a stock).
    Closing the last of his shops closes his survey-and-summary task of that month.
    """
    from decimal import Decimal, InvalidOperation

    staff = get_staff(user)
    if staff is None or not staff.is_cm or customer.cm_id != staff.pk:
        raise NotAllowed("库存与盈利调查由该客户的客户经理填写 / the survey is entered by the shop's CM")
    errors: dict[str, str] = {}
    target = month_or_current(month)
    this = cycle.month_start(timezone.localdate())
    if target is None or target not in (this, cycle.add_months(this, -1)):
        errors["month"] = "只能填写本月或上月的调查 / only this month or last month can be surveyed"
    limit = int(policy()["limits"]["max_line_qty"])
    specs = {sp.code: sp for sp in Spec.objects.filter(code__in=list(stock))}
    quantities: dict[str, int] = {}
    for code, raw in stock.items():
        if str(raw).strip() == "":
            continue
        q = _int_or_none(raw)
        if code not in specs:
            errors[f"stock_{code}"] = f"未知规格 / unknown spec {code}"
        elif q is None or q < 0 or q > limit:
            errors[f"stock_{code}"] = f"{code} 库存须为 0–{limit} 的整数 / stock must be a whole number 0–{limit}"
        else:
            quantities[code] = q
    amounts: dict[str, Decimal] = {}
    for field, raw in (("sales_amount", sales_amount), ("purchase_amount", purchase_amount)):
        try:
            value = Decimal(str(raw).strip())
            if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
                raise InvalidOperation
            amounts[field] = value.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors[field] = "金额须为不小于 0 的数字(元)/ the amount must be a number of yuan, 0 or more"
    if errors:
        raise ForecastError(errors)
    with transaction.atomic():
        for code, q in quantities.items():
            entry, _ = LedgerEntry.objects.select_for_update().get_or_create(
                customer=customer, spec=specs[code], month=target
            )
            if entry.stock != q:
                audit.record(actor=user, action="ledger_stock", obj=entry, changes={"stock": [entry.stock, q]})
                entry.stock = q
                entry.save(update_fields=["stock"])
        survey = ShopSurvey.objects.filter(customer=customer, month=target).first()
        before = (
            {}
            if survey is None
            else {"sales_amount": str(survey.sales_amount), "purchase_amount": str(survey.purchase_amount)}
        )
        survey, _ = ShopSurvey.objects.update_or_create(
            customer=customer,
            month=target,
            defaults={**amounts, "note": (note or "").strip()[:300], "recorded_by": staff},
        )
        after = {k: str(v) for k, v in amounts.items()}
        audit.record(
            actor=user,
            action="shop_survey",
            obj=survey,
            changes={k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]},
        )
        mine = Customer.objects.filter(cm=staff, status="active", industry="tobacco")
        if not mine.exclude(surveys__month=target).exists():
            rnd = Round.objects.filter(target=cycle.add_months(target, 1)).first()
            if rnd is not None:
                close_phase_task(rnd, staff.pk, "summary")
    return survey


def survey_summary(user, month: dt.date) -> list[dict[str, Any]]:
    """Per region unit in the user's scope: shops, shops surveyed, social inventory and sales of the month
    (from the ledger), stock-to-sales ratio, surveyed sales, purchases, gross profit and margin."""
    shops = visible_customers(user).filter(industry="tobacco", status="active")
    rows: dict[int, dict[str, Any]] = {}
    for unit_id, unit_name in shops.values_list("unit_id", "unit__name").distinct():
        rows[unit_id] = {
            "unit": unit_name,
            "shops": 0,
            "surveyed": 0,
            "stock": 0,
            "sold": 0,
            "sales": 0.0,
            "purchases": 0.0,
        }
    for unit_id, n in shops.values_list("unit_id").annotate(n=Count("pk")):
        rows[unit_id]["shops"] = n
    ledger = LedgerEntry.objects.filter(customer__in=shops, month=month).values("customer__unit_id")
    for r in ledger.annotate(stock=Sum("stock"), sold=Sum("sold")):
        rows[r["customer__unit_id"]]["stock"] = r["stock"] or 0
        rows[r["customer__unit_id"]]["sold"] = r["sold"] or 0
    surveys = ShopSurvey.objects.filter(customer__in=shops, month=month).values("customer__unit_id")
    for r in surveys.annotate(n=Count("pk"), sales=Sum("sales_amount"), purchases=Sum("purchase_amount")):
        row = rows[r["customer__unit_id"]]
        row["surveyed"], row["sales"], row["purchases"] = r["n"], float(r["sales"]), float(r["purchases"])
    out = []
    for row in sorted(rows.values(), key=lambda x: x["unit"]):
        row["stock_to_sales"] = round(row["stock"] / row["sold"], 2) if row["sold"] else None
        row["profit"] = round(row["sales"] - row["purchases"], 2)
        row["margin"] = round(row["profit"] / row["sales"], 4) if row["sales"] else None
        out.append(row)
    return out
