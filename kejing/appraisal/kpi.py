"""Scorecards (KPIs) of customer managers and teams, defined as data in ``policies/<industry>/kpi.toml``.

Why a registry of sources: each definition names the function that measures it (``source``). Forecast accuracy
and order fulfilment come from the forecasting module's rounds and sales ledger; complaints (a later module) are
already listed in the policy file and show as "not yet available" until a function is registered under their
source name with :func:`register` — adding a source is one entry, no page changes.

A source returns, per (CM, month), a numerator and a denominator; the value is their ratio (× 100 for a
percentage). A team's value is the sum of numerators over the sum of denominators, so a team card is not an
average of averages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from kejing.core.policies import get_policy
from kejing.core.policy import PolicyError
from kejing.customers.models import ChangeRequest, Customer
from kejing.org.models import Staff
from kejing.service.models import Visit

from .engine.common import month_end, quantize


@dataclass
class Tally:
    """Numerator and denominator of one measure for one CM and month, with the facts behind them."""

    num: Decimal = Decimal(0)
    den: Decimal = Decimal(0)
    detail: dict[str, list[int]] = field(default_factory=dict)  # e.g. {"A": [regular, customers]}

    def add(self, other: Tally) -> None:
        self.num += other.num
        self.den += other.den
        for k, (a, b) in other.detail.items():
            mine = self.detail.setdefault(k, [0, 0])
            mine[0] += a
            mine[1] += b


# source(cms, months, settings) -> {(staff id, month start): Tally}
Source = Callable[[Sequence[Staff], Sequence[dt.date], dict], dict[tuple[int, dt.date], Tally]]
SOURCES: dict[str, Source] = {}


def register(name: str) -> Callable[[Source], Source]:
    """Register a measuring function under a source name used by ``kpi.toml`` definitions."""

    def wrap(fn: Source) -> Source:
        SOURCES[name] = fn
        return fn

    return wrap


@dataclass(frozen=True)
class Definition:
    code: str
    zh: str
    en: str
    source: str
    unit: str
    better: str
    target: Decimal | None

    def label(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en

    @property
    def available(self) -> bool:
        return self.source in SOURCES


@dataclass(frozen=True)
class KpiPolicy:
    months_shown: int
    visit_frequency: dict[str, int]
    definitions: tuple[Definition, ...]


def kpi_policy(industry: str) -> KpiPolicy:
    """The industry's KPI definitions; an industry without its own file uses tobacco's."""
    try:
        data = get_policy(industry, "kpi")
    except PolicyError:
        data = get_policy("tobacco", "kpi")
    k = data["kpi"]
    defs = tuple(
        Definition(
            d["code"],
            d["zh"],
            d["en"],
            d["source"],
            d.get("unit", "percent"),
            d.get("better", "higher"),
            Decimal(str(d["target"])) if "target" in d else None,
        )
        for d in k["definitions"]
    )
    return KpiPolicy(int(k.get("months_shown", 6)), {t: int(n) for t, n in k.get("visit_frequency", {}).items()}, defs)


def months_back(last: dt.date, n: int) -> list[dt.date]:
    """The first days of the ``n`` months ending with ``last``'s month, oldest first."""
    out = []
    y, m = last.year, last.month
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


# ----------------------------------------------------------------------------------------------------------------
# Sources available now


@register("visits_done_vs_planned")
def visits_done(cms, months, settings):
    """Visits planned for a day of the month (cancelled ones left out) and how many of them were done."""
    out: dict[tuple[int, dt.date], Tally] = defaultdict(Tally)
    rows = (
        Visit.objects.filter(cm__in=[c.pk for c in cms], planned_for__range=(months[0], month_end(months[-1])))
        .exclude(status=Visit.Status.CANCELLED)
        .values_list("cm_id", "planned_for", "status")
    )
    for cm_id, planned, status in rows:
        t = out[(cm_id, _month(planned))]
        t.den += 1
        if status == Visit.Status.DONE:
            t.num += 1
    return out


