"""Catalog package → bill-run package: one price list for quoting and for billing.

The product catalog (``kejing.catalog.engine.catalog``) describes a package the way a customer manager quotes it:
fees with a basis (per enterprise, per user, per store …) and a period, included quotas, overage prices, caps.
The bill run (``billing.py``) needs the same package as fixed charges per group user or per member, usage rates
with a pool, and a bill item A–J for every amount. This module translates one into the other, and refuses — with
the reason — whatever it cannot translate faithfully, so that no catalog package is ever billed at a made-up 0.

Readings (all in docs/groupbiz.md, "Catalog packages in the bill run"):

* fee basis ``enterprise`` → once per group user; ``users`` → once per member of the group user; any other
  basis (stores, columns, hotline subscribers) has no counterpart in the account model → not billable;
* fee period ``year`` → the whole yearly fee in the month it falls due (opening month, then every 12 months);
* bill item of a fee by its label, of usage by its meter (``[catalog]`` of ``groupbiz.toml``); an unmapped
  label or meter → not billable;
* a quota per enterprise is pooled over the group user, a quota per user is per member; a meter with a price
  and no quota is pooled per member when the package is sold per user, else per group user;
* a quota shared by several meters (移动管家's 150 minutes) → not billable (the engine has one quota per kind);
* a price per KB of a meter counted in MB is billed per MB at 1024 × the price, exactly as the quote does;
* ``meter_caps`` (usage above it per user is free) → the rate's ``max_units`` per member; a monthly ``cap``
  per user → the package's ``member_cap_fen``; a cap per enterprise → not billable;
* a quota without an overage price → usage above it is not billed and is reported as unpriced usage;
* a package priced from a bandwidth table (无线宽带), or with no fee and no rate at all → not billable;
* technical limits and features decide eligibility when quoting; they do not change a bill and are ignored.

Plain Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kejing.catalog.engine.catalog import RATE_UNITS, Catalog, Product
from kejing.catalog.engine.catalog import Package as CatalogPackage

from .billing import ITEMS, BillError, Fixed, Package, Rate, to_rate

BASIS = {"enterprise": "group_user", "users": "member"}


class NotBillable(ValueError):
    """The package cannot be billed as the catalog states it; the message (Chinese / English) says why."""


@dataclass(frozen=True)
class ItemMap:
    """Bill item of each catalog fee label and of each usage meter (``[catalog]`` in ``groupbiz.toml``)."""

    fees: dict[str, str] = field(default_factory=dict)
    usage: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, data: dict[str, Any]) -> ItemMap:
        cat = data.get("catalog", {})
        fees, usage = dict(cat.get("fee_items", {})), dict(cat.get("usage_items", {}))
        for where, table in (("fee_items", fees), ("usage_items", usage)):
            for key, item in table.items():
                if item not in ITEMS or len(item) != 1:
                    raise BillError(f"[catalog.{where}] {key} = {item}: 账目项应为 A-J / bill item must be A-J")
        return cls(fees, usage)


@dataclass(frozen=True)
class Unbillable:
    product: str
    code: str
    name: str
    reason: str


def display_name(product: Product, package: CatalogPackage) -> str:
    """The package name with its product's in front unless it already says it (标准版 → 企业建站 标准版)."""
    return package.name if product.name in package.name else f"{product.name} {package.name}"


def _fen(amount: Decimal, where: str) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise NotBillable(f"{where} 金额 {amount} 不是整分 / {where}: amount {amount} is not a whole fen")
    return int(cents)


