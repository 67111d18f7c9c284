"""Reads of the monthly cycle, always within the user's scope: a CM sees his own customers' lines and ledger,
a manager his subtree of the org, an administrator everything (same rule as ``kejing.org.scoping``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum

from kejing.customers.models import Customer
from kejing.org.models import OrgUnit, Role, Staff
from kejing.org.scoping import get_staff, is_admin

from . import cycle, metrics
from .models import ForecastLine, LedgerEntry, PriceClass, Round, Spec, Submission
from .services import policy

GROUPS = ("cm", "unit", "department", "spec", "price_class")


class CmScope:
    """A scope given as a list of CMs instead of a user: their lines and the ledger of their shops. Why: the
    appraisal's forecast KPIs score a chosen set of CMs with the reports' own rules (:func:`report_sums`), so
    the two never disagree on what a CM's accuracy was."""

    def __init__(self, cm_ids) -> None:
        self.cm_ids = sorted({int(pk) for pk in cm_ids})


def _scope(user) -> tuple[str, Any]:
    """``("all", None)`` for an administrator, ``("none", None)`` without an active staff record,
    ``("cm", staff pk)`` for a CM, else ``("path", the org path his unit heads)``; ``("cms", ids)`` for a
    :class:`CmScope` (``("none", None)`` when it names no CM)."""
    if isinstance(user, CmScope):
        return ("cms", user.cm_ids) if user.cm_ids else ("none", None)
    if is_admin(user):
        return "all", None
    staff = get_staff(user)
    if staff is None or not staff.active:
        return "none", None
    if staff.role == Role.CM:
        return "cm", staff.pk
    return "path", staff.unit.path


def _scope_q(user, cm_field: str, path_field: str) -> Q | None:
    """A filter for the user's scope (None = everything); ``Q(pk__in=[])`` for a user without a staff record."""
    kind, value = _scope(user)
    if kind == "all":
        return None
    if kind == "none":
        return Q(pk__in=[])
    if kind == "cm":
        return Q(**{cm_field: value})
    if kind == "cms":
        return Q(**{f"{cm_field}__in": value})
    return Q(**{f"{path_field}__startswith": value})


def _scope_sql(user, *columns: tuple[str, str]) -> list[tuple[str, list[Any]]]:
    """The same scope as :func:`_scope_q`, as an SQL condition on each given (CM column, unit column) pair; the
    scope (and a manager's units) is read once for all of them.

    A manager's units are listed as values, not as a subquery on the org tree. Why: PostgreSQL guesses one row
    for ``path LIKE '/T/%'`` and, where the unit column is an expression (the report's owner of a row), joined
    that "one" unit to every shop before filtering — the center's meeting page took 84 s at 30,000 shops. A
    company has hundreds of units, not millions, so the list is short."""
    kind, value = _scope(user)
    if kind in ("all", "none"):
        return [("1 = 1" if kind == "all" else "1 = 0", [])] * len(columns)
    if kind == "cm":
        return [(f"{cm} = %s", [value]) for cm, _ in columns]
    ids = value if kind == "cms" else list(_units(value).values_list("pk", flat=True))
    if not ids:
        return [("1 = 0", [])] * len(columns)
    marks = ", ".join(["%s"] * len(ids))
    return [(f"{cm if kind == 'cms' else unit} IN ({marks})", list(ids)) for cm, unit in columns]


def _units(path: str) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(path__startswith=path).values("pk")


def _scope_shops(user) -> QuerySet[Customer] | None:
    """The scope's shops (ids), to narrow a ledger query by: with them the database reads a CM's or a unit's
    rows by the (month, customer) index instead of every shop's rows of the month (a CM's report 5x faster).
    None for everything and for the whole company (the marketing center): a lookup per shop of the company is
    slower than reading the months, and the list adds nothing."""
    kind, value = _scope(user)
    if kind in ("all", "none") or (kind == "path" and "/" not in value.strip("/")):
        return None
    if kind == "cms":
        shops = Customer.objects.filter(cm_id__in=value)
        if shops.count() * 2 > Customer.objects.count():
            return None  # most of the company (the center's scorecard): reading whole months is faster
    elif kind == "cm":
        shops = Customer.objects.filter(cm_id=value)
    else:
        shops = Customer.objects.filter(unit__in=_units(value))
    return shops.values("pk")


