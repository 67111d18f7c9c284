"""The quote engine: what a product costs a customer per month under each of its packages.

Given a product and the customer's expected monthly usage (messages, minutes, MB, positionings, users, stores …)
it prices *every* package, says which ones cannot serve the customer and why, picks the cheapest eligible one
(per package group, e.g. a chain's head-office plan plus its store plan) and explains each amount line by line:
fees + overage − caps. Reading rules chosen where the manual is silent (all stated in docs/catalog.md):

- usage is the whole customer's monthly total; quotas "per user" are multiplied by the number of users, and a
  per-user cap is applied to the total as cap × users (exact when usage is spread evenly);
- a quota shared by several meters (e.g. 150 minutes for local and long-distance calls) is spent on the cheapest
  meter first, so that a quote never understates the bill;
- usage above a quota for which the source gives no overage price makes the package not eligible;
- each line is rounded half-up to the fen; the package total is the sum of its lines.

Plain Python: Decimal and Fraction arithmetic, no Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from kejing.core.workdays import CalendarError, add_working_days, estimated_years

from .catalog import RATE_UNITS, Catalog, Package, PriceTable, Product
from .money import fen, to_decimal

ZERO = Decimal("0.00")


class QuoteError(ValueError):
    """Bad quote input; ``field`` names the input at fault, the message is Chinese / English."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class QuoteRequest:
    usage: dict[str, Decimal] = field(default_factory=dict)
    zone: str = ""
    needs: tuple[str, ...] = ()
    level: str = "standard"
    start: dt.date | None = None
    with_resources: bool = True


@dataclass
class Line:
    label: str
    detail: str
    amount: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "detail": self.detail, "amount": str(self.amount)}


@dataclass
class PackageQuote:
    code: str
    name: str
    group: str
    eligible: bool
    reasons: list[str]
    lines: list[Line]
    monthly: Decimal | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "group": self.group,
            "eligible": self.eligible,
            "reasons": self.reasons,
            "monthly": None if self.monthly is None else str(self.monthly),
            "lines": [x.as_dict() for x in self.lines],
            "note": self.note,
        }


@dataclass
class ProductQuote:
    product: Product
    packages: list[PackageQuote]
    cheapest: dict[str, str]
    recommended: list[str]
    monthly: Decimal | None
    one_time: list[dict[str, Any]]
    one_time_total: Decimal
    opening: dict[str, Any]
    notes: list[str]
    usage: dict[str, Decimal]

    def package(self, code: str) -> PackageQuote:
        for p in self.packages:
            if p.code == code:
                return p
        raise KeyError(code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": {"code": self.product.code, "name": self.product.name, "name_en": self.product.name_en},
            "usage": {k: str(v) for k, v in self.usage.items()},
            "packages": [p.as_dict() for p in self.packages],
            "cheapest": self.cheapest,
            "recommended": self.recommended,
            "monthly": None if self.monthly is None else str(self.monthly),
            "one_time": self.one_time,
            "one_time_total": str(self.one_time_total),
            "opening": self.opening,
            "notes": self.notes,
        }


def _num(v: Decimal) -> str:
    """A quantity without trailing zeros: 150, 0.5, 1024."""
    text = format(v.normalize(), "f") if v == v.to_integral_value() or v.as_tuple().exponent < 0 else str(v)
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_usage(catalog: Catalog, pairs: dict[str, Any]) -> dict[str, Decimal]:
    """Validate ``{meter: value}``: known meter, a number, not negative. Raises ``QuoteError`` naming the key."""
    out: dict[str, Decimal] = {}
    for key, value in pairs.items():
        if value is None or value == "":
            continue
        if key not in catalog.meters:
            known = ", ".join(sorted(catalog.meters))
            raise QuoteError(key, f"未知的用量项 / unknown usage key (known: {known})")
        try:
            v = to_decimal(value, key)
        except ValueError as exc:
            raise QuoteError(key, f"不是数字 / not a number: {value}") from exc
        if v < 0 or not v.is_finite():
            raise QuoteError(key, f"不能为负数 / must not be negative: {value}")
        out[key] = v
    return out


