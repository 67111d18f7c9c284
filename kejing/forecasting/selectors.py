"""Reads of the monthly cycle, always within the user's scope: a CM sees his own customers' lines and ledger,
a manager his subtree of the org, an administrator everything (same rule as ``kejing.org.scoping``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.db.models import Count, Q, QuerySet, Sum

from kejing.org.models import OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin

from . import cycle, metrics
from .models import ForecastLine, LedgerEntry, PriceClass, Round, Spec, Submission
from .services import policy

GROUPS = ("cm", "unit", "department", "spec", "price_class")


def _scope_q(user, cm_field: str, path_field: str) -> Q | None:
    """A filter for the user's scope (None = everything); ``Q(pk__in=[])`` for a user without a staff record."""
    if is_admin(user):
        return None
    staff = get_staff(user)
    if staff is None or not staff.active:
        return Q(pk__in=[])
    if staff.role == Role.CM:
        return Q(**{cm_field: staff.pk})
    return Q(**{f"{path_field}__startswith": staff.unit.path})


def visible_lines(user) -> QuerySet[ForecastLine]:
    qs = ForecastLine.objects.all()
    q = _scope_q(user, "cm_id", "unit__path")
    return qs if q is None else qs.filter(q)


def visible_ledger(user) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.select_related("customer", "spec")
    q = _scope_q(user, "customer__cm_id", "customer__unit__path")
    return qs if q is None else qs.filter(q)


def visible_cms(user) -> QuerySet[Staff]:
    from kejing.org.scoping import staff_scope

    return staff_scope(user).filter(role=Role.CM, unit__industry="tobacco")


def rounds() -> QuerySet[Round]:
    return Round.objects.all()


# -- consolidation --------------------------------------------------------------------------------------------
GROUP_FIELDS = {
    "cm": ("cm_id", "cm__name"),
    "unit": ("unit_id", "unit__name"),
    "department": ("unit__parent__parent_id", "unit__parent__parent__name"),
    "spec": ("spec_id", "spec__name"),
    "price_class": ("spec__price_class", "spec__price_class"),
}


def consolidation(user, rnd: Round, by: str = "unit") -> list[dict[str, Any]]:
    """Totals of the three sources, the merged and the balanced figure per group (one query)."""
    key, name = GROUP_FIELDS.get(by, GROUP_FIELDS["unit"])
    rows = (
        visible_lines(user)
        .filter(round=rnd)
        .values(key, name)
        .annotate(
            lines=Count("id"),
            shops=Count("customer_id", distinct=True),
            cm_total=Sum("cm_qty"),
            self_total=Sum("self_qty"),
            model_total=Sum("model_qty"),
            merged=Sum("merged_qty"),
            balanced=Sum("balanced_qty"),
            by_cm=Count("id", filter=Q(source="cm")),
            by_self=Count("id", filter=Q(source="self")),
            by_model=Count("id", filter=Q(source="model")),
        )
        .order_by(name)
    )
    labels = dict(PriceClass.choices)
    out = []
    for r in rows:
        label = labels.get(r[name], r[name]) if by == "price_class" else r[name]
        out.append({"key": r[key], "name": str(label or "—"), **{k: r[k] or 0 for k in r if k not in (key, name)}})
    return out


def submissions(user, rnd: Round) -> list[dict[str, Any]]:
    """Each visible CM with his submission (or none yet) and his merged total."""
    subs = {s.cm_id: s for s in Submission.objects.filter(round=rnd)}
    totals = dict(
        visible_lines(user).filter(round=rnd).values("cm_id").annotate(t=Sum("merged_qty")).values_list("cm_id", "t")
    )
    out = []
    for cm in visible_cms(user).order_by("unit__path", "employee_no"):
        sub = subs.get(cm.pk)
        out.append({"cm": cm, "submitted_at": sub.submitted_at if sub else None, "total": totals.get(cm.pk, 0) or 0})
    return out


# -- reports --------------------------------------------------------------------------------------------------
def _by_month(qs: QuerySet, field: str, months: list[dt.date], columns: list[str]) -> list[tuple]:
    """``(month, *columns)`` rows of ``qs`` for each month, read month by month: the month is not read back
    from every row (parsing 100,000s of dates was a third of a center-wide report)."""
    rows: list[tuple] = []
    for m in months:
        rows += [(m, *r) for r in qs.filter(**{field: m}).values_list(*columns)]
    return rows


