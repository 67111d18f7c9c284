"""The product catalog as plain data objects, parsed from the telecom policy files ``catalog*.toml``.

The same parser serves the command line (straight from the files, no database) and the web application (from
the administrator's copy in the database, see ``kejing.catalog.services``), so a quote is computed the same way
everywhere. A malformed entry raises ``CatalogError`` naming the product, the package and the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kejing.core.policy import DEFAULT_POLICY_DIR, load_policy

from .money import to_decimal

BASES = ("enterprise", "users", "stores", "columns", "hotline_users")
PERIODS = ("month", "year")
SLA_LEVELS = ("standard", "urgent", "extra_urgent")
RATE_UNITS = {"KB": Decimal(1024)}  # a rate quoted per KB of a meter counted in MB (1 MB = 1024 KB)


class CatalogError(ValueError):
    """A catalog entry is malformed; the message names where."""


@dataclass(frozen=True)
class Fee:
    label: str
    amount: Decimal
    per: str = "enterprise"
    period: str = "month"


@dataclass(frozen=True)
class Allowance:
    meters: tuple[str, ...]
    amount: Decimal
    per: str = "enterprise"


@dataclass(frozen=True)
class Package:
    code: str
    name: str
    group: str = "main"
    fees: tuple[Fee, ...] = ()
    allowances: tuple[Allowance, ...] = ()
    rates: dict[str, Decimal] = field(default_factory=dict)
    rate_units: dict[str, str] = field(default_factory=dict)
    meter_caps: dict[str, Decimal] = field(default_factory=dict)
    cap: tuple[Decimal, str] | None = None
    limits: dict[str, Decimal] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    zone: str = ""
    note: str = ""


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    required: bool = True
    trigger: str = ""


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    name_en: str
    category: str
    status: str
    source: str
    packages: tuple[Package, ...]
    groups: tuple[Group, ...]
    sla: dict[str, int]
    sla_note: str = ""
    project_days: dict[str, Any] = field(default_factory=dict)
    one_time_fees: tuple[dict[str, Any], ...] = ()
    tariff_note: str = ""
    price_table: str = ""
    required_inputs: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceTable:
    code: str
    bandwidths: tuple[Decimal, ...]
    zones: dict[str, tuple[Decimal, ...]]
    zone_labels: dict[str, str]


@dataclass
class Catalog:
    products: dict[str, Product]
    meters: dict[str, dict[str, str]]
    categories: dict[str, str]
    price_tables: dict[str, PriceTable]
    versions: dict[str, str] = field(default_factory=dict)
    effective_from: dt.date | None = None
    features: dict[str, str] = field(default_factory=dict)

    def find(self, text: str) -> Product:
        """A product by code (any case) or exact / unique partial name; raises ``CatalogError`` otherwise."""
        text = (text or "").strip()
        if text.upper() in self.products:
            return self.products[text.upper()]
        exact = [p for p in self.products.values() if text in (p.name, p.name_en)]
        if len(exact) == 1:
            return exact[0]
        partial = [p for p in self.products.values() if text and (text in p.name or text.lower() in p.name_en.lower())]
        if len(partial) == 1:
            return partial[0]
        if partial:
            names = ", ".join(f"{p.code} {p.name}" for p in partial)
            raise CatalogError(f"'{text}' 对应多个产品 / matches several products: {names}")
        raise CatalogError(f"没有产品 '{text}' / no product '{text}'")


def _dec_map(data: dict[str, Any], where: str) -> dict[str, Decimal]:
    return {k: to_decimal(v, f"{where}.{k}") for k, v in (data or {}).items()}


def parse_package(data: dict[str, Any], product: str, meters: dict[str, Any]) -> Package:
    where = f"{product}/{data.get('code', '?')}"
    if not data.get("code") or not data.get("name"):
        raise CatalogError(f"{where}: package needs code and name")
    fees = []
    for i, f in enumerate(data.get("fees", [])):
        per, period = f.get("per", "enterprise"), f.get("period", "month")
        if per not in BASES:
            raise CatalogError(f"{where}: fees[{i}].per '{per}' not one of {', '.join(BASES)}")
        if period not in PERIODS:
            raise CatalogError(f"{where}: fees[{i}].period '{period}' not one of {', '.join(PERIODS)}")
        fees.append(Fee(str(f.get("label", "")), to_decimal(f.get("amount"), f"{where}.fees[{i}].amount"), per, period))
    allowances = []
    for i, a in enumerate(data.get("allowances", [])):
        names = tuple(a.get("meters", ()))
        for m in names:
            if m not in meters:
                raise CatalogError(f"{where}: allowances[{i}] unknown meter '{m}'")
        per = a.get("per", "enterprise")
        if per not in BASES:
            raise CatalogError(f"{where}: allowances[{i}].per '{per}' not one of {', '.join(BASES)}")
        allowances.append(Allowance(names, to_decimal(a.get("amount"), f"{where}.allowances[{i}]"), per))
    rates = _dec_map(data.get("rates", {}), f"{where}.rates")
    for m in rates:
        if m not in meters:
            raise CatalogError(f"{where}: rates: unknown meter '{m}'")
    units = dict(data.get("rate_units", {}))
    for m, u in units.items():
        if u not in RATE_UNITS:
            raise CatalogError(f"{where}: rate_units.{m} '{u}' not one of {', '.join(RATE_UNITS)}")
    cap = None
    if data.get("cap"):
        cap = (to_decimal(data["cap"].get("amount"), f"{where}.cap"), data["cap"].get("per", "enterprise"))
    limits = _dec_map(data.get("limits", {}), f"{where}.limits")
    for key in limits:
        if not key.startswith(("min_", "max_")) or key[4:] not in meters:
            raise CatalogError(f"{where}: limits.{key}: expected min_<meter> or max_<meter>")
    return Package(
        code=str(data["code"]),
        name=str(data["name"]),
        group=str(data.get("group", "main")),
        fees=tuple(fees),
        allowances=tuple(allowances),
        rates=rates,
        rate_units=units,
        meter_caps=_dec_map(data.get("meter_caps", {}), f"{where}.meter_caps"),
        cap=cap,
        limits=limits,
        features=tuple(data.get("features", ())),
        zone=str(data.get("zone", "")),
        note=str(data.get("note", "")),
    )


def parse_product(data: dict[str, Any], meters: dict[str, Any]) -> Product:
    code = str(data.get("code", "")).upper()
    if not code or not data.get("name"):
        raise CatalogError(f"product {data.get('name', '?')}: needs code and name")
    packages = tuple(parse_package(p, code, meters) for p in data.get("packages", []))
    groups = tuple(
        Group(str(g["code"]), str(g.get("label", g["code"])), bool(g.get("required", True)), str(g.get("trigger", "")))
        for g in data.get("groups", [])
    )
    if not groups:
        groups = (Group("main", ""),)
    known = {g.code for g in groups}
    for p in packages:
        if p.group not in known:
            raise CatalogError(f"{code}/{p.code}: group '{p.group}' not declared in groups")
    sla = {k: int(v) for k, v in (data.get("sla") or {}).items()}
    for k in sla:
        if k not in SLA_LEVELS:
            raise CatalogError(f"{code}: sla.{k} not one of {', '.join(SLA_LEVELS)}")
    return Product(
        code=code,
        name=str(data["name"]),
        name_en=str(data.get("name_en", "")),
        category=str(data.get("category", "")),
        status=str(data.get("status", "commercial")),
        source=str(data.get("source", "")),
        packages=packages,
        groups=groups,
        sla=sla,
        sla_note=str(data.get("sla_note", "")),
        project_days=dict(data.get("project_days") or {}),
        one_time_fees=tuple(data.get("one_time_fees", ())),
        tariff_note=str(data.get("tariff_note", "")),
        price_table=str(data.get("price_table", "")),
        required_inputs=tuple(data.get("required_inputs", ())),
        raw=data,
    )


def parse_price_table(code: str, data: dict[str, Any]) -> PriceTable:
    bws = tuple(to_decimal(b, f"price_tables.{code}.bandwidths_mbps") for b in data.get("bandwidths_mbps", []))
    if list(bws) != sorted(set(bws)) or len(bws) < 2:
        raise CatalogError(f"price_tables.{code}: bandwidths must rise strictly and list at least two")
    zones, labels = {}, {}
    for zone, z in data.get("zones", {}).items():
        prices = tuple(to_decimal(p, f"price_tables.{code}.zones.{zone}") for p in z.get("prices", []))
        if len(prices) != len(bws):
            raise CatalogError(f"price_tables.{code}.zones.{zone}: {len(prices)} prices for {len(bws)} bandwidths")
        zones[zone] = prices
        labels[zone] = str(z.get("label", zone))
    return PriceTable(code, bws, zones, labels)


def build_catalog(documents: dict[str, dict[str, Any]]) -> Catalog:
    """Merge several catalog documents (``{"catalog": data, "catalog_office": data, …}``) into one catalog."""
    meters: dict[str, dict[str, str]] = {}
    categories: dict[str, str] = {}
    tables: dict[str, PriceTable] = {}
    features: dict[str, str] = {}
    versions: dict[str, str] = {}
    effective: list[dt.date] = []
    for name in sorted(documents):
        doc = documents[name]
        meters.update(doc.get("meters", {}))
        categories.update(doc.get("categories", {}))
        features.update(doc.get("features", {}))
        for code, t in doc.get("price_tables", {}).items():
            tables[code] = parse_price_table(code, t)
        meta = doc.get("meta", {})
        versions[name] = str(meta.get("version", ""))
        eff = meta.get("effective_from")
        if isinstance(eff, str):
            eff = dt.date.fromisoformat(eff)
        if isinstance(eff, dt.date):
            effective.append(eff)
    products: dict[str, Product] = {}
    for name in sorted(documents):
        for raw in documents[name].get("products", []):
            p = parse_product(raw, meters)
            if p.code in products:
                raise CatalogError(f"{name}: product code {p.code} appears twice")
            if p.price_table and p.price_table not in tables:
                raise CatalogError(f"{p.code}: unknown price table '{p.price_table}'")
            products[p.code] = p
    return Catalog(products, meters, categories, tables, versions, max(effective) if effective else None, features)


def catalog_documents(base: Path | None = None) -> dict[str, dict[str, Any]]:
    """The raw catalog policy files of the telecom folder, by file stem."""
    folder = Path(base or DEFAULT_POLICY_DIR) / "telecom"
    return {path.stem: load_policy("telecom", path.stem, base) for path in sorted(folder.glob("catalog*.toml"))}


def load_catalog(base: Path | None = None) -> Catalog:
    """The catalog straight from the policy files (no database): what ``kejing quote`` uses."""
    return build_catalog(catalog_documents(base))