def package_from_catalog(
    product: Product, package: CatalogPackage, items: ItemMap, labels: dict[str, str] | None = None
) -> Package:
    """The bill run's package for one catalog package; raises :class:`NotBillable` with the reason.
    ``labels`` (meter → Chinese label) only make the reasons readable."""
    labels = labels or {}
    if product.price_table or package.zone:
        raise NotBillable(
            "月租按带宽从价目表查得,集团用户没有记录带宽 / the rent comes from the bandwidth price table and a group "
            "user records no bandwidth"
        )
    if not package.fees and not package.rates and not package.allowances:
        raise NotBillable("手册没有给出该套餐的价格 / the manual gives no price for this package")
    fixed = []
    for f in package.fees:
        if f.label not in items.fees:
            raise NotBillable(
                f"费用“{f.label}”没有对应的账目项 / fee '{f.label}' has no bill item in [catalog.fee_items]"
            )
        if f.per not in BASIS:
            raise NotBillable(
                f"费用“{f.label}”按{labels.get(f.per, f.per)}计收,集团用户中没有这一数量 / fee '{f.label}' is "
                f"charged per {f.per}, "
                "which a group user does not record"
            )
        fixed.append(Fixed(items.fees[f.label], _fen(f.amount, f.label), BASIS[f.per], f.period))
    per_user = any(f.per == "users" for f in package.fees) or any(a.per == "users" for a in package.allowances)
    quota: dict[str, tuple[int, str]] = {}
    for a in package.allowances:
        if len(a.meters) > 1:
            raise NotBillable(
                f"{'、'.join(a.meters)} 共用一个包含量,出账引擎每种用量只有一个包含量 / one quota shared by "
                f"{', '.join(a.meters)}: the bill run has one quota per usage kind"
            )
        meter = a.meters[0]
        if meter in quota:
            raise NotBillable(f"{meter} 有两个包含量 / two quotas for {meter}")
        if a.per not in BASIS:
            raise NotBillable(
                f"{meter} 的包含量按{labels.get(a.per, a.per)}计,集团用户中没有这一数量 / a quota per {a.per}, which "
                "a group user does not record"
            )
        if a.amount != a.amount.to_integral_value():
            raise NotBillable(f"{meter} 的包含量 {a.amount} 不是整数 / quota {a.amount} is not a whole number")
        quota[meter] = (int(a.amount), BASIS[a.per])
    meters = list(quota) + [m for m in package.rates if m not in quota]
    usage = []
    for meter in meters:
        if meter not in items.usage:
            raise NotBillable(
                f"用量 {meter} 没有对应的账目项 / usage {meter} has no bill item in [catalog.usage_items]"
            )
        included, pool = quota.get(meter, (0, "member" if per_user else "group_user"))
        rate_e4 = -1
        if meter in package.rates:
            rate = package.rates[meter]
            unit = package.rate_units.get(meter)
            if unit:
                rate = rate * RATE_UNITS[unit]
            try:
                rate_e4 = to_rate(rate)
            except BillError as exc:
                raise NotBillable(str(exc)) from exc
        max_units = -1
        if meter in package.meter_caps:
            if pool != "member":
                raise NotBillable(
                    f"{meter} 的用量封顶按用户计,但用量按集团共享 / a per-user usage cap on a pooled quota"
                )
            ceiling = package.meter_caps[meter]
            if ceiling != ceiling.to_integral_value():
                raise NotBillable(f"{meter} 的用量封顶 {ceiling} 不是整数 / usage cap {ceiling} is not a whole number")
            max_units = int(ceiling)
        usage.append(Rate(meter, included, rate_e4, items.usage[meter], pool, max_units))
    member_cap = -1
    if package.cap:
        amount, per = package.cap
        if per != "users":
            raise NotBillable(
                f"月封顶按{per}计,出账只支持按用户封顶 / a monthly cap per {per}: only a cap per user is billed"
            )
        member_cap = _fen(amount, "cap")
        if sum(f.amount_fen for f in fixed if f.basis == "member") > member_cap or any(
            f.period == "year" for f in fixed if f.basis == "member"
        ):
            raise NotBillable("月封顶低于按用户的固定费 / the monthly cap is below the per-user fixed fees")
    return Package(package.code, product.code, display_name(product, package), tuple(fixed), tuple(usage), member_cap)


def packages_from_catalog(catalog: Catalog, items: ItemMap) -> tuple[dict[str, Package], list[Unbillable]]:
    """Every catalog package the bill run can price, by code, and every one it cannot, with the reason."""
    out: dict[str, Package] = {}
    refused: list[Unbillable] = []
    labels = {m: str(v.get("label", m)) for m, v in catalog.meters.items()}
    for product in catalog.products.values():
        for pkg in product.packages:
            try:
                out[pkg.code] = package_from_catalog(product, pkg, items, labels)
            except NotBillable as exc:
                refused.append(Unbillable(product.code, pkg.code, display_name(product, pkg), str(exc)))
    return out, refused