@register("visit_regularity")
def visit_regularity(cms, months, settings):
    """Customers visited at least as often in the month as their value tier asks, of those whose tier asks for
    visits. Uses each CM's current portfolio (active customers)."""
    freq: dict[str, int] = settings["visit_frequency"]
    ids = [c.pk for c in cms]
    customers = list(
        Customer.objects.filter(cm__in=ids, status=Customer.Status.ACTIVE, value_tier__in=list(freq)).values_list(
            "pk", "cm_id", "value_tier"
        )
    )
    counts: dict[tuple[int, dt.date], int] = defaultdict(int)
    for cid, day in Visit.objects.filter(
        cm__in=ids, status=Visit.Status.DONE, visited_on__range=(months[0], month_end(months[-1]))
    ).values_list("customer_id", "visited_on"):
        counts[(cid, _month(day))] += 1
    out: dict[tuple[int, dt.date], Tally] = defaultdict(Tally)
    for m in months:
        for cid, cm_id, tier in customers:
            need = freq.get(tier, 0)
            if need <= 0:
                continue
            t = out[(cm_id, m)]
            ok = counts.get((cid, m), 0) >= need
            t.den += 1
            t.num += ok
            d = t.detail.setdefault(tier, [0, 0])
            d[0] += ok
            d[1] += 1
    return out


def _forecast_vs_ledger(cms, months, settings) -> dict[tuple[int, dt.date], dict[str, Decimal]]:
    """Per CM and month: Σdemand, Σ|merged forecast − demand| and Σsupplied over his shops × specs.

    Joined like the forecasting reports: a spec ordered but not forecast counts with forecast 0, a forecast spec
    not ordered with demand 0; only months that had a round and whose ledger has demand figures count (a running
    month is left out, and so are the ledger's years before the first round).
    The CM is the one who made the forecast (the line's ``cm``), or for unforecast orders the shop's CM.

    Two KPIs read this; a scorecard's call computes it once (``settings["memo"]``): on the whole company (65 CMs,
    six months of a 10,000-shop ledger) it is most of the page's time.
    """
    memo = settings.setdefault("memo", {})
    if "forecast_vs_ledger" not in memo:
        memo["forecast_vs_ledger"] = _join_forecast_and_ledger(cms, months)
    return memo["forecast_vs_ledger"]


def _join_forecast_and_ledger(cms, months) -> dict[tuple[int, dt.date], dict[str, Decimal]]:
    """The sums of :func:`_forecast_vs_ledger`, from the forecasting reports' own grouped query
    (``selectors.report_sums`` over the CMs' lines and their shops' ledger), so a CM's accuracy on his
    scorecard is the one the accuracy report shows. Why not in Python: reading every shop × spec × month of six
    months into dictionaries took 5.5 s of the center's scorecard on a 30,000-shop company (5.3 M ledger rows),
    3.0 s this way; a market's 3 CMs 0.89 s, 0.14 s (docs/benchmarks.md)."""
    from kejing.forecasting import selectors

    sums = selectors.report_sums(
        selectors.CmScope(c.pk for c in cms), list(months), ["demand", "abs(forecast - demand)", "supplied"], ["cm_key"]
    )
    out: dict[tuple[int, dt.date], dict[str, Decimal]] = defaultdict(
        lambda: {"demand": Decimal(0), "abs_error": Decimal(0), "supplied": Decimal(0)}
    )
    for month, cm_id, demand, abs_error, supplied in sums.itertuples(index=False):
        acc = out[(int(cm_id), month)]
        acc["demand"] += Decimal(int(demand))
        acc["abs_error"] += Decimal(int(abs_error))
        acc["supplied"] += Decimal(int(supplied))
    return out


@register("forecast_accuracy")
def forecast_accuracy(cms, months, settings):
    """预测准确率 = 1 − Σ|forecast − demand| / Σdemand: numerator Σdemand − Σ|error|, denominator Σdemand
    (the forecasting module's default formula; can go below 0 when errors exceed demand)."""
    return {
        key: Tally(num=v["demand"] - v["abs_error"], den=v["demand"])
        for key, v in _forecast_vs_ledger(cms, months, settings).items()
        if v["demand"]
    }