def report_frame(user, targets: list[dt.date]) -> pd.DataFrame:
    """Forecast lines of the rounds for ``targets`` joined (outer) with the ledger of the same months.

    A shop that ordered a spec nobody forecast counts with forecast 0; a forecast line whose shop ordered
    nothing counts with demand 0 — but only for months whose ledger exists (a month still running is left out)
    and that had a round (the ledger goes back years before the first forecast).
    Columns: month, customer, spec, cm_key, unit and the formula columns of ``metrics.COLUMNS``.
    """
    targets = list(Round.objects.filter(target__in=targets).values_list("target", flat=True))
    lines = pd.DataFrame(
        _by_month(
            visible_lines(user),
            "round__target",
            targets,
            [
                "customer_id",
                "spec_id",
                "cm_id",
                "unit_id",
                "merged_qty",
                "cm_qty",
                "self_qty",
                "model_qty",
                "balanced_qty",
            ],
        ),
        columns=["month", "customer", "spec", "cm_key", "unit", "forecast", "cm", "self", "model", "balanced"],
    )
    ledger = pd.DataFrame(
        _by_month(
            visible_ledger(user).filter(demand__isnull=False),
            "month",
            targets,
            ["customer_id", "spec_id", "customer__cm_id", "customer__unit_id", "demand", "supplied", "sold", "stock"],
        ),
        columns=["month", "customer", "spec", "cm_l", "unit_l", "demand", "supplied", "sold", "stock"],
    )
    lines = lines[lines["month"].isin(set(ledger["month"]))]
    df = lines.merge(ledger, on=["month", "customer", "spec"], how="outer")
    for col, other in (("cm_key", "cm_l"), ("unit", "unit_l")):
        ids = pd.to_numeric(df[col], errors="coerce").fillna(pd.to_numeric(df[other], errors="coerce"))
        df[col] = ids.fillna(-1).astype(int)
    for col in ("forecast", "cm", "self", "model", "demand", "supplied", "sold", "stock"):
        df[col] = df[col].astype(float).fillna(0.0)
    df["balanced"] = df["balanced"].astype(float).fillna(df["forecast"])
    return df.drop(columns=["cm_l", "unit_l"])


def _names(by: str, keys: list[Any]) -> dict[Any, str]:
    if by != "price_class":
        keys = [int(k) for k in keys if k is not None and not pd.isna(k) and k != -1]
    if by == "cm":
        return dict(Staff.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by in ("unit", "department"):
        return dict(OrgUnit.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "spec":
        return dict(Spec.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "price_class":
        return {k: str(v) for k, v in PriceClass.choices}
    return {}


def metric_definitions() -> list[dict[str, Any]]:
    out = []
    for code, m in policy()["metrics"].items():
        out.append(
            {"code": code, "zh": m["zh"], "en": m["en"], "formula": m["formula"], "percent": m.get("percent", True)}
        )
    return out


def report(user, targets: list[dt.date], by: str = "unit") -> dict[str, Any]:
    """Every policy metric per group and month: ``{"months", "rows": [{key, name, month, values}], "totals"}``."""
    by = by if by in GROUPS else "unit"
    df = report_frame(user, targets)
    defs = metric_definitions()
    months = sorted(set(df["month"])) if len(df) else []
    if not months:
        return {"months": [], "rows": [], "totals": [], "metrics": defs, "by": by}
    if by == "department":
        parents = dict(OrgUnit.objects.filter(kind="unit").values_list("pk", "parent__parent_id"))
        df["department"] = df["unit"].map(lambda u: parents.get(u, -1))
    elif by == "price_class":
        df["price_class"] = df["spec"].map(dict(Spec.objects.values_list("pk", "price_class")))
    by_col = "cm_key" if by == "cm" else by
    values = {d["code"]: metrics.evaluate(d["formula"], df, [by_col, "month"]) for d in defs}
    totals_by_month = {d["code"]: metrics.evaluate(d["formula"], df, ["month"]) for d in defs}
    sums = df.groupby([by_col, "month"])[["forecast", "demand", "supplied", "balanced"]].sum()
    names = _names(by, list(sums.index.get_level_values(0).unique()))
    rows = []
    for (key, month), s in sums.iterrows():
        rows.append(
            {
                "key": key,
                "name": names.get(key, "—"),
                "month": month,
                "forecast": int(s["forecast"]),
                "demand": int(s["demand"]),
                "supplied": int(s["supplied"]),
                "balanced": int(s["balanced"]),
                "values": {code: _clean(values[code].get((key, month))) for code in values},
            }
        )
    totals = [
        {"month": m, "values": {code: _clean(totals_by_month[code].get(m)) for code in totals_by_month}} for m in months
    ]
    rows.sort(key=lambda r: (str(r["name"]), r["month"]))
    return {"months": months, "rows": rows, "totals": totals, "metrics": defs, "by": by}


def _clean(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 4)


def closed_targets(n: int = 6, before: dt.date | None = None) -> list[dt.date]:
    """The last ``n`` target months that are over (their ledger can be complete)."""
    from django.utils import timezone

    this = cycle.month_start(before or timezone.localdate())
    return [cycle.add_months(this, -k) for k in range(n, 0, -1)]