def interpolate(table: PriceTable, zone: str, bandwidth: Decimal) -> tuple[Fraction, str]:
    """Monthly rent at ``bandwidth`` in ``zone``: a listed bandwidth takes its price; one in between is priced in
    proportion between its two neighbours (L1481). Exact rational result and its explanation."""
    bws, prices = table.bandwidths, table.zones[zone]
    if bandwidth < bws[0] or bandwidth > bws[-1]:
        raise QuoteError(
            "bandwidth_mbps",
            f"带宽 {_num(bandwidth)}Mbps 不在价目表 {_num(bws[0])}–{_num(bws[-1])}Mbps 范围内 / "
            f"bandwidth outside the table's range",
        )
    for i, b in enumerate(bws):
        if bandwidth == b:
            return Fraction(prices[i]), f"{_num(b)}Mbps 表列价 {_num(prices[i])}"
    hi = next(i for i, b in enumerate(bws) if b > bandwidth)
    b1, b2, p1, p2 = bws[hi - 1], bws[hi], prices[hi - 1], prices[hi]
    value = Fraction(p1) + (Fraction(p2) - Fraction(p1)) * (Fraction(bandwidth) - Fraction(b1)) / (
        Fraction(b2) - Fraction(b1)
    )
    detail = (
        f"{_num(p1)} + ({_num(p2)} − {_num(p1)}) × ({_num(bandwidth)} − {_num(b1)}) ÷ ({_num(b2)} − {_num(b1)})"
        f" [{_num(b1)}–{_num(b2)}Mbps]"
    )
    return value, detail