@register("order_fulfilment")
def order_fulfilment(cms, months, settings):
    """订单满足率 = Σsupplied / Σdemand over the CM's shops × specs in the month."""
    return {
        key: Tally(num=v["supplied"], den=v["demand"])
        for key, v in _forecast_vs_ledger(cms, months, settings).items()
        if v["demand"]
    }


@register("approval_turnaround")
def approval_turnaround(cms, months, settings):
    """Hours from a CM's change request to its final decision, for requests decided in the month."""
    out: dict[tuple[int, dt.date], Tally] = defaultdict(Tally)
    start = dt.datetime.combine(months[0], dt.time.min)
    end = dt.datetime.combine(month_end(months[-1]), dt.time.max)
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    rows = ChangeRequest.objects.filter(
        Q(status=ChangeRequest.Status.APPLIED) | Q(status=ChangeRequest.Status.REJECTED),
        requested_by__in=[c.pk for c in cms],
        closed_at__range=(timezone.make_aware(start, tz), timezone.make_aware(end, tz)),
    ).values_list("requested_by_id", "requested_at", "closed_at")
    for cm_id, asked, closed in rows:
        t = out[(cm_id, _month(timezone.localtime(closed).date()))]
        t.num += Decimal((closed - asked).total_seconds()) / 3600
        t.den += 1
    return out


# ----------------------------------------------------------------------------------------------------------------
# Cards


@dataclass
class Cell:
    value: Decimal | None
    tally: Tally

    def fmt(self, unit: str) -> str:
        if self.value is None:
            return "–"
        return f"{self.value}%" if unit == "percent" else f"{self.value} h"


def _cell(defn: Definition, t: Tally | None) -> Cell:
    if t is None or t.den == 0:
        return Cell(None, t or Tally())
    scale = 100 if defn.unit == "percent" else 1
    return Cell(quantize(t.num * scale / t.den, 1), t)


@dataclass
class Row:
    definition: Definition
    cells: list[Cell]  # one per month, oldest first

    @property
    def current(self) -> Cell:
        return self.cells[-1]

    @property
    def previous(self) -> Cell | None:
        return self.cells[-2] if len(self.cells) > 1 else None

    @property
    def change(self) -> Decimal | None:
        if self.previous is None or self.current.value is None or self.previous.value is None:
            return None
        return self.current.value - self.previous.value

    @property
    def on_target(self) -> bool | None:
        d, v = self.definition, self.current.value
        if v is None or d.target is None:
            return None
        return v >= d.target if d.better == "higher" else v <= d.target


@dataclass
class Card:
    months: list[dt.date]
    rows: list[Row]
    per_cm: dict[int, list[Row]]


def scorecards(industry: str, cms: Sequence[Staff], month: dt.date) -> Card:
    """Rows of the team (all ``cms`` together) and of each CM, for ``month`` and the months before it.

    One query or two per available source, whatever the number of CMs and months.
    """
    pol = kpi_policy(industry)
    months = months_back(month, pol.months_shown)
    settings = {"visit_frequency": pol.visit_frequency, "memo": {}}  # "memo": what sources share within this call
    team: list[Row] = []
    per_cm: dict[int, list[Row]] = {c.pk: [] for c in cms}
    for d in pol.definitions:
        data = SOURCES[d.source](cms, months, settings) if d.available and cms else {}
        team_cells = []
        for m in months:
            total = Tally()
            for c in cms:
                t = data.get((c.pk, m))
                if t is not None:
                    total.add(t)
            team_cells.append(_cell(d, total) if d.available else Cell(None, Tally()))
        team.append(Row(d, team_cells))
        for c in cms:
            per_cm[c.pk].append(
                Row(d, [_cell(d, data.get((c.pk, m))) if d.available else Cell(None, Tally()) for m in months])
            )
    return Card(months, team, per_cm)