def visible_lines(user) -> QuerySet[ForecastLine]:
    qs = ForecastLine.objects.all()
    q = _scope_q(user, "cm_id", "unit__path")
    return qs if q is None else qs.filter(q)


def visible_ledger(user) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.select_related("customer", "spec")
    q = _scope_q(user, "customer__cm_id", "customer__unit__path")
    shops = _scope_shops(user)
    qs = qs if q is None else qs.filter(q)
    return qs if shops is None else qs.filter(customer_id__in=shops)


def latest_ledger_month(user, upto: dt.date | None = None) -> dt.date | None:
    """The last month of the ledger in the user's scope, not after ``upto`` (None: no such month) — the API's
    default page. With ``upto`` = this month it is the month the ledger page shows, not next month's balanced
    quantities (a ledger row of the target month exists as soon as balancing has run)."""
    # a scope without a single shop in the ledger (another industry's managers) would read the whole ledger
    q = _scope_q(user, "cm_id", "unit__path")
    shops = Customer.objects.filter(Exists(LedgerEntry.objects.filter(customer=OuterRef("pk"))))
    if not (shops if q is None else shops.filter(q)).exists():
        return None
    # Month by month from the newest, each an index lookup: is there a row of the scope in it? Why: MAX(month)
    # over the scope's join is answered by SQLite from the month index's end, but PostgreSQL joined the whole
    # ledger first (1.1-1.8 s for the center at 30,000 shops, on the ledger and catalogue pages).
    q = _scope_q(user, "customer__cm_id", "customer__unit__path")
    entries = LedgerEntry.objects.all() if q is None else LedgerEntry.objects.filter(q)
    months = LedgerEntry.objects.all() if upto is None else LedgerEntry.objects.filter(month__lte=upto)
    while (month := months.aggregate(m=Max("month"))["m"]) is not None:
        if entries.filter(month=month).exists():
            return month
        months = LedgerEntry.objects.filter(month__lt=month)
    return None


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


def _scope_mask(user, cm: pd.Series, unit: pd.Series) -> pd.Series:
    """Which (CM, unit) pairs are in the user's scope: :func:`_scope_q` on plain columns."""
    kind, value = _scope(user)
    if kind == "all":
        return pd.Series(True, index=cm.index)
    if kind == "none":
        return pd.Series(False, index=cm.index)
    if kind == "cm":
        return cm == value
    if kind == "cms":
        return cm.isin(value)
    return unit.isin(set(_units(value).values_list("pk", flat=True)))