class _Pricer:
    """Prices one package for one request; collects lines and reasons."""

    def __init__(self, catalog: Catalog, product: Product, package: Package, req: QuoteRequest):
        self.catalog, self.product, self.pkg, self.req = catalog, product, package, req
        self.usage = req.usage
        self.lines: list[Line] = []
        self.reasons: list[str] = []
        self.unpriced = False  # some usage has no price: the total would be meaningless

    def label(self, meter: str) -> str:
        return self.catalog.meters.get(meter, {}).get("label", meter)

    def unit(self, meter: str) -> str:
        return self.catalog.meters.get(meter, {}).get("unit", "")

    def qty(self, per: str) -> Decimal:
        if per == "enterprise":
            return Decimal(1)
        if per == "users":
            return self.usage.get("users", Decimal(1))
        return self.usage.get(per, Decimal(0))

    def per_text(self, per: str) -> str:
        return "" if per == "enterprise" else f" × {_num(self.qty(per))}{self.unit(per)}"

    def run(self) -> PackageQuote:
        self.check_limits()
        self.price_fees()
        self.price_table()
        self.price_usage()
        self.apply_cap()
        eligible = not self.reasons
        total = None if self.unpriced else sum((x.amount for x in self.lines), ZERO)
        return PackageQuote(
            self.pkg.code, self.pkg.name, self.pkg.group, eligible, self.reasons, self.lines, total, self.pkg.note
        )

    def check_limits(self) -> None:
        for key, limit in self.pkg.limits.items():
            kind, meter = key[:3], key[4:]
            value = self.usage.get(meter, Decimal(1) if meter == "users" else None)
            if value is None:
                continue
            if meter == "interval_s" and value < limit:
                self.reasons.append(
                    f"要求每{_num(value)}秒定位一次,本套餐最快{_num(limit)}秒一次 / needs a {_num(value)} s "
                    f"positioning interval, this package allows {_num(limit)} s at best"
                )
            elif kind == "min" and value < limit:
                self.reasons.append(
                    f"{self.label(meter)} {_num(value)}{self.unit(meter)} 低于本套餐下限 {_num(limit)} / "
                    f"{self.catalog.meters[meter].get('label_en', meter)} {_num(value)} below the minimum {_num(limit)}"
                )
            elif kind == "max" and value > limit:
                self.reasons.append(
                    f"{self.label(meter)} {_num(value)}{self.unit(meter)} 超过本套餐上限 {_num(limit)} / "
                    f"{self.catalog.meters[meter].get('label_en', meter)} {_num(value)} above the maximum {_num(limit)}"
                )
        missing = [n for n in self.req.needs if n not in self.pkg.features]
        if missing:
            self.reasons.append(f"不含所需功能 / lacks the required feature: {', '.join(missing)}")
        if self.pkg.zone and self.req.zone and self.pkg.zone != self.req.zone:
            table = self.catalog.price_tables.get(self.product.price_table)
            label = table.zone_labels.get(self.req.zone, self.req.zone) if table else self.req.zone
            self.reasons.append(f"线路区域为“{label}” / the circuit's zone is {self.req.zone}")

    def price_fees(self) -> None:
        for f in self.pkg.fees:
            q = self.qty(f.per)
            if f.period == "year":
                amount = fen(Fraction(f.amount) * Fraction(q) / 12)
                detail = f"{_num(f.amount)}元/年{self.per_text(f.per)} ÷ 12"
            else:
                amount = fen(f.amount * q)
                detail = f"{_num(f.amount)}元{self.per_text(f.per)}"
            self.lines.append(Line(f.label or "功能费", detail, amount))

    def price_table(self) -> None:
        if not self.product.price_table or not self.pkg.zone:
            return
        table = self.catalog.price_tables[self.product.price_table]
        bw = self.usage.get("bandwidth_mbps")
        if bw is None:
            raise QuoteError("bandwidth_mbps", "请给出带宽 / bandwidth needed for this product")
        value, detail = interpolate(table, self.pkg.zone, bw)
        self.lines.append(Line("月租费", detail, fen(value)))

    def price_usage(self) -> None:
        billable: dict[str, Decimal] = {}
        meters = {m for a in self.pkg.allowances for m in a.meters} | set(self.pkg.rates)
        for m in sorted(meters):
            used = self.usage.get(m, Decimal(0))
            if m in self.pkg.meter_caps:
                ceiling = self.pkg.meter_caps[m] * self.qty("users")
                if used > ceiling:
                    self.lines.append(
                        Line(
                            f"{self.label(m)}封顶",
                            f"超过 {_num(ceiling)}{self.unit(m)} 的部分不计费 / usage above the cap is free",
                            ZERO,
                        )
                    )
                    used = ceiling
            billable[m] = used
        left = dict(billable)
        for a in self.pkg.allowances:
            pool = a.amount * self.qty(a.per)
            # cheapest meter first (one without a price first of all): the quote never understates the bill
            order = sorted(a.meters, key=lambda m: (m in self.pkg.rates, self.pkg.rates.get(m, Decimal(0))))
            for m in order:
                take = min(pool, left.get(m, Decimal(0)))
                left[m] = left.get(m, Decimal(0)) - take
                pool -= take
        for m in sorted(meters, key=lambda m: list(self.catalog.meters).index(m)):
            over = left.get(m, Decimal(0))
            if over <= 0:
                continue
            included = billable[m] - over
            if m not in self.pkg.rates:
                self.reasons.append(
                    f"{self.label(m)} {_num(billable[m])}{self.unit(m)} 超出包含量 {_num(included)},且无超出单价 / "
                    f"{self.catalog.meters[m].get('label_en', m)} above the included amount and no overage price"
                )
                self.unpriced = True
                continue
            rate = self.pkg.rates[m]
            unit = self.pkg.rate_units.get(m)
            if unit:
                factor = RATE_UNITS[unit]
                amount = fen(over * factor * rate)
                detail = f"超出 {_num(over)}{self.unit(m)} × {_num(factor)} × {_num(rate)}元/{unit}"
            else:
                amount = fen(over * rate)
                detail = f"超出 {_num(over)}{self.unit(m)} × {_num(rate)}元/{self.unit(m)}"
            if included:
                detail = f"{_num(billable[m])} − 包含 {_num(included)} = " + detail
            self.lines.append(Line(f"{self.label(m)}超出费", detail, amount))

    def apply_cap(self) -> None:
        if not self.pkg.cap:
            return
        amount, per = self.pkg.cap
        ceiling = fen(amount * self.qty(per))
        total = sum((x.amount for x in self.lines), ZERO)
        if total > ceiling:
            self.lines.append(Line("月封顶", f"封顶 {_num(amount)}元{self.per_text(per)} = {ceiling}", ceiling - total))


def opening(product: Product, req: QuoteRequest) -> dict[str, Any]:
    """When the product can be open: SLA working days for the level, else the FAQ's project lead time."""
    start = req.start or dt.date.today()
    out: dict[str, Any] = {"level": req.level, "start": start.isoformat(), "days": None, "date": None}
    try:
        if req.level in product.sla:
            days = product.sla[req.level]
            out.update(days=days, date=add_working_days(start, days).isoformat(), basis="sla")
        elif product.project_days:
            key = "with_resources" if req.with_resources else "without_resources"
            days = int(product.project_days[key])
            out.update(days=days, date=add_working_days(start, days).isoformat(), basis=key)
    except CalendarError as exc:  # a start before the calendar: the caller's field, not a server error
        raise QuoteError("start", str(exc)) from exc
    out["note"] = product.sla_note or str(product.project_days.get("note", ""))
    if out["date"]:
        # a year whose holiday schedule is not installed yet is counted from its statutory holidays (workdays.py)
        years = estimated_years(start, dt.date.fromisoformat(out["date"]))
        out["estimated"] = bool(years)
        if years:
            y = "、".join(str(x) for x in years)
            out["calendar_note"] = (
                f"{y} 年节假日安排尚未收录,按法定节假日估算,未计调休上班日 / the {y} holiday schedule is not "
                "installed yet: estimated from the statutory holidays, without make-up working days"
            )
    return out


def quote_product(catalog: Catalog, product: Product, req: QuoteRequest) -> ProductQuote:
    """Price every package of ``product`` for ``req``; see the module docstring for the rules."""
    if req.level not in ("standard", "urgent", "extra_urgent"):
        raise QuoteError("level", "应为 standard / urgent / extra_urgent / must be standard, urgent or extra_urgent")
    unknown = [n for n in req.needs if catalog.features and n not in catalog.features]
    if unknown:
        raise QuoteError(
            "need", f"未知功能 / unknown feature: {', '.join(unknown)} (known: {', '.join(catalog.features)})"
        )
    for key in product.required_inputs:
        if key not in req.usage:
            label = catalog.meters.get(key, {}).get("label", key)
            raise QuoteError(key, f"{product.name}报价需要{label} / {product.name_en} needs '{key}'")
    if product.price_table and "bandwidth_mbps" not in req.usage:
        raise QuoteError("bandwidth_mbps", "请给出带宽 / bandwidth needed for this product")
    if req.zone and product.price_table and req.zone not in catalog.price_tables[product.price_table].zones:
        zones = ", ".join(catalog.price_tables[product.price_table].zones)
        raise QuoteError("zone", f"未知区域 / unknown zone '{req.zone}' (known: {zones})")
    results = [_Pricer(catalog, product, pkg, req).run() for pkg in product.packages]
    cheapest: dict[str, str] = {}
    for group in product.groups:
        ok = [r for r in results if r.group == group.code and r.eligible]
        if ok:
            cheapest[group.code] = min(ok, key=lambda r: r.monthly).code  # min keeps the first on ties
    notes = list(product.raw.get("notes", []))
    if product.tariff_note:
        notes.insert(0, product.tariff_note)
    recommended: list[str] = []
    monthly: Decimal | None = None
    if results:
        monthly = ZERO
        for group in product.groups:
            wanted = group.required or (group.trigger and req.usage.get(group.trigger, Decimal(0)) > 0)
            if not wanted or not any(r.group == group.code for r in results):
                continue
            if group.code not in cheapest:
                monthly = None
                notes.append(f"“{group.label or product.name}”没有可用套餐 / no eligible package in {group.code}")
                break
            recommended.append(cheapest[group.code])
            monthly += next(r.monthly for r in results if r.code == cheapest[group.code])
    one_time = []
    one_total = ZERO
    for f in product.one_time_fees:
        amount = f.get("amount")
        value = None if amount is None else fen(to_decimal(amount, "one_time_fees"))
        if value is not None:
            one_total += value
        one_time.append(
            {"label": f.get("label", ""), "amount": None if value is None else str(value), "note": f.get("note", "")}
        )
    return ProductQuote(
        product, results, cheapest, recommended, monthly, one_time, one_total, opening(product, req), notes, req.usage
    )


def quote(catalog: Catalog, product: str, usage: dict[str, Any] | None = None, **kw: Any) -> ProductQuote:
    """Convenience: ``quote(cat, "车务通", {"users": 10, "positionings": 200000, "interval_s": 120})``."""
    p = catalog.find(product)
    return quote_product(catalog, p, QuoteRequest(usage=parse_usage(catalog, usage or {}), **kw))