def report_frame(user, targets: list[dt.date]) -> pd.DataFrame:
    """Forecast lines of the rounds for ``targets`` joined (outer) with the ledger of the same months.

    A shop that ordered a spec nobody forecast counts with forecast 0; a forecast line whose shop ordered
    nothing counts with demand 0 — but only for months whose ledger exists (a month still running is left out)
    and that had a round (the ledger goes back years before the first forecast).

    Whose a ledger row is (its CM and unit, for the scope and the groups): its forecast line's, else those the
    round gave the shop (the CM and unit of its line of the lowest spec id in that round), else the shop's
    today. Why: a territory redesign or a reassignment moves shops between CMs; their past months stay with the
    CM who forecast them — his accuracy does not lose his forecasts' outcomes, and the new CM's does not gain
    orders he never forecast.
    Columns: month, customer, spec, cm_key, unit and the formula columns of ``metrics.COLUMNS``.
    """
    targets = list(Round.objects.filter(target__in=targets).values_list("target", flat=True))
    kind, _ = _scope(user)
    shops = _scope_shops(user)
    every_line = ForecastLine.objects.all()
    ledger_qs = LedgerEntry.objects.filter(demand__isnull=False)
    if kind == "none":
        every_line, ledger_qs = every_line.none(), ledger_qs.none()
    elif shops is not None:
        line_shops = visible_lines(user).filter(round__target__in=targets).order_by().values("customer_id")
        candidates = shops.order_by().union(line_shops)
        every_line = every_line.filter(customer_id__in=candidates)
        ledger_qs = ledger_qs.filter(customer_id__in=candidates)
    lines = pd.DataFrame(
        _by_month(
            every_line,
            "round__target",
            targets,
            [
                "id",
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
        columns=["month", "id", "customer", "spec", "cm_key", "unit", "forecast", "cm", "self", "model", "balanced"],
    )
    ledger = pd.DataFrame(
        _by_month(
            ledger_qs,
            "month",
            targets,
            ["customer_id", "spec_id", "customer__cm_id", "customer__unit_id", "demand", "supplied", "sold", "stock"],
        ),
        columns=["month", "customer", "spec", "cm_l", "unit_l", "demand", "supplied", "sold", "stock"],
    )
    # whose each ledger row is: its line's (a line without a CM: the shop's today), else the shop's line of the
    # round, else the shop's today
    own = lines[["month", "customer", "spec", "cm_key", "unit"]].rename(columns={"cm_key": "cm_f", "unit": "unit_f"})
    own["has_line"] = True
    first = lines.sort_values("spec").drop_duplicates(["month", "customer"])[["month", "customer", "cm_key", "unit"]]
    first = first.rename(columns={"cm_key": "cm_s", "unit": "unit_s"})
    ledger = ledger.merge(own, on=["month", "customer", "spec"], how="left").merge(
        first, on=["month", "customer"], how="left"
    )
    has_line = ledger["has_line"].eq(True)
    for col, line_col, shop_col in (("cm_l", "cm_f", "cm_s"), ("unit_l", "unit_f", "unit_s")):
        ids = pd.to_numeric(ledger[line_col], errors="coerce").where(
            has_line, pd.to_numeric(ledger[shop_col], errors="coerce")
        )
        ledger[col] = ids.fillna(pd.to_numeric(ledger[col], errors="coerce"))
    ledger = ledger[_scope_mask(user, ledger["cm_l"], ledger["unit_l"])].drop(
        columns=["cm_f", "unit_f", "cm_s", "unit_s", "has_line"]
    )
    lines = lines[_scope_mask(user, lines["cm_key"], lines["unit"])].drop(columns=["id"])
    lines = lines[lines["month"].isin(set(ledger["month"]))]
    df = lines.merge(ledger, on=["month", "customer", "spec"], how="outer")
    for col, other in (("cm_key", "cm_l"), ("unit", "unit_l")):
        ids = pd.to_numeric(df[col], errors="coerce").fillna(pd.to_numeric(df[other], errors="coerce"))
        df[col] = ids.fillna(-1).astype(int)
    for col in ("forecast", "cm", "self", "model", "demand", "supplied", "sold", "stock"):
        df[col] = df[col].astype(float).fillna(0.0)
    df["balanced"] = df["balanced"].astype(float).fillna(df["forecast"])
    return df.drop(columns=["cm_l", "unit_l"])


# the columns of ``metrics.COLUMNS`` in the report's SQL: ``fl`` a forecast line (NULL for a ledger row nobody
# forecast), ``e`` a ledger row (absent for a line whose shop has no ledger row: its columns are 0 then)
_LINE_SQL = {
    "forecast": "COALESCE(fl.merged_qty, 0)",
    "cm": "COALESCE(fl.cm_qty, 0)",
    "self": "COALESCE(fl.self_qty, 0)",
    "model": "COALESCE(fl.model_qty, 0)",
    "balanced": "COALESCE(fl.balanced_qty, fl.merged_qty, 0)",
}
_LEDGER_SQL = {c: f"COALESCE(e.{c}, 0)" for c in ("demand", "supplied", "sold", "stock")}


def _owner_sql(column: str, line_table: str) -> str:
    """Whose a ledger row ``e`` is (its CM or unit, ``column``): its line's (``al``; a line without one: the
    shop's ``c`` today), else the shop's line of round ``r`` of the lowest spec id (the unique index's order,
    so one index step; not MIN(id), which SQLite answers by walking the round's every line), else the shop's
    today. The round's line is a subquery inside CASE so that the database looks it up only for the few rows
    nobody forecast; as a join PostgreSQL computed it for every ledger row (1.1 M index probes for a market
    manager's four months at 30,000 shops)."""
    first = (
        f"(SELECT f2.{column} FROM {line_table} f2 WHERE f2.round_id = r.id AND f2.customer_id = e.customer_id"
        " ORDER BY f2.spec_id LIMIT 1)"
    )
    return (
        f"CASE WHEN al.id IS NOT NULL THEN COALESCE(al.{column}, c.{column}, -1)"
        f" ELSE COALESCE({first}, c.{column}, -1) END"
    )


def _key_sql(key: str, line_table: str) -> tuple[str, str]:
    """A group key column for a ledger row (with or without its line; ``al`` the row's line whoever's it is)
    and for a line without a ledger row (``fl``)."""
    if key == "spec":
        return "e.spec_id", "fl.spec_id"
    column = {"cm_key": "cm_id", "unit": "unit_id"}[key]
    return _owner_sql(column, line_table), ("COALESCE(fl.cm_id, -1)" if key == "cm_key" else "fl.unit_id")


REPORT_BASE_TERMS = ("forecast", "demand", "supplied", "balanced")


def _terms_sql(terms: list[str]) -> tuple[list, list] | None:
    """Each term as SQL for a ledger row (with its line or not) and for a line without a ledger row;
    None when one cannot be summed exactly by the database (``metrics.to_sql``)."""
    sqlite = connection.vendor == "sqlite"
    least, greatest = ("MIN", "MAX") if sqlite else ("LEAST", "GREATEST")

    # 64-bit row arithmetic everywhere (SQLite's integers are; PostgreSQL's integer columns are 32-bit)
    def wide(sql: str) -> str:
        return sql if sqlite else f"CAST({sql} AS BIGINT)"

    with_ledger = {c: wide(x) for c, x in {**_LINE_SQL, **_LEDGER_SQL}.items()}
    line_only = {**with_ledger, **dict.fromkeys(_LEDGER_SQL, "0")}
    a = [metrics.to_sql(t, with_ledger, least, greatest) for t in terms]
    b = [metrics.to_sql(t, line_only, least, greatest) for t in terms]
    if None in a or None in b:
        return None
    return a, b


def _customers_with_lines_sql(user, customer_column: str, targets: list[dt.date]) -> tuple[str, list[Any]]:
    """The prefilter of the report's ledger rows: the shops of the user's scope today (:func:`_scope_shops`)
    and the shops of the forecast lines he sees in the rounds of ``targets`` — a shop that has since moved to
    another CM still brings its ledger to its forecasts. ``1 = 1`` where the scope reads whole months.

    PostgreSQL gets the shops as one array of ids: given the subquery it guessed 20 times too many shops and read
    every ledger row and line of the months before narrowing them (a CM's six months 0.8 s at 30,000 shops).
    SQLite, which plans the subquery well and caps the number of parameters, keeps it."""
    shops = _scope_shops(user)
    if shops is None:
        return "1 = 1", []
    lines = visible_lines(user).filter(round__target__in=targets).order_by().values("customer_id")
    if connection.vendor == "postgresql":
        ids = set(shops.values_list("pk", flat=True)) | set(lines.distinct().values_list("customer_id", flat=True))
        return f"{customer_column} = ANY(%s)", [sorted(ids)]
    sql, params = shops.order_by().query.sql_with_params()
    line_sql, line_params = lines.query.sql_with_params()
    return f"{customer_column} IN ({sql} UNION {line_sql})", [*params, *line_params]


def report_sums(user, targets: list[dt.date], terms: list[str], keys: list[str]) -> pd.DataFrame | None:
    """The rows of :func:`report_frame` summed in the database per month and ``keys`` (of ``cm_key``, ``unit``,
    ``spec``), one column per term (a summed expression of ``metrics.sum_terms``); None when a term cannot
    be summed exactly in SQL (a division, a fractional constant) — :func:`report_frame` then.

    Same rows, same rules: the ledger rows of the months with a round (demand known) attributed as
    :func:`report_frame` says and in the user's scope, each with its forecast line, then the lines in his
    scope that found no ledger row — only in months whose ledger exists in his scope. One grouped query
    instead of reading 100,000s of rows into pandas; the second (lines without a ledger row) runs only when
    the first did not match every line.
    """
    sql = _terms_sql(terms)
    if sql is None:
        return None
    with_ledger, line_only = sql
    columns = ["month", *keys, *terms]
    targets = list(Round.objects.filter(target__in=targets).values_list("target", flat=True))
    if not targets:
        return pd.DataFrame(columns=columns)
    qn = connection.ops.quote_name
    ledger, line = qn(LedgerEntry._meta.db_table), qn(ForecastLine._meta.db_table)
    customer, round_ = qn(Customer._meta.db_table), qn(Round._meta.db_table)
    key_sql = {k: _key_sql(k, line) for k in ("cm_key", "unit", *keys)}
    (line_scope, line_params), (row_scope, row_params) = _scope_sql(
        user, ("fl.cm_id", "fl.unit_id"), (key_sql["cm_key"][0], key_sql["unit"][0])
    )
    shops, shop_params = _customers_with_lines_sql(user, "e.customer_id", targets)
    group = ", ".join(str(k) for k in range(1, len(keys) + 2))
    n = len(keys)
    query = f"""
        SELECT e.month, {", ".join(key_sql[k][0] for k in keys)}, COUNT(fl.id),
            {", ".join(f"SUM({x})" for x in with_ledger)}
        FROM {ledger} e
        JOIN {customer} c ON c.id = e.customer_id
        JOIN {round_} r ON r.target = e.month
        LEFT JOIN {line} al ON al.round_id = r.id AND al.customer_id = e.customer_id AND al.spec_id = e.spec_id
        LEFT JOIN {line} fl ON fl.id = al.id AND {line_scope}
        WHERE e.month IN ({", ".join(["%s"] * len(targets))}) AND e.demand IS NOT NULL AND {row_scope}
            AND {shops}
        GROUP BY {group}"""
    with connection.cursor() as cursor:
        cursor.execute(query, [*line_params, *targets, *row_params, *shop_params])
        rows = cursor.fetchall()
    out = [(_date(r[0]), *r[1 : 1 + n], *r[2 + n :]) for r in rows]
    matched = sum(r[1 + n] for r in rows)
    months = sorted({r[0] for r in out})  # the months whose ledger exists in the user's scope
    if months and visible_lines(user).filter(round__target__in=months).count() > matched:
        # a line's ledger row, wherever its shop is now, was counted above with the line (it is the line's)
        query = f"""
            SELECT r.target, {", ".join(key_sql[k][1] for k in keys)}, {", ".join(f"SUM({x})" for x in line_only)}
            FROM {line} fl
            JOIN {round_} r ON r.id = fl.round_id
            WHERE r.target IN ({", ".join(["%s"] * len(months))}) AND {line_scope} AND NOT EXISTS (
                SELECT 1 FROM {ledger} e
                WHERE e.customer_id = fl.customer_id AND e.spec_id = fl.spec_id AND e.month = r.target
                    AND e.demand IS NOT NULL)
            GROUP BY {group}"""
        with connection.cursor() as cursor:
            cursor.execute(query, [*months, *line_params])
            out += [(_date(r[0]), *r[1:]) for r in cursor.fetchall()]
    df = pd.DataFrame(out, columns=columns)
    for k in keys:
        df[k] = df[k].astype(int)
    for t in terms:
        df[t] = df[t].astype(float)
    return df


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


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
    defs = metric_definitions()
    terms = list(REPORT_BASE_TERMS)
    for d in defs:
        terms += [t for t in metrics.sum_terms(d["formula"]) if t not in terms]
    key = {"cm": "cm_key", "department": "unit", "price_class": "spec"}.get(by, by)
    df = report_sums(user, targets, terms, [key])
    summed = df is not None
    if df is None:
        df = report_frame(user, targets)
    months = sorted(set(df["month"])) if len(df) else []
    if not months:
        return {"months": [], "rows": [], "totals": [], "metrics": defs, "by": by}
    if by == "department":
        parents = dict(OrgUnit.objects.filter(kind="unit").values_list("pk", "parent__parent_id"))
        df["department"] = df["unit"].map(lambda u: parents.get(u, -1))
    elif by == "price_class":
        df["price_class"] = df["spec"].map(dict(Spec.objects.values_list("pk", "price_class")))
    by_col = "cm_key" if by == "cm" else by
    values = {d["code"]: metrics.evaluate(d["formula"], df, [by_col, "month"], summed) for d in defs}
    totals_by_month = {d["code"]: metrics.evaluate(d["formula"], df, ["month"], summed) for d in defs}
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
